"""The state machine applied: ``apply_transition`` takes any transition of ``workflow.TRANSITIONS``,
with its side effects, the immutable event and the notifications. Also the event log's one writer."""

import logging

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from config.errors import Conflict, Invalid, NotAllowed
from councils.models import Council

from .. import notifications
from ..models import Deviation, DeviationEvent
from ..selectors import roles_for
from ..workflow import HANDLERS, TRANSITIONS, Role, Transition
from .routing import UNCONFIRMED_REFERENCE_PREFIX, council_for_place, next_reference

logger = logging.getLogger(__name__)


def site_language_text(message: str, params: dict | None = None) -> str:
    """``message`` (marked with ``gettext_noop``) in the site's language, ``LANGUAGE_CODE``, whatever the
    language of the request: texts saved in the event log are read later by council staff and must not
    depend on the language of whoever caused them."""
    with translation.override(settings.LANGUAGE_CODE):
        text = _(message)
    return text % params if params else text


def write_event(*, deviation, actor=None, actor_label="", **fields) -> DeviationEvent:
    """Append one event to a report's log (the only writer of ``DeviationEvent``)."""
    return DeviationEvent.objects.create(
        deviation=deviation,
        actor=actor if actor and actor.is_authenticated else None,
        actor_label=actor_label,
        **fields,
    )


def require_handler(actor, deviation: Deviation) -> set[Role]:
    """``actor``'s roles towards ``deviation`` if they handle it (a council member or regional
    coordinator); otherwise ``NotAllowed``."""
    roles = roles_for(actor, deviation)
    if not roles & HANDLERS:
        raise NotAllowed(_("Du har inte behörighet att handlägga rapporten."))
    return roles


@transaction.atomic
def apply_transition(*, deviation: Deviation, action: str, actor, **options) -> Deviation:
    """Apply one transition of ``deviation.workflow.TRANSITIONS``: check the state and the actor's role,
    update the report, write the immutable event and queue the notifications.

    ``options`` are those of ``transition_held``: ``text``, ``roles`` (computed from ``actor`` unless
    given; only token-verified flows such as the reporter's confirmation link pass them),
    ``actor_label``, ``target_council``, ``reject_reason``, ``duplicate_of``.

    Raises ``Invalid`` (unknown action, missing text, bad target), ``NotAllowed`` (not for this
    person) or ``Conflict`` (not from the report's current state).
    """
    if action not in TRANSITIONS:
        raise Invalid(_("Okänd åtgärd."))
    deviation = Deviation.objects.select_for_update().get(pk=deviation.pk)
    return transition_held(deviation=deviation, action=action, actor=actor, **options)


def transition_held(
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
    """``apply_transition`` for a report the caller holds in its transaction: locked by
    ``apply_transition``, or not saved yet (``reporting.submit_deviation``; then saving it inserts it)."""
    transition: Transition | None = TRANSITIONS.get(action)
    if transition is None:
        raise Invalid(_("Okänd åtgärd."))
    if roles is None:
        roles = roles_for(actor, deviation)
    if deviation.status not in transition.source:
        raise Conflict(
            _("Åtgärden ”%(action)s” går inte att utföra när rapporten har status ”%(status)s”.")
            % {"action": transition.label, "status": deviation.get_status_display()}
        )
    if not transition.roles & set(roles):
        raise NotAllowed(
            _("Du har inte behörighet att utföra åtgärden ”%(action)s”.") % {"action": transition.label}
        )
    text = (text or "").strip()
    if transition.needs_text and not text:
        raise Invalid(_("%(label)s måste fyllas i.") % {"label": transition.text_label})

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
    write_event(
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
    notifications.after_transition(deviation=deviation, action=action, from_status=from_status, text=text)
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
        if deviation.reference.startswith(UNCONFIRMED_REFERENCE_PREFIX):
            # Numbers are handed out on confirmation, so purged drafts leave no gaps. This locks the
            # counter row until commit: keep it the last query before the report is saved.
            deviation.reference = next_reference(year=deviation.reported_on.year)
    elif action == "reroute":
        if target_council is None or target_council.pk == deviation.council_id:
            raise Invalid(_("Välj ett annat samråd att flytta rapporten till."))
        if not target_council.active:
            raise Invalid(_("Samrådet är inte aktivt."))
        deviation.council = target_council
        deviation.assigned_to = None
    elif action == "close":
        deviation.closed_at = now
    elif action == "reject":
        deviation.closed_at = now
        deviation.reject_reason = reject_reason
        if duplicate_of is not None:
            if duplicate_of.pk == deviation.pk:
                raise Invalid(_("En rapport kan inte vara dubblett av sig själv."))
            deviation.duplicate_of = duplicate_of
    elif action == "reopen":
        deviation.closed_at = None
        deviation.reject_reason = ""
        deviation.duplicate_of = None
    if deviation.first_response_at is None and action not in {"confirm", "reroute"}:
        deviation.first_response_at = now
