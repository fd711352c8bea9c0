import re
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import transaction
from django.utils import timezone

from agreements import reference_data
from councils.models import CouncilMembership, User
from devdata import demo
from deviations.models import Deviation, DeviationEvent, ReferenceCounter, ResponseRequest
from deviations.services.routing import council_for_place, next_reference
from deviations.workflow import FINAL_STATES, TRANSITIONS, Status

pytestmark = pytest.mark.django_db

PERSONAL_NUMBER = re.compile(r"\d{6}[-+]?\d{4}")


def seed(*args):
    out = StringIO()
    call_command("seed_demo", *args, stdout=out)
    return out.getvalue()


def test_refuses_to_run_without_debug(settings):
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        seed("--count", "5")
    assert not Deviation.objects.exists()
    assert not User.objects.exists()


def test_seeds_the_requested_number_of_valid_reports(settings):
    settings.DEBUG = True
    output = seed("--count", "60", "--seed", "7")

    assert Deviation.objects.count() == 60
    # The demo logins are printed with their password.
    assert demo.DEMO_PASSWORD in output
    for username in (
        "admin",
        "regional",
        "samordnare.vasterort",
        "ledamot.vasterort",
        "rapportor",
        "motpart",
    ):
        assert username in output
        assert User.objects.get(username=username).check_password(demo.DEMO_PASSWORD)
    assert User.objects.get(username="admin").is_superuser
    assert CouncilMembership.objects.filter(
        user__username="regional", council__name=reference_data.REGIONAL_COUNCIL
    ).exists()
    assert User.objects.get(username="rapportor").organization.name == "Socialtjänsten Spånga-Tensta"
    assert User.objects.get(username="motpart").organization.principal_region is not None

    references = list(Deviation.objects.values_list("reference", flat=True))
    assert len(set(references)) == 60
    per_year = Counter(ref.split("-")[1] for ref in references)
    for year, n in per_year.items():
        assert ReferenceCounter.objects.get(year=int(year)).last == n
        assert sorted(r for r in references if f"-{year}-" in r) == [
            f"SB-{year}-{i:05d}" for i in range(1, n + 1)
        ]

    for deviation in Deviation.objects.select_related("agreement", "category", "commitment", "district"):
        deviation.full_clean()
        assert deviation.occurred_on <= deviation.reported_on
        assert deviation.category.agreements.filter(pk=deviation.agreement_id).exists()
        assert deviation.council == council_for_place(
            municipality_id=deviation.municipality_id, district_id=deviation.district_id
        )
        assert deviation.counterpart_organizations.exists()
        assert deviation.reporting_organization not in deviation.counterpart_organizations.all()
        for text in (deviation.description, deviation.consequence, deviation.actions_taken):
            assert not PERSONAL_NUMBER.search(text)
        # Texts name the counterpart, never the reporting organisation itself.
        assert deviation.reporting_organization.name not in deviation.description
        assert_consistent_history(deviation)


def assert_consistent_history(deviation):
    transitions = list(
        deviation.events.filter(kind=DeviationEvent.Kind.TRANSITION).order_by("created_at", "id")
    )
    assert transitions[0].action == "confirm"
    assert transitions[0].from_status == Status.UNCONFIRMED
    assert transitions[0].created_at == deviation.submitted_at
    status = Status.UNCONFIRMED
    previous = deviation.created_at
    for event in transitions:
        transition = TRANSITIONS[event.action]
        assert event.from_status == status
        assert status in transition.source
        assert event.to_status == transition.target
        assert event.created_at >= previous
        assert event.created_at <= timezone.now()
        if transition.needs_text:
            assert event.text
        previous, status = event.created_at, event.to_status
    assert deviation.status == status
    if status in FINAL_STATES:
        assert deviation.closed_at == transitions[-1].created_at
        assert transitions[-1].visibility == DeviationEvent.Visibility.REPORTER
    else:
        assert deviation.closed_at is None
    if status == Status.AWAITING_RESPONSE:
        assert ResponseRequest.objects.filter(deviation=deviation, answered_at__isnull=True).count() == 1


def test_data_is_skewed_and_spans_open_and_closed_states(settings):
    settings.DEBUG = True
    seed("--count", "400", "--seed", "3")
    statuses = Counter(Deviation.objects.values_list("status", flat=True))
    assert statuses[Status.CLOSED] == max(statuses.values())
    assert {Status.SUBMITTED, Status.TRIAGE, Status.AWAITING_RESPONSE} <= set(statuses)
    categories = Counter(Deviation.objects.values_list("category__name", flat=True))
    assert categories.most_common(1)[0][0] in {reference_data.CATEGORY_DISCHARGE, reference_data.CATEGORY_SIP}
    dates = Deviation.objects.order_by("reported_on").values_list("reported_on", flat=True)
    assert (dates.last() - dates.first()).days > 365


def test_if_empty_does_nothing_when_reports_exist(settings):
    settings.DEBUG = True
    seed("--count", "10", "--seed", "1")
    output = seed("--count", "10", "--if-empty")
    assert Deviation.objects.count() == 10
    assert "no demo data added" in output


def test_running_again_adds_reports_and_keeps_numbering(settings):
    settings.DEBUG = True
    seed("--count", "10", "--seed", "1")
    seed("--count", "10", "--seed", "2")
    assert Deviation.objects.count() == 20
    assert User.objects.filter(username="admin").count() == 1
    year = max(ReferenceCounter.objects.values_list("year", flat=True))
    last = ReferenceCounter.objects.get(year=year).last
    with transaction.atomic():
        assert next_reference(year=year) == f"SB-{year}-{last + 1:05d}"
