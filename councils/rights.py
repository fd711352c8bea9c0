"""Who may administer whom. The admin (councils/admin.py) enforces these; README, "Security", explains them.

- Only superusers grant rights: superuser and staff status, groups and permissions. Nobody else can
  change them, on their own account or anyone else's, whatever permissions they were delegated.
- A staff user with the right to manage users ("change user") manages ordinary accounts (name, e-mail,
  organisation, password, active) and their own, but not the accounts of other staff or superusers:
  changing such an account's password or e-mail would be a way into its rights.
- Council memberships are delegated per council: besides superusers, a coordinator (or chair) of a
  council manages that council's memberships, and only those, given the membership permissions.
"""

from django.db.models import QuerySet

from .models import Council, CouncilMembership

#: The fields that carry rights; only superusers change them.
PRIVILEGE_FIELDS = ("is_superuser", "is_staff", "groups", "user_permissions")

COORDINATING_ROLES = (CouncilMembership.Role.COORDINATOR, CouncilMembership.Role.CHAIR)


def may_manage_account(actor, account) -> bool:
    """Whether ``actor`` (already holding the admin's "change user" permission) may change ``account``."""
    if actor.is_superuser:
        return True
    if account.pk == actor.pk:
        return True
    return not (account.is_staff or account.is_superuser)


def councils_managed_by(user) -> QuerySet[Council]:
    """The councils whose memberships ``user`` manages: every council for superusers, otherwise the
    active councils they coordinate or chair."""
    if user.is_superuser:
        return Council.objects.all()
    if not user.is_active or not user.is_staff:
        return Council.objects.none()
    return Council.objects.filter(
        active=True,
        memberships__user=user,
        memberships__role__in=COORDINATING_ROLES,
    ).distinct()
