"""Writes: every way a report can change is a function here. Keyword-only, one transaction each."""

import calendar
import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from councils.models import Council

from .models import AccessLog, Deviation, DeviationEvent, ReferenceCounter
from .selectors import roles_for
from .workflow import FINAL_STATES, TRANSITIONS, Role, Transition

logger = logging.getLogger(__name__)


class TransitionNotAllowed(Exception):
    """The action is not allowed from the report's state, or not for this person."""


# --- Reference numbers ---------------------------------------------------------------------------


def next_reference(*, year: int) -> str:
    """Hand out the next ``SB-<year>-<nnnnn>`` number. Must run inside a transaction: the counter row
    stays locked until commit, so concurrent submissions get distinct, gap-free numbers."""
    ReferenceCounter.objects.bulk_create([ReferenceCounter(year=year)], ignore_conflicts=True)
    ReferenceCounter.objects.filter(year=year).update(last=F("last") + 1)
    number = ReferenceCounter.objects.select_for_update().values_list("last", flat=True).get(year=year)
    return f"SB-{year}-{number:05d}"


# --- Routing -------------------------------------------------------------------------------------


def council_for_place(*, municipality_id: int, district_id: int | None = None) -> Council | None:
    """The council a report from this place belongs to: the active local council covering the district
    (or, failing that, the whole municipality); otherwise the regional council."""
    local = Council.objects.filter(active=True, level=Council.Level.LOCAL)
    council = None
    if district_id:
        council = local.filter(districts=district_id).order_by("pk").first()
    if council is None:
        council = local.filter(municipalities=municipality_id).order_by("pk").first()
    if council is None:
        council = Council.objects.filter(active=True, level=Council.Level.REGIONAL).order_by("pk").first()
    return council


# --- The state machine ---------------------------------------------------------------------------


def _event(*, deviation, actor=None, actor_label="", **fields) -> DeviationEvent:
    return DeviationEvent.objects.create(
        deviation=deviation,
        actor=actor if actor and actor.is_authenticated else None,
        actor_label=actor_label,
        **fields,
    )


@transaction.atomic
def apply_transition(
    *,
    deviation: Deviation,
    action: str,
    actor,
    text: str = "",
    roles: set[Role] | None = None,
    actor_label: str = "",
    target_council: Council | None = None,
    reject_reason: str = "",
    duplicate_of: Deviation | None = None,
) -> Deviation:
    """Apply one transition of ``deviation.workflow.TRANSITIONS``: check the state and the actor's role,
    update the report, write the immutable event and queue the notifications.

    ``roles`` is computed from ``actor`` unless given; only token-verified flows (the reporter's
    confirmation link) pass it explicitly.
    """
    transition: Transition | None = TRANSITIONS.get(action)
    if transition is None:
        raise TransitionNotAllowed(_("Okänd åtgärd."))
    deviation = Deviation.objects.select_for_update().get(pk=deviation.pk)
    if roles is None:
        roles = roles_for(actor, deviation)
    if deviation.status not in transition.source:
        raise TransitionNotAllowed(
            _("Åtgärden ”%(action)s” går inte att utföra när rapporten har status ”%(status)s”.")
            % {"action": transition.label, "status": deviation.get_status_display()}
        )
    if not transition.roles & set(roles):
        raise TransitionNotAllowed(
            _("Du har inte behörighet att utföra åtgärden ”%(action)s”.") % {"action": transition.label}
        )
    text = (text or "").strip()
    if transition.needs_text and not text:
        raise TransitionNotAllowed(_("%(label)s måste fyllas i.") % {"label": transition.text_label})

    now = timezone.now()
    from_status = deviation.status
    _apply_side_effects(
        deviation,
        transition,
        now=now,
        target_council=target_council,
        reject_reason=reject_reason,
        duplicate_of=duplicate_of,
    )
    if transition.target is not None:
        deviation.status = transition.target
    deviation.save()
    _event(
        deviation=deviation,
        actor=actor,
        actor_label=actor_label,
        kind=DeviationEvent.Kind.TRANSITION,
        action=action,
        from_status=from_status,
        to_status=deviation.status,
        text=text,
        visibility=(
            DeviationEvent.Visibility.REPORTER
            if transition.text_visible_to_reporter
            else DeviationEvent.Visibility.INTERNAL
        ),
        created_at=now,
    )
    logger.info("deviation %s: %s (%s -> %s)", deviation.reference, action, from_status, deviation.status)
    from . import notifications

    notifications.after_transition(deviation=deviation, action=action, from_status=from_status)
    return deviation


def _apply_side_effects(
    deviation: Deviation, transition: Transition, *, now, target_council, reject_reason, duplicate_of
):
    action = transition.action
    if action == "confirm":
        deviation.submitted_at = now
        deviation.reported_on = timezone.localdate(now)
        deviation.council = council_for_place(
            municipality_id=deviation.municipality_id, district_id=deviation.district_id
        )
    elif action == "reroute":
        if target_council is None or target_council.pk == deviation.council_id:
            raise TransitionNotAllowed(_("Välj ett annat samråd att flytta rapporten till."))
        if not target_council.active:
            raise TransitionNotAllowed(_("Samrådet är inte aktivt."))
        deviation.council = target_council
        deviation.assigned_to = None
    elif action == "close":
        deviation.closed_at = now
    elif action == "reject":
        deviation.closed_at = now
        deviation.reject_reason = reject_reason
        if duplicate_of is not None:
            if duplicate_of.pk == deviation.pk:
                raise TransitionNotAllowed(_("En rapport kan inte vara dubblett av sig själv."))
            deviation.duplicate_of = duplicate_of
    elif action == "reopen":
        deviation.closed_at = None
        deviation.reject_reason = ""
        deviation.duplicate_of = None
    if deviation.first_response_at is None and action not in {"confirm", "reroute"}:
        deviation.first_response_at = now


# --- Access log and retention --------------------------------------------------------------------


def record_access(*, user, deviation: Deviation) -> AccessLog:
    """Note that ``user`` opened ``deviation``'s detail page (kept for audits, read in the admin)."""
    return AccessLog.objects.create(user=user, deviation=deviation)


def months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    """The same wall-clock moment ``months`` calendar months earlier; a day the earlier month lacks
    (e.g. the 31st) becomes that month's last day."""
    month_index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@transaction.atomic
def erase_reporter_contacts(*, now: datetime.datetime | None = None, months: int | None = None) -> int:
    """Remove the reporter's name, e-mail and phone from reports closed or rejected more than
    ``months`` (default ``settings.CONTACT_RETENTION_MONTHS``) months ago, and stamp
    ``contact_erased_at``. Idempotent: reports already erased are left alone. Returns how many
    reports were erased."""
    now = now or timezone.now()
    months = settings.CONTACT_RETENTION_MONTHS if months is None else months
    cutoff = months_before(timezone.localtime(now), months)
    count = Deviation.objects.filter(
        status__in=FINAL_STATES, closed_at__lt=cutoff, contact_erased_at__isnull=True
    ).update(reporter_name="", reporter_email="", reporter_phone="", contact_erased_at=now, updated_at=now)
    logger.info("erased reporter contact details from %d closed reports (retention %d months)", count, months)
    return count
