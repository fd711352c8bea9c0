"""Federated login over OpenID Connect against a real provider running on 127.0.0.1
(django-oauth-toolkit in its own process, tests/identity/conftest.py), through the whole redirect
flow: the service's login button, the IdP's login form, the callback, the code exchange."""

import json

import pytest
from allauth.socialaccount.models import SocialAccount, SocialApp
from django.contrib.auth import SESSION_KEY, get_user_model
from django.contrib.sessions.models import Session
from django.test import Client

from identity import mfa
from identity.models import OrganizationIdentifier
from tests import factories
from tests.identity.idp.harness import (
    ADMIN_PROVIDER,
    LOA2,
    LOA3,
    PERSONNUMMER,
    SETTINGS_PROVIDER,
    TRUSTED_DOMAINS,
)

pytestmark = pytest.mark.django_db
User = get_user_model()


@pytest.fixture
def idp(settings, oidc_idp):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {"APPS": [oidc_idp.app_settings()], "OAUTH_PKCE_ENABLED": True}
    }
    settings.SSO_ACCEPTED_ACR = [LOA3]
    return oidc_idp


@pytest.fixture
def xkommun(db):
    organization = factories.OrganizationFactory(name="Socialtjänsten Xkommun")
    factories.EmailDomainFactory(organization=organization, domain="xkommun.example.se")
    return organization


def federated_login(client, idp, username, *, provider=SETTINGS_PROVIDER, next_url="/mina-rapporter/"):
    response = client.post(f"/konto/sso/oidc/{provider}/login/", {"next": next_url})
    assert response.status_code == 302, response.content[:300]
    assert response["Location"].startswith(f"{idp.server_url}/authorize/?")
    assert "code_challenge=" in response["Location"]  # PKCE
    callback = idp.sign_in(response["Location"], username)
    assert callback.startswith(f"http://testserver/konto/sso/oidc/{provider}/login/callback/?code=")
    return client.get(callback.removeprefix("http://testserver"))


def signed_in_user(client):
    pk = client.session.get(SESSION_KEY)
    return User.objects.get(pk=pk) if pk else None


def test_first_login_creates_the_account_from_the_claims(client, idp, xkommun):
    response = federated_login(client, idp, "anna")
    assert response.status_code == 302
    assert response["Location"] == "/mina-rapporter/"
    user = signed_in_user(client)
    assert user is not None
    assert (user.email, user.first_name, user.last_name) == (
        "anna.andersson@xkommun.example.se",
        "Anna",
        "Andersson",
    )
    assert user.username == "anna.andersson@xkommun.example.se"
    assert user.organization == xkommun  # by the e-mail domain
    assert not user.has_usable_password()
    assert SocialAccount.objects.get(user=user).provider == SETTINGS_PROVIDER
    # LoA3 is multi-factor: the session counts as two-step verified.
    assert client.session.get(mfa.IDP_MFA_SESSION_KEY) is True
    assert client.get("/mina-rapporter/").status_code == 200


def test_a_taken_username_gives_the_new_account_another_one(client, idp):
    other = factories.UserFactory(username="anna.andersson@xkommun.example.se", email="annan@example.se")
    federated_login(client, idp, "anna")
    user = signed_in_user(client)
    assert user != other and user.email == "anna.andersson@xkommun.example.se"
    assert user.username != other.username


def test_next_login_finds_the_same_account_and_refreshes_the_claims(idp, xkommun):
    federated_login(Client(), idp, "anna")
    user = User.objects.get(email="anna.andersson@xkommun.example.se")
    user.first_name = "Gammalt namn"
    user.save()
    client = Client()
    federated_login(client, idp, "anna")
    assert signed_in_user(client) == user
    user.refresh_from_db()
    assert user.first_name == "Anna"
    assert User.objects.filter(email__iexact="anna.andersson@xkommun.example.se").count() == 1
    assert SocialAccount.objects.filter(user=user).count() == 1


def test_an_existing_local_account_is_linked_by_e_mail_and_keeps_its_councils(client, idp, xkommun):
    local = factories.UserFactory(username="anna.a", email="anna.andersson@XKOMMUN.example.se")
    membership = factories.CouncilMembershipFactory(user=local)
    federated_login(client, idp, "anna")
    assert signed_in_user(client) == local
    assert list(local.memberships.all()) == [membership]
    local.refresh_from_db()
    assert local.organization == xkommun
    assert local.has_usable_password()  # the local password still works where it is allowed


def test_an_organisation_number_claim_wins_over_the_e_mail_domain(client, idp, xkommun):
    district = factories.OrganizationIdentifierFactory(value="2120009999").organization
    federated_login(client, idp, "cecilia")
    assert signed_in_user(client).organization == district


def test_an_hsa_id_claim_places_the_user_in_its_organisation(client, idp):
    region = factories.OrganizationIdentifierFactory(
        kind=OrganizationIdentifier.Kind.HSA_ID, value="se2321000016-bcd1"
    ).organization
    factories.OrganizationFactory(name="Annan region", domains=["regionen.example.se"])
    federated_login(client, idp, "fredrika")
    assert signed_in_user(client).organization == region


def test_without_a_known_identifier_or_a_unique_e_mail_domain_the_organisation_is_left_alone(client, idp):
    for name in ("Förvaltning A", "Förvaltning B"):
        factories.OrganizationFactory(name=name, domains=["xkommun.example.se"])
    previous = factories.OrganizationFactory(name="Förvaltning C")
    local = factories.UserFactory(email="anna.andersson@xkommun.example.se", organization=previous)
    federated_login(client, idp, "anna")
    local.refresh_from_db()
    assert local.organization == previous
    assert local.first_name == "Anna"  # the rest of the claims still apply


def test_a_login_below_the_required_assurance_level_is_refused(client, idp):
    response = federated_login(client, idp, "bertil")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Samverkansbrister kräver en säkrare inloggning" in html
    assert LOA2 in html and LOA3 in html
    assert signed_in_user(client) is None
    assert not User.objects.filter(email="bertil@psykiatri.example.se").exists()


def test_the_required_level_can_be_set_per_identity_provider(client, idp, settings):
    settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] = [idp.app_settings(accepted_acr=[LOA2, LOA3])]
    response = federated_login(client, idp, "bertil")
    assert response.status_code == 302
    assert signed_in_user(client).email == "bertil@psykiatri.example.se"
    # LoA2 is not multi-factor.
    assert not client.session.get(mfa.IDP_MFA_SESSION_KEY)


def test_a_deactivated_account_is_refused(client, idp):
    factories.UserFactory(email="david@xkommun.example.se", is_active=False)
    response = federated_login(client, idp, "david")
    assert response.status_code == 403
    assert "Ditt konto i Samverkansbrister är avstängt" in response.content.decode()
    assert signed_in_user(client) is None


def test_an_account_deactivated_after_its_first_login_is_refused(idp):
    federated_login(Client(), idp, "david")
    User.objects.filter(email="david@xkommun.example.se").update(is_active=False)
    client = Client()
    response = federated_login(client, idp, "david")
    assert response.status_code == 403
    assert signed_in_user(client) is None


def test_a_login_without_an_e_mail_address_is_refused(client, idp):
    response = federated_login(client, idp, "utan.epost")
    assert response.status_code == 403
    assert "skickade ingen e-postadress" in response.content.decode()
    assert signed_in_user(client) is None


def admin_app(idp, **app_settings) -> SocialApp:
    """An OpenID Connect provider added in the admin, at the test IdP."""
    return SocialApp.objects.create(
        provider="openid_connect",
        provider_id=ADMIN_PROVIDER,
        name="Kommun B (från admin)",
        client_id="samverkansbrister",
        secret="hemlig-klientnyckel-for-test",
        settings={"server_url": idp.server_url, **app_settings},
    )


def test_identity_providers_from_settings_and_from_the_admin_work_side_by_side(client, idp):
    admin_app(idp, email_domains=TRUSTED_DOMAINS)
    html = client.get("/konto/logga-in/").content.decode()
    assert 'action="/konto/sso/oidc/testidp/login/"' in html
    assert 'action="/konto/sso/oidc/kommunb/login/"' in html
    assert "Testkommunens inloggning" in html and "Kommun B (från admin)" in html
    response = federated_login(client, idp, "anna", provider=ADMIN_PROVIDER)
    assert response.status_code == 302
    assert SocialAccount.objects.get(user=signed_in_user(client)).provider == ADMIN_PROVIDER


def test_an_identity_provider_without_trust_has_no_button(client, idp):
    admin_app(idp)  # no email_domains, no organizations
    html = client.get("/konto/logga-in/").content.decode()
    assert "Kommun B (från admin)" not in html
    assert 'action="/konto/sso/oidc/kommunb/login/"' not in html
    assert 'action="/konto/sso/oidc/testidp/login/"' in html  # trusted in settings


def test_a_superuser_at_a_multi_factor_level_reaches_the_admin_without_a_code(client, idp):
    factories.UserFactory(email="anna.andersson@xkommun.example.se", is_staff=True, is_superuser=True)
    federated_login(client, idp, "anna", next_url="/admin/")
    assert client.get("/admin/").status_code == 200


def test_a_superuser_at_a_single_factor_level_must_still_use_a_code(client, idp, settings):
    settings.SSO_MULTI_FACTOR_ACR = []
    factories.UserFactory(email="anna.andersson@xkommun.example.se", is_staff=True, is_superuser=True)
    federated_login(client, idp, "anna", next_url="/admin/")
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/tvastegsverifiering/")


def test_federated_login_works_with_password_login_switched_off(client, idp, settings, xkommun):
    settings.LOCAL_LOGIN_ENABLED = False
    html = client.get("/konto/logga-in/").content.decode()
    assert 'name="password"' not in html
    assert "Logga in via din organisation" in html
    assert federated_login(client, idp, "anna").status_code == 302
    assert signed_in_user(client) is not None


def test_a_login_link_opened_with_get_only_asks_to_confirm(client, idp):
    response = client.get(f"/konto/sso/oidc/{SETTINGS_PROVIDER}/login/")
    assert response.status_code == 200
    assert "Logga in via Testkommunens inloggning" in response.content.decode()
    assert client.get("/konto/sso/oidc/okand/login/").status_code == 404


def test_a_forged_callback_signs_nobody_in(client, idp):
    client.post(f"/konto/sso/oidc/{SETTINGS_PROVIDER}/login/", {"next": "/"})
    response = client.get(f"/konto/sso/oidc/{SETTINGS_PROVIDER}/login/callback/?code=forged&state=forged")
    assert response.status_code == 401
    assert "Något gick fel vid inloggningen" in response.content.decode()
    assert signed_in_user(client) is None


def test_the_login_page_lets_its_forms_lead_to_the_identity_providers_only(client, idp):
    policy = client.get("/konto/logga-in/")["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if " " in part.strip())
    assert directives["form-action"] == f"'self' {idp.url}"
    # Other pages keep form-action 'self'.
    policy = client.get("/tillganglighet/")["Content-Security-Policy"]
    assert "form-action 'self';" in policy or policy.endswith("form-action 'self'")


def test_an_account_made_by_a_federated_login_is_offered_no_password_pages(client, idp):
    federated_login(client, idp, "anna")
    html = client.get("/konto/profil/").content.decode()
    assert 'href="/konto/tvastegsverifiering/"' in html
    assert 'href="/konto/byt-losenord/"' not in html
    assert 'href="/konto/logga-ut-overallt/"' not in html


# --- Whom an identity provider may sign in (identity/trust.py) -----------------------------------------


def test_an_idp_cannot_sign_in_an_account_outside_its_trusted_domains(client, idp, caplog):
    admin = factories.UserFactory(email="admin@regionstockholm.example.se", is_staff=True, is_superuser=True)
    response = federated_login(client, idp, "mallory", next_url="/admin/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "Inloggningen du använde är inte godkänd för konton med din e-postadress" in html
    assert signed_in_user(client) is None
    assert not SocialAccount.objects.filter(user=admin).exists()
    assert f"refused (domain) for identity provider {SETTINGS_PROVIDER}" in caplog.text
    assert "regionstockholm" not in caplog.text and "admin@" not in caplog.text


def test_an_idp_cannot_create_an_account_outside_its_trusted_domains(client, idp):
    assert federated_login(client, idp, "mallory").status_code == 403
    assert not User.objects.filter(email="admin@regionstockholm.example.se").exists()


def test_an_idp_without_trusted_domains_signs_in_nobody(client, idp, settings, caplog):
    app = idp.app_settings()
    del app["settings"]["email_domains"]
    settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] = [app]
    local = factories.UserFactory(email="anna.andersson@xkommun.example.se")
    response = federated_login(client, idp, "anna")
    assert response.status_code == 403
    assert signed_in_user(client) is None
    assert not SocialAccount.objects.filter(user=local).exists()
    assert f"Identity provider {SETTINGS_PROVIDER} has no trusted e-mail domains" in caplog.text


def test_an_idp_trusted_for_an_organisation_signs_in_its_registered_domains_only(client, idp, settings):
    xkommun = factories.OrganizationFactory(name="Xkommun", domains=["xkommun.example.se"])
    factories.OrganizationIdentifierFactory(organization=xkommun, value="2120001111")
    settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] = [
        idp.app_settings(email_domains=[], organizations=["2120001111"], accepted_acr=[LOA2, LOA3])
    ]
    assert federated_login(Client(), idp, "bertil").status_code == 403  # psykiatri.example.se
    assert federated_login(client, idp, "anna").status_code == 302
    assert signed_in_user(client).organization == xkommun


def test_an_idp_trusted_for_organisations_cannot_place_a_user_in_another(client, idp, settings):
    xkommun = factories.OrganizationFactory(name="Xkommun", domains=["xkommun.example.se"])
    factories.OrganizationIdentifierFactory(organization=xkommun, value="2120001111")
    other = factories.OrganizationIdentifierFactory(value="2120009999").organization
    settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] = [
        idp.app_settings(organizations=["2120001111"])
    ]
    federated_login(client, idp, "cecilia")  # asserts organization_number 2120009999
    user = signed_in_user(client)
    assert user.organization == xkommun != other


def test_a_linked_account_is_found_by_its_subject_not_by_a_reassigned_address(idp, xkommun):
    federated_login(Client(), idp, "anna")
    anna = User.objects.get(email="anna.andersson@xkommun.example.se")
    # The organisation gives Anna's address to another person, who signs in at the same IdP.
    client = Client()
    response = federated_login(client, idp, "anna2")
    assert response.status_code == 403
    assert "redan kopplat till en annan person" in response.content.decode()
    assert signed_in_user(client) is None
    anna.refresh_from_db()
    assert anna.last_name == "Andersson"
    assert SocialAccount.objects.filter(user=anna).count() == 1


def test_a_linked_login_does_not_take_another_accounts_address(idp):
    federated_login(Client(), idp, "anna")
    anna = User.objects.get(email="anna.andersson@xkommun.example.se")
    anna.email = "anna.old@xkommun.example.se"
    anna.save()
    other = factories.UserFactory(email="anna.andersson@xkommun.example.se")
    client = Client()
    assert federated_login(client, idp, "anna").status_code == 302
    assert signed_in_user(client) == anna  # by the link
    anna.refresh_from_db()
    assert anna.email == "anna.old@xkommun.example.se"
    assert other.email == "anna.andersson@xkommun.example.se"


# --- What is stored of the claims ------------------------------------------------------------------------


def test_no_identity_number_or_unknown_claim_is_stored_with_the_account(client, idp):
    district = factories.OrganizationIdentifierFactory(value="2120009999").organization
    assert federated_login(client, idp, "pia").status_code == 302
    user = signed_in_user(client)
    assert user.organization == district  # the organisation part of the scoped orgAffiliation
    account = SocialAccount.objects.get(user=user)
    stored = json.dumps(account.extra_data)
    assert PERSONNUMMER not in stored and PERSONNUMMER[2:] not in stored
    assert "personalIdentityNumber" not in stored and "Storgatan" not in stored
    assert account.extra_data["id_token"]["orgAffiliation"] == "@2120009999"
    assert account.extra_data["id_token"]["email"] == "pia@xkommun.example.se"
    assert account.extra_data["id_token"]["acr"] == LOA3
    for session in Session.objects.all():
        assert PERSONNUMMER not in json.dumps(session.get_decoded(), default=str)


def test_a_subject_that_is_an_identity_number_is_stored_as_a_keyed_hash(idp, settings):
    settings.SOCIALACCOUNT_PROVIDERS["openid_connect"]["APPS"] = [
        idp.app_settings(uid_field="personalIdentityNumber")
    ]
    federated_login(Client(), idp, "pia")
    account = SocialAccount.objects.get(user__email="pia@xkommun.example.se")
    assert account.uid.startswith("hmac-sha256:") and PERSONNUMMER not in account.uid
    assert account.extra_data["id_token"]["sub"] == account.uid
    client = Client()
    assert federated_login(client, idp, "pia").status_code == 302  # found again by the hash
    assert signed_in_user(client) == account.user
    assert SocialAccount.objects.count() == 1


def test_password_login_blocked_at_an_address_leaves_the_organisations_login(
    client, idp, settings, axes_enabled, ratelimits_enabled
):
    """Many failed passwords from one address block password login from it (config/ratelimits.py); the
    login page says so, and the identity providers' logins go on working from the same address."""
    settings.LOGIN_FAILURES_PER_ADDRESS = "2/h"
    for name in ("bertil", "cecilia"):
        client.post("/konto/logga-in/", {"username": name, "password": "Sommar2026!"})
    response = client.post("/konto/logga-in/", {"username": "anna", "password": "Sommar2026!"})
    assert response.status_code == 429
    html = response.content.decode()
    assert "Inloggning med lösenord är tillfälligt spärrad från din adress" in html
    assert "Inloggning via din organisation fungerar som vanligt." in html
    assert 'action="/konto/sso/oidc/testidp/login/"' in html
    assert federated_login(client, idp, "anna").status_code == 302
    assert signed_in_user(client) is not None
