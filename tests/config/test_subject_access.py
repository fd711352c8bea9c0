"""The register extract (``manage.py personal_data_extract``): everything stored about the person behind
an address, found by their account and by the address in any letter case; never another person's data
or a secret; every link to a person followed by some section; one query a section."""

import dataclasses
import datetime
import json
import os
from io import StringIO

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from axes.models import AccessAttempt, AccessFailureLog
from axes.models import AccessLog as LoginLog
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management import CommandError, call_command
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from api.models import ApiToken
from config.subject_access import extract, rows_section, sections
from deviations.models import DeviationEvent
from identity.models import SamlIdentity
from pages.models import AccessibilityFeedback
from tests import factories

pytestmark = pytest.mark.django_db

ADDRESS = "Petra.Pettersson@kommun.example.se"


def person(username, first, last, email):
    return factories.UserFactory(username=username, first_name=first, last_name=last, email=email)


def stored_about(user, address, *, organization, council, other, tag):
    """One row of every kind the service keeps about a person: by ``user``'s account, and by
    ``address`` typed in upper case where a stranger typed it. ``other``: another account the rows
    also name (the previous assignee). Returns what must be kept secret from the extract."""
    factories.CouncilMembershipFactory(council=council, user=user)
    user.groups.add(Group.objects.get_or_create(name=f"Handläggare {tag}")[0])
    factories.CouncilMeetingFactory(council=council, created_by=user)
    factories.FollowUpAnalysisFactory(author=user)
    filed = factories.DeviationFactory(reporter=user, reporter_email="", reporter_name="")
    factories.DeviationFactory(
        reporter=None,
        reporter_name=f"{user.first_name} {user.last_name}",
        reporter_email=address.upper(),
        reporter_phone="070-123 45 67",
    )
    handled = factories.DeviationFactory(assigned_to=user)
    DeviationEvent.objects.create(deviation=handled, actor=user, kind="note", text=f"Ringde enheten ({tag}).")
    DeviationEvent.objects.create(deviation=handled, kind="assignment", from_assignee=other, to_assignee=user)
    factories.ResponseRequestFactory(deviation=filed, requested_by=user, organization=organization)
    factories.ResponseRequestFactory(email=address, answered_by_name=f"{user.first_name} (enhetschef)")
    factories.PendingNotificationFactory(user=user)
    factories.AccessLogFactory(user=user, deviation=filed)
    factories.SavedFilterFactory(owner=user)
    factories.SystemicIssueFactory(created_by=user)
    AccessibilityFeedback.objects.create(message="Kontrasten är låg.", page="/arenden/", email=address)
    SamlIdentity.objects.create(
        user=user, idp_entity_id=f"https://idp-{tag}.example.se", name_id=f"nameid-{tag}"
    )
    SocialAccount.objects.create(
        user=user, provider="openid_connect", uid=f"sub-{tag}", extra_data={"acr": "x"}
    )
    EmailAddress.objects.create(user=user, email=f"{tag}@privat.example.se", verified=True, primary=False)
    device = factories.TOTPDeviceFactory(user=user)
    for name in (user.username, address):
        LoginLog.objects.create(username=name, ip_address="10.0.0.1", user_agent=f"Firefox {tag}")
        AccessFailureLog.objects.create(username=name, ip_address="10.0.0.2", user_agent=f"Edge {tag}")
    AccessAttempt.objects.create(
        username=user.username, ip_address="10.0.0.3", user_agent=tag, failures_since_start=2
    )
    LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(get_user_model()),
        object_id=str(other.pk),
        object_repr=str(other),
        action_flag=CHANGE,
    )
    token, secret = ApiToken.objects.create(
        user=user, expiry=datetime.timedelta(days=30), name=f"Skript {tag}"
    )
    return [user.password, device.key, token.digest, secret]


@pytest.fixture
def world():
    organization = factories.RegionOrganizationFactory(contact_email="yttrande@region.example.se")
    factories.OrganizationFactory(contact_email=ADDRESS.lower())  # a personal address as the contact
    council = factories.CouncilFactory()
    petra = person("petra", "Petra", "Pettersson", ADDRESS)
    quentin = person("quentin", "Quentin", "Qvarnström", "quentin@kommun.example.se")
    secrets = stored_about(
        petra, ADDRESS, organization=organization, council=council, other=quentin, tag="pp"
    )
    stored_about(quentin, quentin.email, organization=organization, council=council, other=petra, tag="qq")
    return petra, quentin, secrets


def dump(document) -> str:
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False)


# --- Every link to a person is followed --------------------------------------------------------------


def links_to_people() -> set[str]:
    """Every foreign key to the user model (many-to-many tables too) and every e-mail field."""
    user_model = get_user_model()
    found = set()
    for model in apps.get_models(include_auto_created=True):
        for field in model._meta.concrete_fields:
            if (field.is_relation and field.related_model is user_model) or isinstance(
                field, models.EmailField
            ):
                found.add(f"{model._meta.label}.{field.name}")
    return found


def test_every_link_to_a_person_is_followed_by_a_section():
    """A new model with a foreign key to the user model or an e-mail field needs a section (an app's
    ``privacy`` module) that follows it."""
    covered = {link for part in sections().values() for link in part.covers}
    links = links_to_people()
    assert links - covered == set(), "not in the register extract"
    assert covered - links == set(), "sections cover links that no longer exist"


# --- What the extract holds -----------------------------------------------------------------------


def test_the_extract_holds_every_kind_of_row_about_the_person_and_nothing_of_anyone_else(world):
    petra, quentin, secrets = world

    document = extract(ADDRESS.lower())

    rows = {name: part["rows"] for name, part in document["sections"].items()}
    assert document["accounts"] == ["petra"]
    assert {name: len(found) for name, found in rows.items()} == {
        "account": 1,
        "council_memberships": 1,
        "council_meetings_recorded": 1,
        "council_mailboxes": 0,
        "followup_analyses_written": 1,
        "organisation_contact_addresses": 1,
        "reports_filed": 2,  # by the account, and with the address in capitals
        "reports_assigned": 1,
        "report_events_by": 1,
        "report_assignments": 2,  # assigned to her, and taken from her (by Quentin's assignment)
        "response_requests_sent": 1,
        "response_requests_received": 1,
        "digest_notifications": 1,
        "reports_viewed": 1,
        "saved_filters": 1,
        "systemic_issues_created": 1,
        "accessibility_feedback": 1,
        "saml_identities": 1,
        "openid_connect_accounts": 1,
        "sign_in_addresses": 1,
        "two_step_devices": 1,
        "logins": 2,  # as the username and as the address
        "failed_logins": 2,
        "login_failure_counters": 1,
        "admin_actions": 1,
        "api_keys": 1,
    }
    assert rows["account"][0]["group_names"] == ["Handläggare pp"]
    assert rows["report_events_by"][0]["text"] == "Ringde enheten (pp)."
    assert sorted(r["change"] for r in rows["report_assignments"]) == ["assigned", "unassigned"]
    assert {r["reporter_email"] for r in rows["reports_filed"]} == {"", ADDRESS.upper()}
    text = dump(document).lower()
    for stranger in ("quentin", "qvarnström", "qq", "nameid-qq", "sub-qq"):
        assert stranger not in text, stranger
    for secret in secrets:
        assert secret.lower() not in text


def test_found_by_a_federated_sign_in_address_too(world):
    document = extract("PP@privat.example.se")
    assert document["accounts"] == ["petra"]
    assert len(document["sections"]["reports_assigned"]["rows"]) == 1


def test_an_address_nobody_has_gives_empty_sections():
    document = extract("ingen@example.se")
    assert document["accounts"] == []
    assert all(part["rows"] == [] for part in document["sections"].values())
    assert "nämner personen vid namn" in document["not_searched"]


def test_one_query_a_section_however_many_rows(world):
    petra, quentin, _secrets = world
    sections()  # the apps' modules imported
    with CaptureQueriesContext(connection) as once:
        extract(ADDRESS)
    organization = factories.RegionOrganizationFactory()
    council = factories.CouncilFactory()
    stored_about(petra, ADDRESS, organization=organization, council=council, other=quentin, tag="p2")
    with CaptureQueriesContext(connection) as twice:
        document = extract(ADDRESS)
    assert len(document["sections"]["reports_filed"]["rows"]) == 4
    assert len(once.captured_queries) == len(twice.captured_queries) == len(sections()) + 1


# --- The command ----------------------------------------------------------------------------------


def run(*args):
    out, err = StringIO(), StringIO()
    call_command("personal_data_extract", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_the_command_writes_json_and_a_summary_without_the_address(world, caplog):
    out, err = run(ADDRESS)
    document = json.loads(out)
    assert document["email"] == ADDRESS
    assert document["sections"]["api_keys"]["rows"][0]["name"] == "Skript pp"
    assert err.strip() == "1 account; 29 rows in 25 of 26 sections."
    assert "petra" not in (err + caplog.text).lower()


def test_the_written_extract_is_the_extract_with_its_rows_read_a_chunk_at_a_time(world, settings):
    """The command writes the sections as it reads them (a server-side cursor, a chunk of rows at a
    time): the same document as ``extract``, also when a section's rows span several chunks."""
    petra, quentin, _secrets = world
    stored_about(
        petra,
        ADDRESS,
        organization=factories.RegionOrganizationFactory(),
        council=factories.CouncilFactory(),
        other=quentin,
        tag="p2",
    )
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("config.subject_access.ROWS_AT_A_TIME", 1)
        out, err = run(ADDRESS)
    written, expected = json.loads(out), json.loads(dump(extract(ADDRESS)))
    assert len(written["sections"]["reports_filed"]["rows"]) == 4
    for document in (written, expected):
        del document["generated_at"]
    assert written == expected
    assert err.strip().startswith("1 account; ")


def test_the_command_writes_a_new_file_only_its_owner_may_read(world, tmp_path):
    target = tmp_path / "utdrag.json"
    out, err = run(ADDRESS, "--output", str(target))
    assert out == ""
    assert os.stat(target).st_mode & 0o777 == 0o600
    assert json.loads(target.read_text(encoding="utf-8"))["accounts"] == ["petra"]
    with pytest.raises(CommandError, match="exists"):
        run(ADDRESS, "--output", str(target))
    assert json.loads(target.read_text(encoding="utf-8"))["accounts"] == ["petra"]


@pytest.mark.django_db(transaction=True)
def test_the_command_reads_every_section_from_one_snapshot(transactional_db):
    """Run as the operator runs it (no transaction around it): one repeatable-read transaction."""
    statements = []

    def spy(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        _out, err = run("ingen@example.se")
    assert err.strip() == "Nothing is stored for that address: no account, no rows."
    assert statements[0] == "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"
    assert "councils_user" in statements[1]  # then the accounts and the sections, in that transaction


def test_a_fault_while_writing_leaves_no_file_behind(world, tmp_path):
    target = tmp_path / "utdrag.json"

    def broken(subject):
        raise ConnectionError("the database went away")

    with pytest.MonkeyPatch.context() as patch:
        section = sections()["reports_viewed"]
        patch.setitem(sections(), "reports_viewed", dataclasses.replace(section, read=broken))
        with pytest.raises(ConnectionError):
            run(ADDRESS, "--output", str(target))
    assert not target.exists()


def test_the_command_refuses_what_is_not_an_address_without_repeating_it():
    with pytest.raises(CommandError) as refused:
        run("petra pettersson")
    assert str(refused.value) == "Not an e-mail address."


def test_the_descriptions_speak_the_site_language_or_the_one_asked_for():
    swedish = json.loads(run("ingen@example.se")[0])
    english = json.loads(run("ingen@example.se", "--language", "en")[0])
    assert swedish["sections"]["reports_viewed"]["description"].startswith("Åtkomstloggen")
    assert english["sections"]["reports_viewed"]["description"].startswith("The access log")
    assert "mention the person by name" in english["not_searched"]
    for document in (swedish, english):
        assert all(part["description"] for part in document["sections"].values())


def test_the_command_says_when_nothing_is_stored():
    _out, err = run("ingen@example.se")
    assert err.strip() == "Nothing is stored for that address: no account, no rows."


def test_a_section_that_would_select_no_one_in_particular_is_refused():
    with pytest.raises(ValueError, match="selects no rows by the person"):
        rows_section("everyone", get_user_model().objects.all(), description="Alla.", fields=["username"])
    with pytest.raises(ValueError, match="Two extract sections"):
        rows_section(
            "account", get_user_model().objects.all(), description="Igen.", fields=[], by_account=["pk"]
        )
