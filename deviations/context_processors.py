"""What the main menu offers the signed-in user: only the areas they may use."""

from django.utils.functional import SimpleLazyObject

from .selectors import active_memberships, sees_whole_county


def _areas(user) -> dict[str, bool]:
    if not user.is_authenticated:
        return {}
    # Staff of an organisation answer response requests to it (their list of open requests).
    responses = bool(user.organization_id)
    if user.is_superuser:
        return {"queue": True, "followup": True, "packs": True, "systemic": True, "responses": responses}
    in_a_council = bool(active_memberships(user))
    return {
        "queue": in_a_council,
        "followup": in_a_council,
        "packs": in_a_council,
        "systemic": sees_whole_county(user),
        "responses": responses,
    }


def navigation(request):
    """``nav.queue``, ``nav.followup``, ``nav.packs``, ``nav.systemic``, ``nav.responses``: computed at
    most once per request, and only when a template asks."""
    return {"nav": SimpleLazyObject(lambda: _areas(request.user))}
