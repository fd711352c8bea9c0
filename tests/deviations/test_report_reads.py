"""The report page's reads of one report's rows (compiled once per process, config/compiled.py) give what
the report's related managers give, for each report, and the counterpart role follows the open
requests."""

import pytest
from django.utils import timezone

from deviations import selectors
from deviations.models import DeviationEvent
from deviations.workflow import Role
from tests.factories import (
    CouncilFactory,
    CouncilMembershipFactory,
    DeviationEventFactory,
    DeviationFactory,
    OrganizationFactory,
    ResponseRequestFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _fields(objects):
    return [{f.attname: getattr(o, f.attname) for f in type(o)._meta.concrete_fields} for o in objects]


def test_each_reports_rows_are_those_of_its_related_managers():
    first, second = CouncilFactory(), CouncilFactory()
    reports = [
        DeviationFactory(counterparts=[OrganizationFactory(name="Ö"), OrganizationFactory(name="A")]),
        DeviationFactory(counterparts=[]),
    ]
    report = reports[0]
    actor = UserFactory()
    DeviationEventFactory(deviation=report, actor=actor)
    DeviationEventFactory(
        deviation=report,
        kind=DeviationEvent.Kind.TRANSITION,
        from_council=first,
        to_council=second,
        actor=None,
    )
    DeviationEventFactory(deviation=reports[1])
    ResponseRequestFactory.create_batch(2, deviation=report)
    DeviationFactory.create_batch(2, duplicate_of=report)

    for deviation in reports:
        counterparts = selectors.report_counterparts(deviation)
        events = selectors.report_events(deviation)
        requests = selectors.report_response_requests(deviation)
        duplicates = selectors.report_duplicates(deviation)

        assert _fields(counterparts) == _fields(deviation.counterpart_organizations.all())
        assert _fields(events) == _fields(deviation.events.order_by("created_at", "id"))
        assert [(e.actor, e.from_council, e.to_council) for e in events] == [
            (e.actor, e.from_council, e.to_council) for e in deviation.events.order_by("created_at", "id")
        ]
        assert _fields(requests) == _fields(deviation.response_requests.order_by("requested_at", "pk"))
        assert [(r.organization.name, r.requested_by.username) for r in requests] == [
            (r.organization.name, r.requested_by.username)
            for r in deviation.response_requests.order_by("requested_at", "pk")
        ]
        assert sorted(d.reference for d in duplicates) == sorted(
            d.reference for d in deviation.duplicates.all()
        )
        assert all(e.deviation is deviation for e in events)
    assert [o.name for o in selectors.report_counterparts(report)] == ["A", "Ö"]
    assert len(selectors.report_events(report)) == 2


def test_the_report_reads_make_one_statement_each(django_assert_num_queries):
    report = DeviationFactory()
    DeviationEventFactory.create_batch(3, deviation=report, actor=UserFactory())
    ResponseRequestFactory(deviation=report)
    for read in (
        selectors.report_counterparts,
        selectors.report_events,
        selectors.report_response_requests,
        selectors.report_duplicates,
    ):
        with django_assert_num_queries(1):
            rows = read(report)
        with django_assert_num_queries(0):  # related rows came with them
            for row in rows:
                for name in ("actor", "organization", "requested_by", "from_council", "to_council"):
                    getattr(row, name, None)


def test_an_organisation_is_a_counterpart_while_its_request_is_open():
    organization = OrganizationFactory()
    responder = UserFactory(organization=organization)
    request = ResponseRequestFactory(organization=organization)
    other = ResponseRequestFactory(deviation=request.deviation)

    assert Role.COUNTERPART in selectors.roles_for(responder, request.deviation)
    assert Role.COUNTERPART not in selectors.roles_for(
        UserFactory(organization=other.organization), DeviationFactory()
    )

    request.answered_at = timezone.now()
    request.save(update_fields=["answered_at"])
    assert Role.COUNTERPART not in selectors.roles_for(responder, request.deviation)


def test_the_compiled_choice_digests_are_those_of_the_choices_querysets_and_follow_a_change():
    from councils.models import CouncilMembership
    from deviations.forms_triage import AssignForm, LinkToIssueForm
    from deviations.workflow import Status
    from tests.factories import RegionalCouncilFactory, SystemicIssueFactory

    def queryset_digest(field):
        import copy

        plain = copy.copy(field)
        plain.digest_of_queryset = None  # the digest of the field's own queryset
        return plain.choices_digest()

    council = CouncilFactory()
    member = UserFactory(first_name="Eva", last_name="Ek")
    CouncilMembershipFactory(council=council, user=member, role=CouncilMembership.Role.MEMBER)
    CouncilMembershipFactory(council=RegionalCouncilFactory(), user=UserFactory(first_name="Rita"))
    local, regional = (
        DeviationFactory(council=council),
        DeviationFactory(council=council, status=Status.ESCALATED),
    )
    SystemicIssueFactory.create_batch(2)

    for deviation in (local, regional):
        form = AssignForm(
            users=selectors.assignable_users(deviation),
            users_digest=selectors.assignable_users_digest(deviation),
        )
        field = form.fields["assignee"]
        assert field.digest_of_queryset is not None
        assert field.choices_digest() == queryset_digest(field)
    local_digest = selectors.assignable_users_digest(local)()
    assert local_digest != selectors.assignable_users_digest(regional)()  # the regional members too
    member.last_name = "Berg"
    member.save()
    assert selectors.assignable_users_digest(local)() != local_digest

    issues = LinkToIssueForm().fields["issue"]
    before = issues.choices_digest()
    assert before == queryset_digest(issues)
    SystemicIssueFactory(title="Ny fråga")
    assert LinkToIssueForm().fields["issue"].choices_digest() != before


def test_the_report_page_finds_exactly_the_reports_each_user_may_see():
    from django.contrib.auth.models import AnonymousUser

    from councils.models import CouncilMembership
    from deviations.workflow import Status
    from tests.factories import RegionalCouncilFactory

    east, west, north = CouncilFactory(), CouncilFactory(), CouncilFactory(active=False)
    organization = OrganizationFactory()
    reporter = UserFactory()
    reports = [
        DeviationFactory(council=east),
        DeviationFactory(council=west),
        DeviationFactory(council=north),
        DeviationFactory(council=None),
        DeviationFactory(council=west, reporter=reporter),
        DeviationFactory(council=east, status=Status.UNCONFIRMED),
    ]
    asked = ResponseRequestFactory(organization=organization, deviation=DeviationFactory(council=west))
    reports.append(asked.deviation)
    answered = ResponseRequestFactory(organization=organization, answered_at=timezone.now())
    reports.append(answered.deviation)

    def member(*councils, **fields):
        user = UserFactory(**fields)
        for council in councils:
            CouncilMembershipFactory(council=council, user=user, role=CouncilMembership.Role.MEMBER)
        return user

    regional = member(RegionalCouncilFactory())
    CouncilMembership.objects.filter(user=regional).update(role=CouncilMembership.Role.COORDINATOR)
    users = [
        AnonymousUser(),
        regional,
        UserFactory(is_superuser=True),
        member(east),
        member(east, west),
        member(east, north),
        member(),
        reporter,
        member(east, organization=organization),
        member(organization=organization),
    ]
    seen = set()
    for user in users:
        visible = selectors.deviations_visible_to(user)
        for report in reports:
            found = selectors.visible_report(user, report.reference)
            expected = visible.filter(reference=report.reference).first()
            assert (found and found.pk) == (expected and expected.pk), (user, report.reference)
            if found is not None:
                seen.add((users.index(user), report.pk))
                assert found.council == report.council and found.agreement == report.agreement
    # Every kind of access occurs: the whole county, councils, own reports, an open request.
    assert (1, reports[2].pk) in seen and (3, reports[0].pk) in seen and (3, reports[1].pk) not in seen
    assert (
        (7, reports[4].pk) in seen
        and (9, asked.deviation.pk) in seen
        and (9, answered.deviation.pk) not in seen
    )
    assert not any(pk == reports[5].pk for _user, pk in seen)  # unconfirmed: nobody
