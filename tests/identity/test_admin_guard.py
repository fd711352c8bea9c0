"""The admin refuses an identity number in any text, also in other packages' models (groups, e-mail
addresses, social accounts and apps), whose fields carry no validator of ours."""

import json

import pytest
from allauth.account.models import EmailAddress
from allauth.socialaccount.models import SocialAccount
from django.contrib import admin
from django.contrib.auth.models import Group

from deviations.models import SavedFilter
from identity.admin_site import IdentityNumberGuardAdmin

pytestmark = pytest.mark.django_db

NUMBER = "811218-9876"  # a valid personnummer (date and check digit)
REFUSAL = "personnummer eller samordningsnummer"


def test_every_registered_admin_is_guarded():
    assert all(
        isinstance(model_admin, IdentityNumberGuardAdmin) for model_admin in admin.site._registry.values()
    )


def test_a_group_name_with_a_number_is_refused_and_an_ordinary_one_saved(client, superuser):
    client.force_login(superuser)
    refused = client.post("/admin/auth/group/add/", {"name": f"Grupp {NUMBER}"})
    assert refused.status_code == 200 and REFUSAL in refused.content.decode()
    assert not Group.objects.exists()
    assert client.post("/admin/auth/group/add/", {"name": "Samordnare"}).status_code == 302
    assert Group.objects.filter(name="Samordnare").exists()


def test_an_email_address_with_a_number_is_refused(client, superuser):
    client.force_login(superuser)
    data = {"user": superuser.pk, "email": "8112189876@stockholm.se", "verified": "on", "primary": ""}
    refused = client.post("/admin/account/emailaddress/add/", data)
    assert refused.status_code == 200 and REFUSAL in refused.content.decode()
    assert not EmailAddress.objects.exists()


def test_a_number_anywhere_in_a_json_value_is_refused(client, superuser):
    """A social account entered by hand skips the login adapter that hashes such identifiers."""
    client.force_login(superuser)
    data = {
        "user": superuser.pk,
        "provider": "openid_connect",
        "uid": "abc-123",
        "extra_data": json.dumps({"claims": [{"pnr": NUMBER}]}),
    }
    refused = client.post("/admin/socialaccount/socialaccount/add/", data)
    assert refused.status_code == 200 and REFUSAL in refused.content.decode()
    refused = client.post(
        "/admin/socialaccount/socialaccount/add/", {**data, "uid": NUMBER, "extra_data": "{}"}
    )
    assert refused.status_code == 200 and REFUSAL in refused.content.decode()
    assert not SocialAccount.objects.exists()


def test_a_saved_filter_query_is_read_decoded(client, superuser):
    """The query is stored percent-encoded: "%2D" is the dash of the number."""
    client.force_login(superuser)
    data = {"owner": superuser.pk, "name": "Filter", "queue": "queue", "query": "q=811218%2D9876"}
    refused = client.post("/admin/deviations/savedfilter/add/", data)
    assert refused.status_code == 200 and REFUSAL in refused.content.decode()
    assert (
        client.post("/admin/deviations/savedfilter/add/", {**data, "query": "q=utskrivning"}).status_code
        == 302
    )
    assert list(SavedFilter.objects.values_list("query", flat=True)) == ["q=utskrivning"]


def test_a_guarded_field_of_ours_gets_one_error_not_two(client, superuser):
    """Fields whose model validates them already are left to that validator."""
    client.force_login(superuser)
    data = {"owner": superuser.pk, "name": f"Filter {NUMBER}", "queue": "queue", "query": ""}
    refused = client.post("/admin/deviations/savedfilter/add/", data)
    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["name"].as_data()[0].code == "identity_number"
    assert len(refused.context["adminform"].form.errors["name"]) == 1
