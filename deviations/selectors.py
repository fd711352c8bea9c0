"""Reads: who may see which reports, and in what role. Every view that shows reports starts here."""

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from agreements.models import EmailDomain
from councils.models import Council, CouncilMembership

from .models import Deviation, DeviationEvent
from .workflow import Role, Status


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
    return qs.filter(Q(council__in=local_councils) | Q(reporter=user))


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


# --- Reporter journey ----------------------------------------------------------------------------


def email_domain_is_registered(email: str) -> bool:
    """Whether ``email`` is at a domain registered on an active organisation (case-insensitive)."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return False
    return (
        EmailDomain.objects.alias(domain_lower=Lower("domain"))
        .filter(domain_lower=domain, organization__active=True)
        .exists()
    )


def reports_of(user) -> QuerySet[Deviation]:
    """The signed-in reporter's own reports ("Mina rapporter"), newest first."""
    if not user.is_authenticated:
        return Deviation.objects.none()
    return (
        Deviation.objects.filter(reporter=user)
        .exclude(status=Status.UNCONFIRMED)
        .select_related("agreement", "category", "council")
        .order_by("-created_at", "-id")
    )


def deviation_for_status_link(key) -> Deviation | None:
    """The confirmed report a (verified) status link points to."""
    return (
        Deviation.objects.exclude(status=Status.UNCONFIRMED)
        .select_related("agreement", "category", "council")
        .filter(idempotency_key=key)
        .first()
    )


def reporter_visible_events(deviation: Deviation):
    """Events the reporter may read: feedback and reasons, never internal notes."""
    return deviation.events.filter(visibility=DeviationEvent.Visibility.REPORTER).order_by("created_at", "id")
