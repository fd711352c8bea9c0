"""What the main menu offers the signed-in user: only the areas they may use."""

from django.utils.functional import SimpleLazyObject

from .selectors import active_memberships, sees_whole_county


def _areas(user) -> dict[str, bool]:
    if not user.is_authenticated:
        return {}
    if user.is_superuser:
        return {"queue": True, "followup": True, "packs": True, "systemic": True}
    in_a_council = bool(active_memberships(user))
    return {
        "queue": in_a_council,
        "followup": in_a_council,
        "packs": in_a_council,
        "systemic": sees_whole_county(user),
    }


def navigation(request):
    """``nav.queue``, ``nav.followup``, ``nav.packs``, ``nav.systemic``: computed at most once per request,
    and only when a template asks."""
    return {"nav": SimpleLazyObject(lambda: _areas(request.user))}
