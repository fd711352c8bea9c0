"""Reads: who may see which reports, and in what role. Every view that shows reports starts here."""

from django.db.models import Q, QuerySet

from councils.models import Council, CouncilMembership

from .models import Deviation, ResponseRequest
from .workflow import Role, Status


def open_response_requests() -> QuerySet[ResponseRequest]:
    """Response requests still waiting for an answer (neither answered nor withdrawn)."""
    return ResponseRequest.objects.filter(answered_at__isnull=True, cancelled_at__isnull=True)


def _asked_deviation_ids(user):
    """Reports the user's organisation is currently asked to respond to (a subquery)."""
    return open_response_requests().filter(organization_id=user.organization_id).values("deviation_id")


def regional_membership_roles(user) -> set[str]:
    """Membership roles the user has in any active regional council."""
    if not user.is_authenticated:
        return set()
    return set(
        CouncilMembership.objects.filter(
            user=user, council__level=Council.Level.REGIONAL, council__active=True
        ).values_list("role", flat=True)
    )


def is_regional_coordinator(user) -> bool:
    return bool(
        regional_membership_roles(user) & {CouncilMembership.Role.COORDINATOR, CouncilMembership.Role.CHAIR}
    )


def roles_for(user, deviation: Deviation) -> set[Role]:
    """The roles ``user`` has towards one report (empty: no business with it)."""
    roles: set[Role] = set()
    if not user or not user.is_authenticated:
        return roles
    if deviation.reporter_id == user.pk:
        roles.add(Role.REPORTER)
    memberships = CouncilMembership.objects.filter(user=user, council__active=True).filter(
        Q(council__level=Council.Level.REGIONAL) | Q(council_id=deviation.council_id)
    )
    for membership in memberships.select_related("council"):
        if membership.council.is_regional:
            if membership.is_coordinator:
                roles.add(Role.REGIONAL_COORDINATOR)
        elif membership.council_id == deviation.council_id:
            roles.add(Role.LOCAL_COORDINATOR if membership.is_coordinator else Role.LOCAL_MEMBER)
    asked = open_response_requests().filter(deviation=deviation, organization_id=user.organization_id)
    if user.organization_id and asked.exists():
        roles.add(Role.COUNTERPART)
    return roles


def deviations_visible_to(user) -> QuerySet[Deviation]:
    """Reports ``user`` may see in lists and detail pages. Unconfirmed reports are never shown."""
    qs = Deviation.objects.exclude(status=Status.UNCONFIRMED)
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser or is_regional_coordinator(user):
        return qs
    local_councils = CouncilMembership.objects.filter(
        user=user, council__active=True, council__level=Council.Level.LOCAL
    ).values("council_id")
    scope = Q(council__in=local_councils) | Q(reporter=user)
    if user.organization_id:
        # Counterpart responders: only while their organisation is asked for a response.
        scope |= Q(pk__in=_asked_deviation_ids(user))
    return qs.filter(scope)


def deviations_handled_by(user) -> QuerySet[Deviation]:
    """Reports in ``user``'s work queues (not those they merely reported)."""
    qs = Deviation.objects.exclude(status=Status.UNCONFIRMED)
    if not user.is_authenticated:
        return qs.none()
    if user.is_superuser or is_regional_coordinator(user):
        return qs
    local_councils = CouncilMembership.objects.filter(
        user=user, council__active=True, council__level=Council.Level.LOCAL
    ).values("council_id")
    return qs.filter(council__in=local_councils)
