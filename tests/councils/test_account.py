"""The profile page and signing out on all devices."""

import pytest
from django.test import Client

from tests import factories

pytestmark = pytest.mark.django_db

PROFILE = "/konto/profil/"
EVERYWHERE = "/konto/logga-ut-overallt/"


def test_profile_requires_login(client):
    response = client.get(PROFILE)
    assert response.status_code == 302
    assert response["Location"].startswith("/konto/logga-in/")


def test_profile_shows_name_organization_and_councils(client, django_assert_max_num_queries):
    organization = factories.OrganizationFactory(name="Socialtjänsten Spånga-Tensta")
    user = factories.UserFactory(first_name="Anna", last_name="Andersson", organization=organization)
    factories.CouncilMembershipFactory(user=user, council=factories.CouncilFactory(name="Samråd Västerort"))
    factories.CouncilMembershipFactory(
        user=user, council=factories.RegionalCouncilFactory(name="Regionala samrådet"), role="member"
    )
    other = factories.UserFactory()
    factories.CouncilMembershipFactory(user=other, council=factories.CouncilFactory(name="Samråd Söderort"))
    client.force_login(user)
    with django_assert_max_num_queries(8):
        response = client.get(PROFILE)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Anna Andersson" in body
    assert "Socialtjänsten Spånga-Tensta" in body
    assert "Samråd Västerort" in body
    assert "Regionala samrådet" in body
    assert "Samråd Söderort" not in body
    assert 'href="/konto/byt-losenord/"' in body
    assert f'href="{EVERYWHERE}"' in body
    assert body.count("<h1") == 1


def test_password_change_page_renders_with_crispy(client):
    client.force_login(factories.UserFactory())
    response = client.get("/konto/byt-losenord/")
    assert response.status_code == 200
    assert 'autocomplete="current-password"' in response.content.decode()


def login(username) -> Client:
    client = Client()
    assert (
        client.post(
            "/konto/logga-in/", {"username": username, "password": factories.DEFAULT_PASSWORD}
        ).status_code
        == 302
    )
    return client


def test_sign_out_everywhere_ends_the_sessions_on_other_devices(axes_enabled):
    user = factories.UserFactory(username="anna")
    laptop, phone = login("anna"), login("anna")
    assert phone.get(PROFILE).status_code == 200

    response = laptop.post(EVERYWHERE, {"password": factories.DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/konto/logga-in/"
    assert "Du är nu utloggad på alla enheter" in laptop.get(response["Location"]).content.decode()

    assert phone.get(PROFILE).status_code == 302, "the other device is signed out"
    assert laptop.get(PROFILE).status_code == 302, "this device is signed out too"
    user.refresh_from_db()
    assert user.check_password(factories.DEFAULT_PASSWORD), "the password itself is unchanged"
    assert login("anna").get(PROFILE).status_code == 200, "signing in again works"


def test_sign_out_everywhere_needs_the_password(axes_enabled):
    factories.UserFactory(username="anna")
    laptop, phone = login("anna"), login("anna")
    response = laptop.post(EVERYWHERE, {"password": "fel"})
    assert response.status_code == 200
    assert "Lösenordet stämmer inte." in response.content.decode()
    assert phone.get(PROFILE).status_code == 200
    assert laptop.get(PROFILE).status_code == 200


def test_sign_out_everywhere_is_throttled_like_login(axes_enabled):
    factories.UserFactory(username="anna")
    laptop = login("anna")
    for _ in range(4):
        assert laptop.post(EVERYWHERE, {"password": "fel"}).status_code == 200
    assert laptop.post(EVERYWHERE, {"password": "fel"}).status_code == 429


def test_sign_out_everywhere_requires_login_and_post(client):
    assert client.post(EVERYWHERE, {"password": "x"}).status_code == 302
    client.force_login(factories.UserFactory())
    assert client.get(EVERYWHERE).status_code == 200
    assert client.put(EVERYWHERE).status_code == 405
