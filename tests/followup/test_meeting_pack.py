"""Council meeting packs: contents with known answers, access, query count and the PDF."""

import datetime
import io

import pytest
from django.urls import reverse

from councils.models import CouncilMembership
from deviations.models import DeviationEvent, SystemicIssue
from deviations.workflow import Status
from followup.meeting_pack import meeting_pack
from tests import factories

pytestmark = pytest.mark.django_db
D = datetime.date
MEETING = D(2026, 6, 10)
PREVIOUS = D(2026, 5, 10)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def pack_data(regional_council):
    agreement = factories.AgreementFactory(code="MISSBRUK", name="Missbruk och beroende")
    recurring = factories.DeviationCategoryFactory(name="Krav på nykterhet")
    single = factories.DeviationCategoryFactory(name="SIP kallas inte")
    council = factories.CouncilFactory(name="Samråd Söder")
    other_council = factories.CouncilFactory(name="Samråd Norr")

    def report(ref, reported, status, category=recurring, target=council):
        return factories.DeviationFactory(
            reference=ref,
            agreement=agreement,
            category=category,
            council=target,
            status=status,
            reported_on=reported,
            occurred_on=reported - datetime.timedelta(days=1),
        )

    r = {
        # Recurring category: 3 reports within 180 days before the meeting -> proposed escalation.
        "a": report("SB-2026-00101", D(2026, 1, 20), Status.RESOLVED_LOCALLY),
        "b": report("SB-2026-00102", D(2026, 5, 11), Status.TRIAGE),  # new (day after previous meeting)
        "c": report("SB-2026-00103", D(2026, 6, 10), Status.AWAITING_RESPONSE),  # new (meeting day)
        "d": report("SB-2026-00104", D(2026, 5, 10), Status.CLOSED, category=single),  # not new
        "e": report("SB-2026-00105", D(2026, 6, 11), Status.SUBMITTED, category=single),  # after meeting
        "f": report("SB-2026-00106", D(2026, 5, 20), Status.SUBMITTED, target=other_council),
        "g": report("SB-2026-00107", D(2026, 5, 21), Status.UNCONFIRMED),
        "h": report("SB-2026-00108", D(2026, 5, 25), Status.ESCALATED, category=single, target=other_council),
    }
    DeviationEvent.objects.create(
        deviation=r["h"], kind=DeviationEvent.Kind.TRANSITION, action="escalate", to_status=Status.ESCALATED
    )
    factories.ResponseRequestFactory(deviation=r["c"], due_on=D(2026, 6, 9))  # overdue at the meeting
    factories.ResponseRequestFactory(deviation=r["c"], due_on=D(2026, 6, 10))  # due on the day: not overdue
    factories.ResponseRequestFactory(deviation=r["f"], due_on=D(2026, 6, 1))  # other council
    issue = factories.SystemicIssueFactory(title="Nykterhetskrav i psykiatrin", agreements=[agreement])
    factories.SystemicActionFactory(
        issue=issue, description="Gemensamt ställningstagande", due_on=D(2026, 9, 1)
    )
    resolved = factories.SystemicIssueFactory(title="Löst fråga", state=SystemicIssue.State.RESOLVED)
    unrelated = factories.SystemicIssueFactory(title="Annan fråga")
    for key, target in (("a", issue), ("b", issue), ("d", resolved), ("f", unrelated)):
        r[key].systemic_issue = target
        r[key].save(update_fields=["systemic_issue"])
    member = factories.UserFactory(username="ledamot")
    factories.CouncilMembershipFactory(council=council, user=member, role=CouncilMembership.Role.MEMBER)
    other_member = factories.UserFactory(username="annan")
    factories.CouncilMembershipFactory(council=other_council, user=other_member)
    return {
        "council": council,
        "other_council": other_council,
        "regional_council": regional_council,
        "member": member,
        "other_member": other_member,
        "reports": r,
        "report": report,
    }


def test_local_pack_contents(pack_data):
    pack = meeting_pack(council=pack_data["council"], meeting_date=MEETING, previous_meeting=PREVIOUS)
    assert [d.reference for d in pack.new_reports] == ["SB-2026-00102", "SB-2026-00103"]
    assert pack.new_count == 2
    open_counts = {row["status"]: row["count"] for row in pack.open_by_status}
    assert open_counts == {
        "submitted": 1,
        "triage": 1,
        "awaiting_response": 1,
        "resolved_locally": 1,
        "escalated": 0,
        "regional_analysis": 0,
    }
    assert pack.open_total == 4
    assert [(rr.deviation.reference, rr.due_on) for rr in pack.overdue_responses] == [
        ("SB-2026-00103", D(2026, 6, 9))
    ]
    assert len(pack.proposed_escalations) == 1
    group = pack.proposed_escalations[0]
    assert (group["category"], group["count"]) == ("Krav på nykterhet", 3)
    assert [d.reference for d in group["reports"]] == ["SB-2026-00101", "SB-2026-00102", "SB-2026-00103"]
    assert [(i.title, i.linked) for i in pack.systemic_issues] == [("Nykterhetskrav i psykiatrin", 2)]


def test_recurrence_needs_three_reports_within_the_window(pack_data):
    # 180 days before 2026-07-20 is 2026-01-21: report "a" (2026-01-20) falls out of the window.
    pack = meeting_pack(council=pack_data["council"], meeting_date=D(2026, 7, 20), previous_meeting=MEETING)
    assert pack.proposed_escalations == []


def test_regional_pack_lists_escalated_reports_and_all_open_issues(pack_data):
    pack = meeting_pack(
        council=pack_data["regional_council"], meeting_date=MEETING, previous_meeting=PREVIOUS
    )
    assert [d.reference for d in pack.awaiting_regional] == ["SB-2026-00108"]
    assert [d.reference for d in pack.new_reports] == ["SB-2026-00108"]
    assert {i.title for i in pack.systemic_issues} == {"Nykterhetskrav i psykiatrin", "Annan fråga"}
    assert pack.proposed_escalations == []


def url(council, pdf=False):
    return reverse("followup:meeting_pack_pdf" if pdf else "followup:meeting_pack", args=[council.pk])


QUERY = {"meeting_date": "2026-06-10", "previous_meeting": "2026-05-10"}


def test_anonymous_is_sent_to_login(client, pack_data):
    response = client.get(url(pack_data["council"]), QUERY)
    assert response.status_code == 302
    assert reverse("login") in response["Location"]


def test_member_sees_own_council_pack(client, pack_data, django_assert_max_num_queries):
    client.force_login(pack_data["member"])
    with django_assert_max_num_queries(15):
        response = client.get(url(pack_data["council"]), QUERY)
    assert response.status_code == 200
    html = response.content.decode()
    assert "SB-2026-00102" in html and "SB-2026-00105" not in html
    assert "Förslag till eskalering" in html
    assert "Nykterhetskrav i psykiatrin" in html


def test_member_of_another_council_gets_404(client, pack_data):
    client.force_login(pack_data["other_member"])
    assert client.get(url(pack_data["council"]), QUERY).status_code == 404
    assert client.get(url(pack_data["council"], pdf=True), QUERY).status_code == 404
    assert client.get(url(pack_data["regional_council"]), QUERY).status_code == 404


def test_user_without_membership_gets_404(client, pack_data):
    client.force_login(factories.UserFactory(username="nobody"))
    assert client.get(url(pack_data["council"]), QUERY).status_code == 404


def test_regional_coordinator_sees_every_pack(client, pack_data, regional_coordinator):
    client.force_login(regional_coordinator)
    assert client.get(url(pack_data["council"]), QUERY).status_code == 200
    response = client.get(url(pack_data["regional_council"]), QUERY)
    assert response.status_code == 200
    assert "Eskalerade rapporter som väntar på regional analys" in response.content.decode()
    index = client.get(reverse("followup:meeting_packs"))
    assert "Samråd Söder" in index.content.decode() and "Samråd Norr" in index.content.decode()


def test_previous_meeting_defaults_to_30_days_before(client, pack_data):
    client.force_login(pack_data["member"])
    response = client.get(url(pack_data["council"]), {"meeting_date": "2026-06-10"})
    assert response.context["pack"].previous_meeting == D(2026, 5, 11)
    assert [d.reference for d in response.context["pack"].new_reports] == ["SB-2026-00103"]


def test_bad_dates_give_swedish_errors(client, pack_data):
    client.force_login(pack_data["member"])
    response = client.get(
        url(pack_data["council"]), {"meeting_date": "2026-06-10", "previous_meeting": "2026-06-10"}
    )
    assert response.status_code == 400
    assert response.context["form"].errors["previous_meeting"] == [
        "Föregående möte måste ligga före mötesdatumet."
    ]
    response = client.get(url(pack_data["council"]), {"meeting_date": "inte ett datum"})
    assert response.status_code == 400


def test_the_packs_scroll_boxes_have_unique_names_and_swedish_captions_are_marked(client, pack_data):
    """Each table's scroll box is named by its caption: a category under two agreements gave two boxes
    the same name. The proposed escalations' captions are stored Swedish names: lang="sv"."""
    import re

    report = pack_data["report"]
    report("SB-2026-00120", D(2026, 6, 1), Status.TRIAGE)
    client.force_login(pack_data["member"])
    content = client.get("/en" + url(pack_data["council"]), QUERY).content.decode()
    names = re.findall(r'role="region" aria-label="([^"]*)"', content)
    assert names and len(names) == len(set(names))
    assert re.search(r'<caption lang="sv">[^<]+ – [^<]+</caption>', content)


def test_pdf_pack_holds_headings_and_references(client, pack_data):
    from pypdf import PdfReader

    client.force_login(pack_data["member"])
    response = client.get(url(pack_data["council"], pdf=True), QUERY)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)
    for expected in (
        "Mötesunderlag: Samråd Söder",
        "Nya rapporter sedan förra mötet (2)",
        "Öppna rapporter per status (4)",
        "Försenade yttranden",
        "Förslag till eskalering",
        "Systemfrågor att besluta om",
        "SB-2026-00103",
        "Nykterhetskrav i psykiatrin",
    ):
        assert expected in text


@pytest.mark.parametrize(("prefix", "language"), [("", "sv"), ("/en", "en")])
def test_pdf_pack_is_tagged_with_the_document_language(client, pack_data, prefix, language):
    """PDF/UA: a structure tree (headings, tables) for screen readers, marked as tagged, and the
    language of the page it was asked for."""
    from pypdf import PdfReader

    client.force_login(pack_data["member"])
    response = client.get(prefix + url(pack_data["council"], pdf=True), QUERY)
    assert response.status_code == 200
    reader = PdfReader(io.BytesIO(response.content))
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == language
    assert catalog["/MarkInfo"]["/Marked"]
    assert "/StructTreeRoot" in catalog
    pages = len(reader.pages)
    footer = f"page 1 of {pages}" if language == "en" else f"sida 1 av {pages}"
    assert footer in reader.pages[0].extract_text()  # the page numbers in the document's language


def test_proposed_escalations_list_only_open_locally_handled_reports_in_the_window(pack_data):
    """The rule counts every report of the kind in the window; the list (and its count) holds only
    those still open and handled locally, reported within the window."""
    council, report = pack_data["council"], pack_data["report"]  # of the recurring kind
    report("SB-2026-00110", D(2026, 3, 1), Status.ESCALATED)  # counts for the rule, not proposed
    report("SB-2026-00111", D(2026, 3, 2), Status.CLOSED)  # counts for the rule, not proposed
    report("SB-2026-00112", D(2026, 3, 3), Status.SUBMITTED)  # not triaged yet: not proposed
    report("SB-2025-00113", D(2025, 11, 1), Status.TRIAGE)  # before the window: neither
    pack = meeting_pack(council=council, meeting_date=MEETING, previous_meeting=PREVIOUS)
    (group,) = pack.proposed_escalations
    assert [d.reference for d in group["reports"]] == ["SB-2026-00101", "SB-2026-00102", "SB-2026-00103"]
    assert group["count"] == len(group["reports"]) == 3
    assert group["recurrences"] == 6


def test_every_reference_in_the_pack_links_to_the_report(client, pack_data):
    client.force_login(pack_data["member"])
    html = client.get(url(pack_data["council"]), QUERY).content.decode()
    for ref in ("SB-2026-00101", "SB-2026-00102", "SB-2026-00103"):
        assert f'href="{reverse("deviations:detail", args=[ref])}"' in html
    assert (
        html.count(f'href="{reverse("deviations:detail", args=["SB-2026-00103"])}"') == 3
    )  # new, overdue, proposed


def test_previous_meeting_defaults_to_the_last_recorded_meeting(client, pack_data):
    factories.CouncilMeetingFactory(council=pack_data["council"], held_on=D(2026, 5, 20))
    factories.CouncilMeetingFactory(council=pack_data["council"], held_on=D(2026, 6, 10))  # the day itself
    factories.CouncilMeetingFactory(council=pack_data["other_council"], held_on=D(2026, 6, 1))
    client.force_login(pack_data["member"])
    response = client.get(url(pack_data["council"]), {"meeting_date": "2026-06-10"})
    assert response.context["pack"].previous_meeting == D(2026, 5, 20)
    assert [d.reference for d in response.context["pack"].new_reports] == ["SB-2026-00103"]
