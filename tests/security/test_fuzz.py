"""Hostile input to every form, the response endpoints and the URL parameters: never a 5xx, nothing
half-stored.

Each test starts from a valid submission and replaces a random subset of its fields with hostile values
(very long strings, control characters incl. NUL, lone combining marks, RTL overrides, zero-width
characters, emoji, HTML/script, SQL-ish text, huge and negative numbers, wrong types as repeated values)
or drops them. The answer must be 200 (with errors), 302, 400, 404, 405 or 410; a view raising an
exception fails the test (the test client re-raises it). When the answer is not a redirect, nothing may
have been stored.

The budget is fixed and reproducible: ``max_examples`` examples per test, ``derandomize=True``.
"""

import datetime
import uuid
from urllib.parse import quote

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agreements.models import FollowUpAnalysis
from councils.models import User
from deviations import response_tokens, tokens
from deviations.models import Deviation, DeviationEvent, ResponseRequest, SystemicAction, SystemicIssue
from deviations.workflow import Status
from tests import factories
from tests.deviations import reporting_world
from tests.security.test_access_matrix import build_world

pytestmark = pytest.mark.django_db

EXAMPLES = 12
fuzz = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
OK_ANSWERS = {200, 302, 400, 404, 405, 410}

HOSTILE = [
    "",
    " ",
    "\x00",
    "SB-2026-\x0000001",
    "text med \x00 i mitten",
    "\x01\x02\x07\x08\x0b\x0c\x1b\x7f",
    "\r\n\r\n",
    "\u0301",  # a lone combining mark
    "e\u0301\u0301\u0301\u0301",
    "\u202eevil\u202c",  # right-to-left override
    "\u200b\u200c\u200d\ufeff",  # zero-width characters
    "😀👩‍👩‍👧‍👦🏳️‍🌈",
    "\U0010ffff",
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "' OR 1=1 --",
    "../../../etc/passwd",
    "%00%0a",
    "{{ settings.SECRET_KEY }}",
    "9" * 40,
    "-1",
    "0",
    "1e309",
    "NaN",
    "2026-02-30",
    "9999-12-31",
    "0001-01-01",
    "x" * 20_000,
    "å" * 10_001,
]
hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.text(max_size=40),
    st.text(
        alphabet=st.characters(categories=["Cc", "Cf", "Mn", "Zl", "Zp", "So"], exclude_characters=""),
        max_size=20,
    ),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
)
#: A value as posted: one string, or several (a wrong type for single-valued fields).
hostile_value = st.one_of(hostile_text, st.lists(hostile_text, min_size=2, max_size=3))
MISSING = object()


def mutate(valid: dict, keys=None):
    """A strategy: ``valid`` with some fields replaced by hostile values or left out (and perhaps an
    unexpected extra field)."""
    keys = list(keys or valid)

    @st.composite
    def strategy(draw):
        data = dict(valid)
        for key in keys:
            choice = draw(st.sampled_from(["keep", "hostile", "hostile", "missing"]))
            if choice == "hostile":
                data[key] = draw(hostile_value)
            elif choice == "missing":
                data.pop(key, None)
        if draw(st.booleans()):
            data[draw(st.sampled_from(["extra", "csrfmiddlewaretoken", "__proto__"]))] = draw(hostile_text)
        return data

    return strategy()


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (
            Deviation,
            DeviationEvent,
            ResponseRequest,
            SystemicIssue,
            SystemicAction,
            FollowUpAnalysis,
        )
    }


def check(response, before, *, success_page=False):
    """``success_page``: the view answers a successful POST with a 200 page instead of a redirect."""
    assert response.status_code in OK_ANSWERS, response.status_code
    if response.status_code != 302 and not success_page:
        assert counts() == before, "a refused submission stored something"


def as_user(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


@pytest.fixture
def w():
    return build_world()


# --- The reporting form --------------------------------------------------------------------------


@pytest.fixture
def rw():
    return reporting_world.build_world()


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "signed-in"])
def test_reporting_form(rw, signed_in):
    valid = reporting_world.valid_post(rw)
    client = as_user(factories.UserFactory(username="fuzz_reporter") if signed_in else None)

    @fuzz
    @given(data=mutate(valid))
    def run(data):
        data = {**data, "idempotency_key": data.get("idempotency_key", str(uuid.uuid4()))}
        before = counts()
        response = client.post(reverse("deviations:report_form"), data)
        check(response, before)
        after = counts()
        # One submission: at most one report, and never a report without its events or vice versa.
        assert after["Deviation"] - before["Deviation"] in (0, 1)
        if after["Deviation"] == before["Deviation"]:
            assert after["DeviationEvent"] == before["DeviationEvent"]

    run()


# --- Token endpoints -------------------------------------------------------------------------------


def test_token_urls_take_any_token(w):
    client = Client()

    @fuzz
    @given(token=hostile_text.filter(lambda t: "/" not in t and t.strip()))
    def run(token):
        for name in ("deviations:confirm", "deviations:status", "deviations:respond"):
            before = counts()
            url = reverse(name, args=[token])
            check(client.get(url), before)
            if name != "deviations:status":
                check(client.post(url, {"answered_by_name": token}), before)
                assert counts() == before

    run()


def test_confirmation_post(w):
    """A genuine token with hostile extra data confirms (302) or not, never half."""
    url = reverse("deviations:confirm", args=[tokens.confirmation_token(w.unconfirmed)])
    client = Client()

    @fuzz
    @given(data=mutate({"confirm": "1"}))
    def run(data):
        before = counts()
        check(client.post(url, data), before)
        w.unconfirmed.refresh_from_db()
        confirmed = w.unconfirmed.status != Status.UNCONFIRMED
        assert confirmed == DeviationEvent.objects.filter(deviation=w.unconfirmed, action="confirm").exists()

    run()


def test_response_answer_form(w):
    url = reverse("deviations:respond", args=[response_tokens.make_token(w.open_request)])
    client = Client()
    valid = {"answered_by_name": "Enhetschef", "what_happened": "Vi missade.", "actions": "Ny rutin."}

    @fuzz
    @given(data=mutate(valid))
    def run(data):
        before = counts()
        check(client.post(url, data), before, success_page=True)
        w.open_request.refresh_from_db()
        answered = w.open_request.answered_at is not None
        events = DeviationEvent.objects.filter(deviation=w.x1, kind=DeviationEvent.Kind.RESPONSE_RECEIVED)
        assert answered == events.exists()
        if answered:  # answered once; later posts are refused
            assert events.count() == 1

    run()


# --- Triage: transitions, notes, assignment ----------------------------------------------------------


def transition_cases(w):
    due = (timezone.localdate() + datetime.timedelta(days=20)).isoformat()
    return [
        ("x1", "close", {"text": "Återkoppling."}),
        ("x1", "reject", {"reason": "duplicate", "duplicate_reference": w.x2.reference, "text": "Dubblett."}),
        ("x1", "request_response", {"organizations": [w.org_x.pk], "message": "Svara.", "due_on": due}),
        ("x2", "reroute", {"council": w.council_y.pk, "text": "Fel samråd."}),
        ("x2", "escalate", {"text": "Återkommande."}),
    ]


@pytest.mark.parametrize(
    "index", range(5), ids=["close", "reject", "request_response", "reroute", "escalate"]
)
def test_transition_forms(w, index):
    report_attr, action, valid = transition_cases(w)[index]
    report = getattr(w, report_attr)
    client = as_user(w.coord_x)
    url = reverse("deviations:transition", args=[report.reference, action])
    original = report.status

    @fuzz
    @given(data=mutate(valid))
    def run(data):
        before = counts()
        response = client.post(url, data)
        check(response, before)
        if response.status_code == 302:  # applied, or refused with a message: never half
            report.refresh_from_db()
            changed = report.status != original or counts()["ResponseRequest"] != before["ResponseRequest"]
            assert changed == (counts()["DeviationEvent"] > before["DeviationEvent"])
        # Undo a successful transition so the next example meets the same state.
        Deviation.objects.filter(pk=report.pk).update(
            status=original, council=getattr(w, f"council_{report_attr[0]}")
        )
        ResponseRequest.objects.filter(deviation=report).exclude(pk=w.open_request.pk).delete()

    run()


def test_note_and_assign_forms(w):
    client = as_user(w.coord_x)
    note_url = reverse("deviations:note", args=[w.x1.reference, "intern"])
    assign_url = reverse("deviations:assign", args=[w.x1.reference])

    @fuzz
    @given(
        note=mutate({"intern-text": "Anteckning."}),
        assign=mutate({"assignee": str(w.coord_x.pk), "me": ""}),
    )
    def run(note, assign):
        before = counts()
        check(client.post(note_url, note), before)
        assert counts()["DeviationEvent"] - before["DeviationEvent"] in (0, 1)
        before = counts()
        check(client.post(assign_url, assign), before)
        assert counts()["DeviationEvent"] - before["DeviationEvent"] in (0, 1)

    run()


REFERENCE_PATHS = [
    ("get", "/rapporter/{}/"),
    ("post", "/rapporter/{}/atgard/close/"),
    ("post", "/rapporter/{}/tilldela/"),
    ("post", "/rapporter/{}/anteckning/intern/"),
    ("post", "/rapporter/{}/yttrande/1/aterkalla/"),
    ("post", "/systemfragor/1/koppla-bort/{}/"),
]


def hostile_reference_requests(client, reference):
    for method, template in REFERENCE_PATHS:
        before = counts()
        path = template.format(quote(reference, safe=""))
        response = client.get(path) if method == "get" else client.post(path, {"text": "x"})
        check(response, before)
        assert counts() == before


@pytest.mark.parametrize("reference", ["\x00", "SB-2026-\x0000001", "SB-2026-00001\x00", "%00", "\u202e1"])
def test_nul_and_control_characters_in_a_reference_answer_404(w, reference):
    """Found by the fuzz test on PostgreSQL: a NUL byte in the URL reached the database (500)."""
    client = as_user(w.regional)
    for method, template in REFERENCE_PATHS:
        path = template.format(quote(reference, safe=""))
        response = client.get(path) if method == "get" else client.post(path)
        assert response.status_code == 404, path


def test_hostile_references_in_urls(w):
    client = as_user(w.regional)

    @fuzz
    @given(reference=hostile_text.filter(lambda t: t.strip()))
    def run(reference):
        hostile_reference_requests(client, reference)

    run()


# --- Systemic issues --------------------------------------------------------------------------------


def test_systemic_issue_forms(w):
    client = as_user(w.regional)
    due = (timezone.localdate() + datetime.timedelta(days=30)).isoformat()
    issue_form = {
        "title": "Fråga",
        "description": "Beskrivning",
        "agreements": [w.agreement.pk],
        "state": "open",
        "outcome": "",
    }
    targets = [
        (reverse("deviations:systemic_create"), issue_form),
        (reverse("deviations:systemic_edit", args=[w.issue.pk]), issue_form),
        (reverse("deviations:systemic_link", args=[w.issue.pk]), {"reference": w.y1.reference}),
        (
            reverse("deviations:systemic_action_add", args=[w.issue.pk]),
            {"description": "Rutin", "owner": w.org_psych.pk, "due_on": due},
        ),
        (reverse("deviations:systemic_action_state", args=[w.issue.pk, w.action.pk]), {"state": "done"}),
        (
            reverse("deviations:systemic_resolve", args=[w.issue.pk]),
            {"outcome": "Löst.", "feedback": "Tack.", "close_open_reports": "on"},
        ),
    ]

    @fuzz
    @given(index=st.integers(0, len(targets) - 1), data=st.data())
    def run(index, data):
        url, valid = targets[index]
        posted = data.draw(mutate(valid))
        before = counts()
        check(client.post(url, posted), before)

    run()


# --- GET forms (query strings) --------------------------------------------------------------------


def test_query_string_forms(w):
    followup = {
        "agreement": str(w.agreement.pk),
        "period_type": "custom",
        "year": "2026",
        "half": "1",
        "quarter": "2",
        "start": "2026-01-01",
        "end": "2026-03-31",
        "scope": f"council:{w.council_x.pk}",
        "basis": "reported_on",
    }
    queue = {
        "q": "utskrivning",
        "status": "triage",
        "agreement": str(w.agreement.pk),
        "council": str(w.council_x.pk),
        "occurred": "year",
        "sort": "-created",
        "size": "50",
        "after": "x",
        "overdue": "true",
    }
    pack = {"meeting_date": "2026-11-25", "previous_meeting": "2026-10-25"}
    targets = [
        (w.coord_x, reverse("followup:followup"), followup),
        (w.regional, reverse("followup:followup"), {**followup, "scope": "county"}),
        (w.coord_x, reverse("followup:export", args=["rapporter", "csv"]), followup),
        (w.coord_x, reverse("deviations:queue"), queue),
        (w.regional, reverse("deviations:escalated"), queue),
        (w.coord_x, reverse("followup:meeting_pack", args=[w.council_x.pk]), pack),
        (w.regional, reverse("deviations:systemic_list"), {"state": "open"}),
        (w.reporter_a, reverse("deviations:my_reports"), {"page": "2"}),
    ]
    clients = {user.pk: as_user(user) for user, _url, _valid in targets}

    @fuzz
    @given(index=st.integers(0, len(targets) - 1), data=st.data())
    def run(index, data):
        user, url, valid = targets[index]
        params = data.draw(mutate(valid))
        before = counts()
        response = clients[user.pk].get(url, params)
        check(response, before)
        assert counts() == before

    run()


def test_save_analysis_form(w):
    client = as_user(w.regional)
    url = reverse("followup:save_analysis") + (
        f"?agreement={w.agreement.pk}&period_type=year&year=2026&scope=county&basis=reported_on"
    )

    @fuzz
    @given(data=mutate({"analysis": "Analys", "recommendations": "Rek", "followup_areas": "SIP"}))
    def run(data):
        before = counts()
        check(client.post(url, data), before)

    run()


# --- Login and the account -------------------------------------------------------------------------


def test_login_and_account_forms(w):
    anonymous = Client()
    user = factories.UserFactory(username="fuzz_account")
    signed_in = as_user(user)
    password = user.password

    @fuzz
    @given(
        login=mutate({"username": "fuzz_account", "password": "fel"}),
        change=mutate({"old_password": "fel", "new_password1": "x", "new_password2": "y"}),
        everywhere=mutate({"password": "fel"}),
    )
    def run(login, change, everywhere):
        before = counts()
        check(anonymous.post(reverse("login"), login), before)
        check(signed_in.post(reverse("account:password_change"), change), before)
        check(signed_in.post(reverse("account:sign_out_everywhere"), everywhere), before)
        # No hostile value is the right password: it never changes.
        assert User.objects.get(pk=user.pk).password == password

    run()


# --- The accessibility feedback form (stored only until mailed) --------------------------------------


def test_accessibility_feedback_form(w, mailoutbox, django_capture_on_commit_callbacks):
    client = Client()
    valid = {"message": "Knappen syns inte.", "page": "/rapportera/", "email": "besokare@example.se"}

    @fuzz
    @given(data=mutate(valid))
    def run(data):
        before = counts()
        sent = len(mailoutbox)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("pages:accessibility"), data)
        check(response, before)
        assert counts() == before
        assert len(mailoutbox) - sent == (1 if response.status_code == 302 else 0)

    run()
