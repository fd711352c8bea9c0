"""Every model registered in admin renders for a superuser; new models are covered automatically."""

import inspect

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.test import RequestFactory
from django.urls import reverse
from factory.django import DjangoModelFactory

from deviations.admin import DeviationEventInline
from deviations.models import Deviation, DeviationEvent, ReferenceCounter
from tests import factories

pytestmark = pytest.mark.django_db

OUR_APPS = {"agreements", "councils", "deviations"}
REGISTERED = sorted(admin.site._registry, key=lambda m: m._meta.label)


def factory_for(model):
    for _, obj in inspect.getmembers(factories, inspect.isclass):
        if issubclass(obj, DjangoModelFactory) and obj._meta.model is model and obj is not DjangoModelFactory:
            return obj
    return None


def instance_of(model):
    if model is Group:
        return Group.objects.create(name="Samordnare")
    if model is ReferenceCounter:
        return ReferenceCounter.objects.create(year=2026, last=42)
    factory = factory_for(model)
    if factory is not None:
        return factory()
    return model._default_manager.first()


def url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def test_every_model_of_our_apps_is_registered():
    from django.apps import apps

    ours = {m for m in apps.get_models() if m._meta.app_label in OUR_APPS}
    assert ours <= set(admin.site._registry), ours - set(admin.site._registry)
    # Every model of ours has a factory so the change form below is exercised.
    assert all(factory_for(m) or m is ReferenceCounter for m in ours)


@pytest.mark.parametrize("model", REGISTERED, ids=lambda m: m._meta.label)
def test_admin_pages_render_for_superuser(client, superuser, model):
    client.force_login(superuser)
    obj = instance_of(model)
    model_admin = admin.site._registry[model]
    request = RequestFactory().get("/")
    request.user = superuser

    response = client.get(url(model, "changelist"))
    assert response.status_code == 200
    response = client.get(url(model, "changelist"), {"q": "SB-2026-00001"})
    assert response.status_code == 200

    if model_admin.has_add_permission(request):
        assert client.get(url(model, "add")).status_code == 200
    else:
        assert client.get(url(model, "add")).status_code == 403

    if obj is not None:
        response = client.get(url(model, "change", obj.pk))
        assert response.status_code == 200


def test_deviation_change_form_shows_events_read_only(client, superuser):
    event = factories.DeviationEventFactory(text="Intern anteckning om samrådets bedömning.")
    client.force_login(superuser)
    response = client.get(url(Deviation, "change", event.deviation.pk))
    assert response.status_code == 200
    assert "Intern anteckning om samrådets bedömning." in response.text
    # The inline offers no way to add or delete events.
    assert "events-0-DELETE" not in response.text
    request = RequestFactory().get("/")
    request.user = superuser
    inline = DeviationEventInline(Deviation, admin.site)
    assert not inline.has_add_permission(request, event.deviation)
    assert not inline.has_change_permission(request, event.deviation)
    assert not inline.has_delete_permission(request, event.deviation)


def test_event_admin_is_view_only(client, superuser):
    event = factories.DeviationEventFactory()
    model_admin = admin.site._registry[DeviationEvent]
    request = RequestFactory().get("/")
    request.user = superuser
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, event)
    assert not model_admin.has_delete_permission(request, event)

    client.force_login(superuser)
    assert client.get(url(DeviationEvent, "add")).status_code == 403
    assert client.get(url(DeviationEvent, "delete", event.pk)).status_code == 403
    response = client.post(url(DeviationEvent, "change", event.pk), {"text": "ändrad"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.text == "En intern anteckning."


def test_the_admin_names_what_happened_as_the_timeline_does(client, superuser):
    """An erasure is a REDACTION event ("Text maskerad"); the admin's lists say what it was."""
    erased = factories.DeviationEventFactory(
        kind=DeviationEvent.Kind.REDACTION, action="erase_contact", text="Rapportören bad om det."
    )
    factories.DeviationEventFactory(
        deviation=erased.deviation, kind=DeviationEvent.Kind.TRANSITION, action="escalate"
    )
    client.force_login(superuser)
    for page in (url(DeviationEvent, "changelist"), url(Deviation, "change", erased.deviation.pk)):
        text = client.get(page).text
        assert "Kontaktuppgifter raderade" in text
        assert "Eskalera till regionalt samråd" in text
        assert "erase_contact" not in text
    text = client.get(url(DeviationEvent, "change", erased.pk)).text
    assert "Kontaktuppgifter raderade" in text


def test_deviations_are_not_added_in_admin(client, superuser):
    client.force_login(superuser)
    assert client.get(url(Deviation, "add")).status_code == 403


def test_deviation_changelist_skips_full_count_and_query_count_is_flat(
    client, superuser, django_assert_max_num_queries
):
    factories.DeviationFactory.create_batch(5)
    client.force_login(superuser)
    with django_assert_max_num_queries(20):
        response = client.get(url(Deviation, "changelist"))
    assert response.status_code == 200
    factories.DeviationFactory.create_batch(20)
    with django_assert_max_num_queries(20):
        assert client.get(url(Deviation, "changelist")).status_code == 200
    assert admin.site._registry[Deviation].show_full_result_count is False


def staff_with_deviation_permissions():
    user = factories.UserFactory(username="personal", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="deviations", codename__endswith="deviation")
    )
    return user


def test_reporter_contact_is_shown_to_nobody_in_admin(client, superuser):
    """Only the handling council sees reporter contact data (on the detail page); not the admin."""
    staff = staff_with_deviation_permissions()
    deviation = factories.DeviationFactory(
        reporter_name="Kontaktperson Synlig", reporter_email="kontakt.synlig@example.se"
    )
    factories.CouncilMembershipFactory(council=deviation.council, user=staff)
    for user in (superuser, staff):
        client.force_login(user)
        response = client.get(url(Deviation, "change", deviation.pk))
        assert response.status_code == 200
        assert "kontakt.synlig@example.se" not in response.text
        assert "Kontaktperson Synlig" not in response.text
        assert 'name="reporter_name"' not in response.text
        response = client.get(url(Deviation, "changelist"))
        assert deviation.reference in response.text
        assert "kontakt.synlig@example.se" not in response.text


def test_staff_see_in_admin_only_reports_their_councils_handle(client):
    staff = staff_with_deviation_permissions()
    own = factories.DeviationFactory()
    factories.CouncilMembershipFactory(council=own.council, user=staff)
    other = factories.DeviationFactory()
    client.force_login(staff)
    response = client.get(url(Deviation, "changelist"))
    assert own.reference in response.text
    assert other.reference not in response.text
    assert client.get(url(Deviation, "change", other.pk)).status_code == 302  # "does not exist" → index
    assert "kontakt.synlig@example.se" not in response.text
    assert "Kontaktperson Synlig" not in response.text
    assert 'name="reporter_name"' not in response.text


def test_staff_save_keeps_reporter_contact(client):
    deviation = factories.DeviationFactory(reporter_email="kvar@example.se")
    model_admin = admin.site._registry[Deviation]
    request = RequestFactory().get("/")
    request.user = staff_with_deviation_permissions()
    form_class = model_admin.get_form(request, deviation)
    assert not set(form_class.base_fields) & {"reporter", "reporter_name", "reporter_email", "reporter_phone"}


def test_user_admin_shows_organization_and_memberships(client, superuser):
    organization = factories.OrganizationFactory(name="Socialtjänsten Testdel")
    council = factories.CouncilFactory(name="Lokalt samråd Testdel")
    user = factories.UserFactory(username="samordnare", organization=organization)
    factories.CouncilMembershipFactory(user=user, council=council)
    client.force_login(superuser)

    response = client.get(url(type(user), "changelist"))
    assert "Socialtjänsten Testdel" in response.text
    response = client.get(url(type(user), "change", user.pk))
    assert "Socialtjänsten Testdel" in response.text
    assert "Lokalt samråd Testdel" in response.text


def test_superuser_creates_a_user_with_organization_in_admin(client, superuser):
    organization = factories.OrganizationFactory(name="Socialtjänsten Ny")
    factories.EmailDomainFactory(organization=organization, domain="example.se")  # the user's domain
    client.force_login(superuser)
    response = client.post(
        url(type(superuser), "add"),
        {
            "username": "ny.samordnare",
            "email": "ny.samordnare@example.se",
            "organization": organization.pk,
            "usable_password": "true",
            "password1": "ett-langt-losenord-77",
            "password2": "ett-langt-losenord-77",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    user = type(superuser).objects.get(username="ny.samordnare")
    assert user.organization == organization
    assert user.check_password("ett-langt-losenord-77")


def test_deviation_search_finds_exact_reference(client, superuser):
    wanted = factories.DeviationFactory(reference="SB-2026-00042")
    factories.DeviationFactory(reference="SB-2026-00420")
    client.force_login(superuser)
    response = client.get(url(Deviation, "changelist"), {"q": " sb-2026-00042 "})
    assert list(response.context["cl"].result_list) == [wanted]
    response = client.get(url(DeviationEvent, "changelist"), {"q": "SB-2026-00420"})
    assert response.status_code == 200


def test_unfiltered_big_list_uses_the_planner_estimate(db, monkeypatch):
    from django.db import connection

    from deviations.admin import EstimatedCountPaginator

    factories.DeviationFactory.create_batch(3)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE deviations_deviation")
    monkeypatch.setattr(EstimatedCountPaginator, "ESTIMATE_ABOVE", -1)
    estimated = EstimatedCountPaginator(Deviation.objects.order_by("-id"), 50).count
    assert estimated == 3
    # Filtered lists are counted exactly.
    assert EstimatedCountPaginator(Deviation.objects.filter(status="closed").order_by("-id"), 50).count == 0
