"""A report counts for the organisation it is filed from only when the reporter's address is at one of
that organisation's registered e-mail domains, with or without an account; and a user belongs only to
an organisation whose domain their address is at. So the statistics per organisation pair count what
each organisation's own staff reported."""

import uuid

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from config.errors import Invalid
from deviations.models import Deviation
from deviations.services import reporting
from tests import factories
from tests.deviations.reporting_world import build_world, service_data, valid_post

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    w = build_world()
    # Stockholm city's units share one domain; any of them may be chosen with it.
    w.spanga_social = factories.OrganizationFactory(
        name="Socialtjänsten Spånga-Tensta", principal_municipality=w.stockholm, domains=["stockholm.se"]
    )
    w.bromma_social = factories.OrganizationFactory(
        name="Socialtjänsten Bromma", principal_municipality=w.stockholm, domains=["Stockholm.se"]
    )
    return w


def submit(w, *, reporter=None, **overrides):
    return reporting.submit_deviation(
        data=service_data(w, **overrides), idempotency_key=uuid.uuid4(), reporter=reporter
    )


def refused_for_organisation(w, **kwargs) -> str:
    with pytest.raises(Invalid) as refused:
        submit(w, **kwargs)
    assert list(refused.value.errors) == ["reporting_organization"]
    assert not Deviation.objects.exists()
    return refused.value.errors["reporting_organization"]


# --- Without an account ---------------------------------------------------------------------------


def test_an_address_of_another_organisation_cannot_report_for_this_one(w):
    message = refused_for_organisation(
        w, reporter_email="anna@nacka.se", reporting_organization=w.spanga_social
    )
    assert "”nacka.se”" in message and "Socialtjänsten Spånga-Tensta" in message
    assert "anna" not in message


def test_any_organisation_sharing_the_domain_may_be_chosen(w):
    for organization in (w.spanga_social, w.bromma_social):
        deviation, created = submit(
            w, reporter_email="Anna@STOCKHOLM.se", reporting_organization=organization
        )
        assert created and deviation.reporting_organization == organization


def test_an_unregistered_domain_is_still_refused_on_the_address(w):
    with pytest.raises(Invalid) as refused:
        submit(w, reporter_email="anna@gmail.com")
    assert list(refused.value.errors) == ["reporter_email"]


def test_the_form_shows_the_error_on_the_organisation_field(client, w):
    response = client.post(
        reverse("deviations:report_form"),
        valid_post(w, reporter_email="anna@nacka.se", reporting_organization=w.spanga_social.pk),
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert list(form.errors) == ["reporting_organization"]
    assert "hör inte till Socialtjänsten Spånga-Tensta" in response.content.decode()
    assert Deviation.objects.count() == 0


# --- With an account ------------------------------------------------------------------------------


def test_a_signed_in_reporter_reports_for_the_organisation_of_their_address(w):
    user = factories.UserFactory(email="anna@nacka.se", organization=w.own)
    message = refused_for_organisation(
        w, reporter=user, reporter_email="anna@nacka.se", reporting_organization=w.spanga_social
    )
    assert "”nacka.se”" in message
    deviation, created = submit(w, reporter=user, reporter_email="anna@nacka.se")
    assert created and deviation.reporting_organization == w.own


def test_a_signed_in_reporter_cannot_give_an_address_of_another_domain(w):
    user = factories.UserFactory(email="anna@nacka.se", organization=w.own)
    message = refused_for_organisation(w, reporter=user, reporter_email="anna@regionstockholm.se")
    assert "”regionstockholm.se”" in message


def test_an_account_address_outside_the_organisation_cannot_report_for_it(w):
    """An account from before the rule (or whose organisation lost the domain) cannot file for it."""
    user = factories.UserFactory(email="anna@example.org", organization=w.own)
    message = refused_for_organisation(w, reporter=user, reporter_email="anna@nacka.se")
    assert "”example.org”" in message


# --- A user's organisation ------------------------------------------------------------------------


def test_a_user_belongs_only_to_an_organisation_of_their_domain(w):
    user = factories.UserFactory(email="anna@NACKA.se", organization=w.own)
    user.full_clean()
    user.organization = w.counterpart
    with pytest.raises(ValidationError) as refused:
        user.full_clean()
    assert list(refused.value.message_dict) == ["organization"]
    assert "”nacka.se”" in refused.value.message_dict["organization"][0]
    # No organisation, or no address: nothing to compare.
    factories.UserFactory(email="x@gmail.com", organization=None).full_clean()
    factories.UserFactory(username="utan.adress", email="", organization=w.counterpart).full_clean()


def user_form(user, **changes) -> dict:
    organization = changes.pop("organization", user.organization)
    data = {
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "organization": organization.pk if organization else "",
        "phone": "",
        "is_active": "on",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "08:00:00",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    data.update(changes)
    return data


def test_admin_refuses_an_organisation_outside_the_users_domain(client, w, superuser):
    user = factories.UserFactory(username="anna", email="anna@nacka.se", organization=w.own)
    client.force_login(superuser)
    url = reverse("admin:councils_user_change", args=[user.pk])
    response = client.post(url, user_form(user, organization=w.counterpart))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert list(errors) == ["organization"]
    user.refresh_from_db()
    assert user.organization == w.own
    # Changing the address to the other organisation's domain with it is fine.
    response = client.post(url, user_form(user, organization=w.counterpart, email="anna@regionstockholm.se"))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.organization == w.counterpart


def test_admin_refuses_a_new_user_outside_the_organisations_domain(client, w, superuser):
    client.force_login(superuser)
    response = client.post(
        reverse("admin:councils_user_add"),
        {
            "username": "ny",
            "email": "ny@gmail.com",
            "organization": w.own.pk,
            "usable_password": "true",
            "password1": "ett-langt-losenord-77",
            "password2": "ett-langt-losenord-77",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["organization"]
    assert not type(superuser).objects.filter(username="ny").exists()
