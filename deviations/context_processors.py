"""What the main menu offers the signed-in user: only the areas they may use."""

from django.utils.functional import SimpleLazyObject

from councils.models import Council, CouncilMembership


def _areas(user) -> dict[str, bool]:
    if not user.is_authenticated:
        return {}
    if user.is_superuser:
        return {"queue": True, "followup": True, "packs": True, "systemic": True}
    memberships = CouncilMembership.objects.filter(user=user, council__active=True)
    memberships = list(memberships.values_list("council__level", "role"))
    coordinator_roles = {CouncilMembership.Role.COORDINATOR, CouncilMembership.Role.CHAIR}
    regional_coordinator = any(
        level == Council.Level.REGIONAL and role in coordinator_roles for level, role in memberships
    )
    in_a_council = bool(memberships)
    return {
        "queue": in_a_council,
        "followup": in_a_council,
        "packs": in_a_council,
        "systemic": regional_coordinator,
    }


def navigation(request):
    """``nav.queue``, ``nav.followup``, ``nav.packs``, ``nav.systemic``: computed at most once per request,
    and only when a template asks."""
    return {"nav": SimpleLazyObject(lambda: _areas(request.user))}
