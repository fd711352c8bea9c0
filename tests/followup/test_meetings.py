"""Council meetings: recorded per council by its coordinators (members read), each with its own pack
since the previous meeting, and the decisions taken at it applied to the reports through the state
machine, one event per report, failures listed per report."""

import datetime
import io
import os
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone

from councils.models import CouncilMeeting, CouncilMembership
from deviations.models import DeviationEvent
from deviations.workflow import Status
from tests import factories

pytestmark = pytest.mark.django_db
D = datetime.date
MEETING = D(2026, 6, 10)


@pytest.fixture
def world(regional_council):
    """A local council with a coordinator and a member, another council, four reports of a recurring
    kind (three still handled locally: proposed), and two recorded meetings."""
    w = type("World", (), {})()
    w.regional_council = regional_council
    w.council = factories.CouncilFactory(name="Samråd Söder", email="soder@example.se")
    w.other_council = factories.CouncilFactory(name="Samråd Norr")
    w.coordinator = factories.UserFactory(username="samordnare")
    factories.CouncilMembershipFactory(council=w.council, user=w.coordinator)
    w.member = factories.UserFactory(username="ledamot")
    factories.CouncilMembershipFactory(council=w.council, user=w.member, role=CouncilMembership.Role.MEMBER)
    w.other_coordinator = factories.UserFactory(username="norr")
    factories.CouncilMembershipFactory(council=w.other_council, user=w.other_coordinator)
    w.regional = factories.UserFactory(username="regional")
    factories.CouncilMembershipFactory(council=regional_council, user=w.regional)
    w.agreement = factories.AgreementFactory(code="MISSBRUK")
    w.category = factories.DeviationCategoryFactory(name="Krav på nykterhet")

    def report(ref, reported, status, council=None):
        return factories.DeviationFactory(
            reference=ref,
            agreement=w.agreement,
            category=w.category,
            council=council or w.council,
            status=status,
            reported_on=reported,
            occurred_on=reported - datetime.timedelta(days=1),
        )

    w.triage = report("SB-2026-00201", D(2026, 4, 2), Status.TRIAGE)
    w.awaiting = report("SB-2026-00202", D(2026, 5, 20), Status.AWAITING_RESPONSE)
    w.resolved = report("SB-2026-00203", D(2026, 6, 1), Status.RESOLVED_LOCALLY)
    w.closed = report("SB-2026-00204", D(2026, 6, 2), Status.CLOSED)
    w.foreign = report("SB-2026-00205", D(2026, 6, 3), Status.TRIAGE, council=w.other_council)
    w.previous = factories.CouncilMeetingFactory(council=w.council, held_on=D(2026, 5, 12))
    w.meeting = factories.CouncilMeetingFactory(
        council=w.council, held_on=MEETING, attendees="Samordnare\nLedamot", minutes="Genomgång av läget."
    )
    return w


def meetings_url(w, council=None):
    return reverse("followup:meetings", args=[(council or w.council).pk])


def meeting_url(w, name="followup:meeting", meeting=None):
    meeting = meeting or w.meeting
    return reverse(name, args=[meeting.council_id, meeting.pk])


# --- Who may read, who may write --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("username", "reads", "writes"),
    [
        ("coordinator", 200, True),
        ("member", 200, False),
        ("regional", 200, False),
        ("other_coordinator", 404, False),
    ],
)
def test_coordinators_keep_meetings_members_read_others_see_nothing(client, world, username, reads, writes):
    client.force_login(getattr(world, username))
    for url in (
        meetings_url(world),
        meeting_url(world),
        meeting_url(world, "followup:meeting_meeting_pack"),
    ):
        assert client.get(url).status_code == reads, url
    write_status = 200 if writes else 404
    assert client.get(reverse("followup:meeting_create", args=[world.council.pk])).status_code == write_status
    assert client.get(meeting_url(world, "followup:meeting_edit")).status_code == write_status
    html = client.get(meetings_url(world)).content.decode() if reads == 200 else ""
    assert (reverse("followup:meeting_create", args=[world.council.pk]) in html) == writes


def test_anonymous_is_sent_to_login(client, world):
    for url in (meetings_url(world), meeting_url(world), meeting_url(world, "followup:meeting_decisions")):
        response = client.get(url) if "beslut" not in url else client.post(url, {})
        assert response.status_code == 302 and reverse("login") in response["Location"]


def test_a_meeting_under_another_councils_id_is_404(client, world):
    other_meeting = factories.CouncilMeetingFactory(council=world.other_council, held_on=MEETING)
    client.force_login(world.coordinator)
    url = reverse("followup:meeting", args=[world.council.pk, other_meeting.pk])
    assert client.get(url).status_code == 404


# --- Recording a meeting -----------------------------------------------------------------------------


def test_coordinator_records_a_meeting(client, world):
    client.force_login(world.coordinator)
    response = client.post(
        reverse("followup:meeting_create", args=[world.council.pk]),
        {"held_on": "2026-07-08", "attendees": "Samordnare", "minutes": "Beslut om eskalering."},
    )
    meeting = CouncilMeeting.objects.get(held_on=D(2026, 7, 8))
    assert response.status_code == 302 and response["Location"] == meeting_url(world, meeting=meeting)
    assert (meeting.council, meeting.created_by) == (world.council, world.coordinator)
    response = client.post(
        meeting_url(world, "followup:meeting_edit", meeting),
        {"held_on": "2026-07-09", "attendees": "Samordnare", "minutes": "Ändrat."},
    )
    assert response.status_code == 302
    meeting.refresh_from_db()
    assert (meeting.held_on, meeting.minutes) == (D(2026, 7, 9), "Ändrat.")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"held_on": "2026-06-10"}, "redan ett möte det datumet"),
        ({"held_on": "inte ett datum"}, "Fyll i ett giltigt datum"),
        ({"held_on": ""}, "Detta fält måste fyllas i"),
        ({"held_on": "2026-07-01", "minutes": "Gäller 121212-1212."}, "personnummer"),
        ({"held_on": "2026-07-01", "attendees": "Kalle 19121212-1212"}, "personnummer"),
        ({"held_on": "2026-07-01", "minutes": "x" * 20_001}, "som mest 20000 tecken"),
    ],
)
def test_bad_meetings_are_refused_with_a_message(client, world, data, message):
    client.force_login(world.coordinator)
    before = CouncilMeeting.objects.count()
    response = client.post(
        reverse("followup:meeting_create", args=[world.council.pk]), {"attendees": "", "minutes": "", **data}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert CouncilMeeting.objects.count() == before


def test_members_and_other_councils_cannot_record_or_change_meetings(client, world):
    for user in (world.member, world.other_coordinator, world.regional):
        client.force_login(user)
        data = {"held_on": "2026-07-08", "attendees": "", "minutes": "X"}
        assert (
            client.post(reverse("followup:meeting_create", args=[world.council.pk]), data).status_code == 404
        )
        assert client.post(meeting_url(world, "followup:meeting_edit"), data).status_code == 404
    assert not CouncilMeeting.objects.filter(held_on=D(2026, 7, 8)).exists()
    world.meeting.refresh_from_db()
    assert world.meeting.minutes == "Genomgång av läget."


def test_the_regional_council_keeps_its_own_meetings(client, world):
    client.force_login(world.regional)
    response = client.post(
        reverse("followup:meeting_create", args=[world.regional_council.pk]),
        {"held_on": "2026-06-15", "attendees": "", "minutes": ""},
    )
    assert response.status_code == 302
    assert CouncilMeeting.objects.filter(council=world.regional_council).count() == 1


# --- The meeting's pack ------------------------------------------------------------------------------


def test_the_pack_of_a_meeting_runs_since_the_previous_meeting(client, world, django_assert_max_num_queries):
    client.force_login(world.member)
    with django_assert_max_num_queries(15):
        response = client.get(meeting_url(world, "followup:meeting_meeting_pack"))
    pack = response.context["pack"]
    assert (pack.meeting_date, pack.previous_meeting) == (MEETING, D(2026, 5, 12))
    assert [d.reference for d in pack.new_reports] == ["SB-2026-00202", "SB-2026-00203", "SB-2026-00204"]
    (group,) = pack.proposed_escalations
    assert [d.reference for d in group["reports"]] == ["SB-2026-00201", "SB-2026-00202", "SB-2026-00203"]
    assert group["count"] == 3 and group["recurrences"] == 4
    # The first meeting has no earlier one: the 30 days before it.
    first = client.get(meeting_url(world, "followup:meeting_meeting_pack", world.previous)).context["pack"]
    assert first.previous_meeting == D(2026, 4, 12)


def test_the_meeting_pack_pdf_is_a_few_pages_with_links(client, world):
    from pypdf import PdfReader

    client.force_login(world.member)
    response = client.get(meeting_url(world, "followup:meeting_meeting_pack_pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "SB-2026-00201" in text and "Förslag till eskalering" in text
    links = [
        annotation.get_object()["/A"]["/URI"]
        for page in reader.pages
        for annotation in page.get("/Annots", [])
        if "/A" in annotation.get_object()
    ]
    assert "http://testserver" + reverse("deviations:detail", args=["SB-2026-00201"]) in links


# --- Decisions ---------------------------------------------------------------------------------------


def decide(client, world, **data):
    return client.post(meeting_url(world, "followup:meeting_decisions"), data, follow=True)


def test_minutes_page_offers_the_proposed_reports_to_coordinators(client, world):
    client.force_login(world.coordinator)
    response = client.get(meeting_url(world))
    form = response.context["decision_form"]
    assert [ref for ref, _label in form.fields["proposed"].choices] == [
        "SB-2026-00201",
        "SB-2026-00202",
        "SB-2026-00203",
    ]
    assert dict(form.fields["action"].choices) == {
        "escalate": "Eskalera till regionalt samråd",
        "close": "Avsluta med återkoppling",
    }
    client.force_login(world.member)
    assert client.get(meeting_url(world)).context["decision_form"] is None


def test_decisions_are_applied_per_report_and_failures_listed(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = decide(
            client,
            world,
            action="escalate",
            proposed=["SB-2026-00201", "SB-2026-00202"],
            references="sb-2026-00204, SB-2026-00205\nSB-2026-99999 SB-2026-00201",
            text="Återkommande i hela området.",
        )
    assert response.status_code == 200
    html = response.content.decode()
    for deviation in (world.triage, world.awaiting):
        deviation.refresh_from_db()
        assert deviation.status == Status.ESCALATED
        (event,) = deviation.events.all()
        assert event.action == "escalate" and event.actor == world.coordinator
        assert "Återkommande i hela området." in event.text and "2026-06-10" in event.text
    assert "Eskalera till regionalt samråd: 2 rapporter (SB-2026-00201, SB-2026-00202)." in html
    # The closed report cannot be escalated; the other council's and unknown ones are not the council's.
    assert "SB-2026-00204: inte utfört." in html and "går inte att utföra" in html
    assert html.count("Finns inte bland samrådets rapporter.") == 2
    world.closed.refresh_from_db()
    world.foreign.refresh_from_db()
    assert (world.closed.status, world.foreign.status) == (Status.CLOSED, Status.TRIAGE)
    assert not DeviationEvent.objects.filter(deviation__in=[world.closed, world.foreign]).exists()
    # The regional coordinators are told, once per escalated report.
    assert len(mailoutbox) == 2


def test_close_decision_gives_the_reporter_feedback(
    client, world, mailoutbox, django_capture_on_commit_callbacks
):
    client.force_login(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        decide(client, world, action="close", references="SB-2026-00203", text="Rutinen är ändrad.")
    world.resolved.refresh_from_db()
    assert world.resolved.status == Status.CLOSED
    event = world.resolved.events.get()
    assert event.visibility == DeviationEvent.Visibility.REPORTER
    assert [m.to for m in mailoutbox] == [[world.resolved.reporter_email]]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"action": "escalate", "text": "Skäl"}, "Välj eller skriv in minst en rapport."),
        (
            {
                "action": "escalate",
                "references": " ".join(f"SB-2026-{n:05}" for n in range(201)),
                "text": "S",
            },
            "Högst 200 rapporter per beslut.",
        ),
        ({"action": "escalate", "proposed": ["SB-2026-00201"], "text": ""}, "måste fyllas i"),
        ({"action": "reopen", "proposed": ["SB-2026-00201"], "text": "Skäl"}, "Välj ett giltigt alternativ"),
        (
            {"action": "escalate", "proposed": ["SB-2026-00205"], "text": "Skäl"},
            "Välj ett giltigt alternativ",
        ),
    ],
)
def test_bad_decisions_are_refused_and_change_nothing(client, world, data, message):
    client.force_login(world.coordinator)
    response = client.post(meeting_url(world, "followup:meeting_decisions"), data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not DeviationEvent.objects.exists()


@pytest.mark.parametrize("username", ["member", "regional", "other_coordinator"])
def test_only_the_councils_coordinators_take_decisions(client, world, username):
    client.force_login(getattr(world, username))
    response = client.post(
        meeting_url(world, "followup:meeting_decisions"),
        {"action": "escalate", "proposed": ["SB-2026-00201"], "text": "Skäl"},
    )
    assert response.status_code == 404
    world.triage.refresh_from_db()
    assert world.triage.status == Status.TRIAGE and not DeviationEvent.objects.exists()


def test_decisions_page_is_post_only(client, world):
    client.force_login(world.coordinator)
    assert client.get(meeting_url(world, "followup:meeting_decisions")).status_code == 405


def test_minutes_page_query_count(client, world, django_assert_max_num_queries):
    client.force_login(world.coordinator)
    with django_assert_max_num_queries(16):
        assert client.get(meeting_url(world)).status_code == 200


def test_the_pdf_of_a_typical_meeting_fits_in_a_few_pages(client, world):
    """A typical month of a local council: 40 new reports over four categories, some overdue
    responses, two recurring kinds proposed for escalation, three open systemic issues with actions."""
    from pypdf import PdfReader

    statuses = [
        Status.SUBMITTED,
        Status.TRIAGE,
        Status.AWAITING_RESPONSE,
        Status.RESOLVED_LOCALLY,
        Status.CLOSED,
    ]
    categories = [world.category, *(factories.DeviationCategoryFactory() for _ in range(3))]
    municipality = factories.MunicipalityFactory(name="Huddinge")
    for i in range(40):
        reported = D(2026, 5, 13) + datetime.timedelta(days=i % 28)
        deviation = factories.DeviationFactory(
            agreement=world.agreement,
            category=categories[i % 4],
            council=world.council,
            municipality=municipality,
            status=statuses[i % 5],
            reported_on=reported,
            occurred_on=reported - datetime.timedelta(days=2),
        )
        if i % 10 == 0:
            factories.ResponseRequestFactory(deviation=deviation, due_on=D(2026, 6, 1))
    for i, linked in enumerate((world.triage, world.awaiting, world.resolved)):
        issue = factories.SystemicIssueFactory(title=f"Systemfråga {i}", agreements=[world.agreement])
        factories.SystemicActionFactory.create_batch(2, issue=issue)
        linked.systemic_issue = issue
        linked.save()
    client.force_login(world.member)
    response = client.get(meeting_url(world, "followup:meeting_meeting_pack_pdf"))
    if os.environ.get("MEETING_PACK_PDF"):
        Path(os.environ["MEETING_PACK_PDF"]).write_bytes(response.content)
    reader = PdfReader(io.BytesIO(response.content))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Nya rapporter sedan förra mötet (43)" in text
    assert len(reader.pages) <= 3, len(reader.pages)


def test_an_identity_number_is_refused_on_its_field_and_nothing_is_stored(client, world):
    client.force_login(world.coordinator)
    response = client.post(
        meeting_url(world, "followup:meeting_edit"),
        {"held_on": "2026-06-10", "attendees": "Samordnare", "minutes": "Rapport om 121212-1212."},
    )
    assert response.status_code == 400
    form = response.context["form"]
    assert list(form.errors) == ["minutes"] and "personnummer" in form.errors["minutes"][0]
    assert "121212-1212" not in form.errors["minutes"][0]
    world.meeting.refresh_from_db()
    assert world.meeting.minutes == "Genomgång av läget."


def test_a_decision_text_with_an_identity_number_changes_no_report(client, world):
    client.force_login(world.coordinator)
    response = client.post(
        meeting_url(world, "followup:meeting_decisions"),
        {"action": "escalate", "proposed": ["SB-2026-00201"], "text": "Gäller 121212-1212."},
    )
    assert response.status_code == 400
    assert "personnummer" in response.context["decision_form"].errors["text"][0]
    world.triage.refresh_from_db()
    assert world.triage.status == Status.TRIAGE and not DeviationEvent.objects.exists()


def test_decisions_wait_until_the_meeting_has_been_held(client, world):
    upcoming = factories.CouncilMeetingFactory(
        council=world.council, held_on=timezone.localdate() + datetime.timedelta(days=1)
    )
    client.force_login(world.coordinator)
    page = client.get(meeting_url(world, meeting=upcoming))
    assert page.context["decision_form"] is None
    assert "förs in här när mötet har hållits" in page.content.decode()
    # Its pack is there to prepare the meeting.
    assert client.get(meeting_url(world, "followup:meeting_meeting_pack", upcoming)).status_code == 200
    response = client.post(
        meeting_url(world, "followup:meeting_decisions", upcoming),
        {"action": "escalate", "references": "SB-2026-00201", "text": "Skäl"},
    )
    assert response.status_code == 409
    assert "Mötet har inte hållits ännu" in response.content.decode()
    world.triage.refresh_from_db()
    assert world.triage.status == Status.TRIAGE and not DeviationEvent.objects.exists()


def test_the_regional_councils_meeting_returns_reports_to_local_councils(
    client, world, django_capture_on_commit_callbacks
):
    escalated = factories.DeviationFactory(council=world.council, status=Status.ESCALATED)
    meeting = factories.CouncilMeetingFactory(council=world.regional_council, held_on=MEETING)
    client.force_login(world.regional)
    form = client.get(meeting_url(world, meeting=meeting)).context["decision_form"]
    assert set(dict(form.fields["action"].choices)) == {"return_to_local", "close"}
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            meeting_url(world, "followup:meeting_decisions", meeting),
            {
                "action": "return_to_local",
                "references": f"{escalated.reference} SB-2026-00201",
                "text": "Lokalt.",
            },
            follow=True,
        )
    escalated.refresh_from_db()
    assert escalated.status == Status.TRIAGE
    assert escalated.events.get().action == "return_to_local"
    # A report the regional council does not hold is listed, not touched.
    assert "SB-2026-00201: inte utfört." in response.content.decode()
    world.triage.refresh_from_db()
    assert world.triage.status == Status.TRIAGE


def test_admin_refuses_identity_numbers_in_meetings_and_records_who_added_it(client, world, superuser):
    client.force_login(superuser)
    url = reverse("admin:councils_councilmeeting_add")
    data = {"council": world.council.pk, "held_on": "2026-08-01", "attendees": "", "minutes": "121212-1212"}
    response = client.post(url, data)
    assert response.status_code == 200 and "personnummer" in str(response.context["adminform"].form.errors)
    assert not CouncilMeeting.objects.filter(held_on=D(2026, 8, 1)).exists()
    response = client.post(url, {**data, "minutes": "Inga personuppgifter."})
    assert response.status_code == 302
    assert CouncilMeeting.objects.get(held_on=D(2026, 8, 1)).created_by == superuser
