"""Federated login in Chromium: the service's login page, the identity provider's own login form
(django-oauth-toolkit running on 127.0.0.1, tests/identity/idp/), back to the service signed in;
and the refusal page for a login below the required assurance level. axe on the service's pages."""

import pytest

from tests import factories
from tests.browser.helpers import check_page, require_playwright
from tests.identity.idp.harness import IDP_PASSWORD, LOA3, saml_service_and_idp, start_idp

expect = require_playwright().expect


@pytest.fixture(scope="module")
def browser_idp(live_server, tmp_path_factory):
    process, idp = start_idp(tmp_path_factory.mktemp("browser-idp"), [live_server.url])
    yield idp
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def saml_idp(settings, tmp_path, live_server):
    """pysaml2's IdP, knowing the service (on the live server) from its metadata view."""
    from django.test import Client

    process, idp = saml_service_and_idp(settings, tmp_path, Client())
    settings.SSO_ACCEPTED_ACR = [LOA3]
    yield idp
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def page_allowed_origins(request, browser_idp):
    origins = [browser_idp.url + "/"]
    if "saml_idp" in request.fixturenames:
        origins.append(request.getfixturevalue("saml_idp").url + "/")
    return tuple(origins)


@pytest.fixture
def idp(settings, browser_idp):
    settings.SOCIALACCOUNT_PROVIDERS = {
        "openid_connect": {"APPS": [browser_idp.app_settings()], "OAUTH_PKCE_ENABLED": True}
    }
    settings.SSO_ACCEPTED_ACR = [LOA3]
    return browser_idp


def sign_in_at_the_idp(page, username):
    expect(page.get_by_role("heading", name="Test-IdP: logga in")).to_be_visible()
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(IDP_PASSWORD)
    page.get_by_role("button", name="Logga in hos IdP").click()


@pytest.mark.parametrize("language", ["sv", "en"])
def test_staff_member_signs_in_through_the_organisations_identity_provider(page, idp, language):
    organization = factories.OrganizationFactory(name="Socialtjänsten Xkommun")
    factories.EmailDomainFactory(organization=organization, domain="xkommun.example.se")
    prefix = "" if language == "sv" else "/en"
    page.goto(f"{prefix}/mina-rapporter/")
    expect(page).to_have_url(f"{prefix}/konto/logga-in/?next={prefix}/mina-rapporter/")
    check_page(page, f"login-with-sso-{language}", language=language)
    page.get_by_role("button", name="Testkommunens inloggning").click()
    assert page.url.startswith(idp.url), page.url
    sign_in_at_the_idp(page, "anna")
    expect(page).to_have_url(f"{prefix}/mina-rapporter/")
    expect(page.get_by_role("banner")).to_contain_text("Anna Andersson")


@pytest.mark.parametrize("language", ["sv", "en"])
def test_a_login_below_the_required_level_is_refused_with_a_clear_message(page, idp, language):
    prefix = "" if language == "sv" else "/en"
    page.goto(f"{prefix}/konto/logga-in/")
    page.get_by_role("button", name="Testkommunens inloggning").click()
    sign_in_at_the_idp(page, "bertil")
    heading = "Inloggningen godtogs inte" if language == "sv" else "The sign-in was not accepted"
    expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    check_page(page, f"sso-refused-{language}", language=language)
    expect(page.get_by_role("button", name="Logga ut" if language == "sv" else "Sign out")).to_have_count(0)


def test_staff_member_signs_in_through_a_saml_identity_provider(page, saml_idp):
    page.goto("/mina-rapporter/")
    page.get_by_role("link", name=saml_idp.entity_id).click()
    expect(page.get_by_role("heading", name="Test-IdP SAML: logga in")).to_be_visible()
    page.get_by_label("Användarnamn").fill("anna")
    page.get_by_role("button", name="Logga in hos SAML-IdP").click()
    # The IdP's page posts the signed assertion back to the service.
    expect(page).to_have_url("/mina-rapporter/")
    expect(page.get_by_role("banner")).to_contain_text("Anna Andersson")


def test_the_identity_provider_button_works_under_the_sites_content_security_policy(csp_page, idp):
    """The button posts to the service, which redirects to the IdP: the login page's form-action
    must allow the IdP's origin (Chromium checks redirects after a form submission too)."""
    csp_page.goto("/konto/logga-in/")
    csp_page.get_by_role("button", name="Testkommunens inloggning").click()
    expect(csp_page.get_by_role("heading", name="Test-IdP: logga in")).to_be_visible()
