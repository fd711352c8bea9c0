"""Rights that cannot be escalated, tested through the admin's own views: only superusers grant
superuser, staff, groups or permissions; user managers manage ordinary accounts; council memberships are
delegated to each council's coordinators."""

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.test import RequestFactory
from django.urls import reverse

from councils.models import CouncilMembership, User
from tests import factories

pytestmark = pytest.mark.django_db

USER_MANAGER_PERMISSIONS = ("view_user", "change_user", "add_user", "delete_user")
MEMBERSHIP_PERMISSIONS = (
    "view_councilmembership",
    "add_councilmembership",
    "change_councilmembership",
    "delete_councilmembership",
    "view_user",
)


def with_permissions(user, *codenames, staff=True):
    user.is_staff = staff
    user.save()
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="councils", codename__in=codenames)
    )
    return User.objects.get(pk=user.pk)


def user_url(view, *args):
    return reverse(f"admin:councils_user_{view}", args=args)


def membership_url(view, *args):
    return reverse(f"admin:councils_councilmembership_{view}", args=args)


def user_form(user, **changes):
    """The change form's fields as the browser posts them for ``user`` (what a non-superuser sees)."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "organization": "",
        "phone": "",
        "is_active": "on",
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "12:00:00",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
    }
    return data | changes


@pytest.fixture
def manager(db):
    """A staff user delegated to manage users, nothing more."""
    return with_permissions(factories.UserFactory(username="anvandaradmin"), *USER_MANAGER_PERMISSIONS)


@pytest.fixture
def group(db):
    group = Group.objects.create(name="Alla rättigheter")
    group.permissions.set(Permission.objects.all())
    return group


# --- Only superusers grant rights ------------------------------------------------------------------


def test_a_user_manager_cannot_make_themselves_superuser(client, manager, group):
    client.force_login(manager)
    html = client.get(user_url("change", manager.pk)).content.decode()
    for name in ("is_superuser", "is_staff", "groups", "user_permissions"):
        assert f'name="{name}"' not in html, name

    response = client.post(
        user_url("change", manager.pk),
        user_form(
            manager,
            first_name="Ny",
            is_superuser="on",
            is_staff="on",
            groups=[group.pk],
            user_permissions=list(Permission.objects.values_list("pk", flat=True)),
        ),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    manager.refresh_from_db()
    assert manager.first_name == "Ny"  # the ordinary change went through
    assert not manager.is_superuser
    assert not manager.groups.exists()
    assert set(manager.user_permissions.values_list("codename", flat=True)) == set(USER_MANAGER_PERMISSIONS)


def test_a_user_manager_cannot_grant_rights_to_an_ordinary_user(client, manager, group):
    ordinary = factories.UserFactory(username="vanlig")
    client.force_login(manager)
    response = client.post(
        user_url("change", ordinary.pk),
        user_form(
            ordinary, email="ny.adress@example.se", is_staff="on", is_superuser="on", groups=[group.pk]
        ),
    )
    assert response.status_code == 302
    ordinary.refresh_from_db()
    assert ordinary.email == "ny.adress@example.se"
    assert (ordinary.is_staff, ordinary.is_superuser, ordinary.groups.count()) == (False, False, 0)


@pytest.mark.parametrize("target", ["superuser", "other staff"])
def test_a_user_manager_cannot_touch_the_accounts_of_staff_or_superusers(client, manager, superuser, target):
    account = superuser if target == "superuser" else factories.UserFactory(username="annan", is_staff=True)
    password_before = account.password
    client.force_login(manager)
    assert client.get(user_url("change", account.pk)).status_code in {200, 403}  # view only at most
    html = client.get(user_url("change", account.pk)).content.decode()
    assert 'name="email"' not in html
    response = client.post(user_url("change", account.pk), user_form(account, email="kapad@example.se"))
    assert response.status_code == 403
    response = client.post(
        reverse("admin:auth_user_password_change", args=[account.pk]),
        {"password1": "ett-nytt-langt-losenord-1", "password2": "ett-nytt-langt-losenord-1"},
    )
    assert response.status_code == 403
    assert client.post(user_url("delete", account.pk), {"post": "yes"}).status_code == 403
    account.refresh_from_db()
    assert (account.email, account.password) != ("kapad@example.se", None)
    assert account.password == password_before


def test_a_user_manager_adds_only_ordinary_users(client, manager):
    client.force_login(manager)
    response = client.post(
        user_url("add"),
        {
            "username": "ny.ledamot",
            "email": "ny.ledamot@example.se",
            "usable_password": "true",
            "password1": "ett-langt-losenord-77",
            "password2": "ett-langt-losenord-77",
            "is_superuser": "on",
            "is_staff": "on",
            "memberships-TOTAL_FORMS": "0",
            "memberships-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302
    created = User.objects.get(username="ny.ledamot")
    assert (created.is_staff, created.is_superuser) == (False, False)


def test_saving_an_escalation_is_refused_even_past_the_form(manager):
    """Defence in depth: ``save_model`` itself refuses a change of rights by a non-superuser."""
    model_admin = admin.site._registry[User]
    request = RequestFactory().post("/")
    request.user = manager
    account = User.objects.get(pk=manager.pk)
    account.is_superuser = True
    with pytest.raises(PermissionDenied):
        model_admin.save_model(request, account, form=None, change=True)
    ordinary = factories.UserFactory(username="vanlig3")
    ordinary.is_staff = True
    with pytest.raises(PermissionDenied):
        model_admin.save_model(request, ordinary, form=None, change=True)
    manager.refresh_from_db()
    assert not manager.is_superuser


def test_a_superuser_grants_rights(client, superuser, group):
    ordinary = factories.UserFactory(username="blir.admin")
    client.force_login(superuser)
    html = client.get(user_url("change", ordinary.pk)).content.decode()
    assert 'name="is_superuser"' in html and 'name="groups"' in html
    response = client.post(
        user_url("change", ordinary.pk),
        user_form(ordinary, is_staff="on", groups=[group.pk], date_joined_0="2026-01-01"),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    ordinary.refresh_from_db()
    assert ordinary.is_staff and list(ordinary.groups.all()) == [group]


def test_the_user_list_refuses_lookups_on_password_hashes_and_addresses(client, superuser, manager):
    for user in (superuser, manager):
        client.force_login(user)
        assert client.get(user_url("changelist") + "?password__startswith=md5").status_code == 400
        assert client.get(user_url("changelist") + "?email__startswith=a").status_code == 400
        assert client.get(user_url("changelist") + "?is_staff__exact=1").status_code == 200


# --- Council memberships are delegated per council --------------------------------------------------


@pytest.fixture
def councils(db):
    council_x = factories.CouncilFactory(name="Samråd X")
    council_y = factories.CouncilFactory(name="Samråd Y")
    coordinator = factories.UserFactory(username="samordnare.x")
    factories.CouncilMembershipFactory(council=council_x, user=coordinator)
    coordinator = with_permissions(coordinator, *MEMBERSHIP_PERMISSIONS)
    member_x = factories.CouncilMembershipFactory(
        council=council_x,
        user=factories.UserFactory(username="ledamot.x"),
        role=CouncilMembership.Role.MEMBER,
    )
    member_y = factories.CouncilMembershipFactory(
        council=council_y,
        user=factories.UserFactory(username="ledamot.y"),
        role=CouncilMembership.Role.MEMBER,
    )
    return council_x, council_y, coordinator, member_x, member_y


def test_a_coordinator_manages_the_memberships_of_their_council_only(client, councils):
    council_x, council_y, coordinator, member_x, member_y = councils
    newcomer = factories.UserFactory(username="nykomling")
    client.force_login(coordinator)

    html = client.get(membership_url("changelist")).content.decode()
    assert "ledamot.x" in html and "ledamot.y" not in html

    response = client.post(
        membership_url("add"), {"council": council_x.pk, "user": newcomer.pk, "role": "member"}
    )
    assert response.status_code == 302
    assert CouncilMembership.objects.filter(council=council_x, user=newcomer).exists()

    response = client.post(
        membership_url("add"), {"council": council_y.pk, "user": newcomer.pk, "role": "coordinator"}
    )
    assert response.status_code == 200  # not a choice: a form error
    assert not CouncilMembership.objects.filter(council=council_y, user=newcomer).exists()

    response = client.post(
        membership_url("change", member_y.pk),
        {"council": council_y.pk, "user": member_y.user_id, "role": "chair"},
    )
    assert response.status_code == 302  # "does not exist" → the admin index
    member_y.refresh_from_db()
    assert member_y.role == CouncilMembership.Role.MEMBER
    client.post(membership_url("delete", member_y.pk), {"post": "yes"})
    assert CouncilMembership.objects.filter(pk=member_y.pk).exists()

    client.post(
        membership_url("change", member_x.pk),
        {"council": council_x.pk, "user": member_x.user_id, "role": "chair"},
    )
    member_x.refresh_from_db()
    assert member_x.role == CouncilMembership.Role.CHAIR


def test_a_member_or_a_plain_user_manager_manages_no_memberships(client, councils, manager):
    council_x, _y, _coordinator, member_x, _member_y = councils
    plain_member = with_permissions(member_x.user, *MEMBERSHIP_PERMISSIONS)
    for user in (plain_member, with_permissions(manager, *MEMBERSHIP_PERMISSIONS)):
        client.force_login(user)
        assert client.get(membership_url("add")).status_code == 403
        html = client.get(membership_url("changelist")).content.decode()
        assert "ledamot.x" not in html
        client.post(
            membership_url("change", member_x.pk),
            {"council": council_x.pk, "user": member_x.user_id, "role": "chair"},
        )
        member_x.refresh_from_db()
        assert member_x.role == CouncilMembership.Role.MEMBER


def test_memberships_inline_on_a_user_offers_only_managed_councils(client, councils):
    council_x, council_y, coordinator, _member_x, _member_y = councils
    coordinator = with_permissions(coordinator, "change_user")
    ordinary = factories.UserFactory(username="vanlig2")
    client.force_login(coordinator)
    response = client.post(
        user_url("change", ordinary.pk),
        user_form(
            ordinary,
            **{
                "memberships-TOTAL_FORMS": "1",
                "memberships-0-council": council_y.pk,
                "memberships-0-role": "coordinator",
            },
        ),
    )
    assert response.status_code == 200  # council Y is not a choice
    assert not CouncilMembership.objects.filter(user=ordinary).exists()
    response = client.post(
        user_url("change", ordinary.pk),
        user_form(
            ordinary,
            **{
                "memberships-TOTAL_FORMS": "1",
                "memberships-0-council": council_x.pk,
                "memberships-0-role": "member",
            },
        ),
    )
    assert response.status_code == 302
    assert CouncilMembership.objects.filter(user=ordinary, council=council_x).exists()
