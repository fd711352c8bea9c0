"""The state machine applied: ``apply_transition`` takes any transition of ``workflow.TRANSITIONS``,
with its side effects, the immutable event and the notifications. Also the event log's one writer."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from config.errors import Conflict, Invalid, NotAllowed
from config.personal_data import guard_texts
from councils.models import Council

from .. import notifications, summary
from ..models import Deviation, DeviationEvent, ResponseRequest
from ..selectors import roles_for
from ..workflow import HANDLERS, TRANSITIONS, RejectReason, Role, Status, Transition
from .response_summaries import sync_response_summaries
from .routing import UNCONFIRMED_REFERENCE_PREFIX, council_for_place, next_reference

logger = logging.getLogger(__name__)

#: The event text of a request withdrawn because the report ended (``_withdraw_open_requests``), by the
#: transition that ended it.
WITHDRAWN_BY = {
    "close": gettext_noop("Begäran om yttrande från %(org)s återkallad: rapporten avslutades."),
    "reject": gettext_noop("Begäran om yttrande från %(org)s återkallad: rapporten avvisades."),
}


def site_language_text(message: str, params: dict | None = None) -> str:
    """``message`` (marked with ``gettext_noop``) in the site's language, ``LANGUAGE_CODE``, whatever the
    language of the request: texts saved in the event log are read later by council staff and must not
    depend on the language of whoever caused them."""
    with translation.override(settings.LANGUAGE_CODE):
        text = _(message)
    return text % params if params else text


def write_event(*, deviation, actor=None, actor_label="", **fields) -> DeviationEvent:
    """Append one event to a report's log (with ``write_system_events``, the only writer of
    ``DeviationEvent``; refuses (``Invalid``) a text or label holding an identity number, whichever
    service passed it; the one change an event allows afterwards is redaction, ``services.redaction``).

    ``fields`` are the event's own: ``kind``, ``action``, ``from_status``/``to_status``,
    ``from_council``/``to_council``, ``from_assignee``/``to_assignee``, ``details`` (structured facts,
    never text people wrote), ``text`` (the comment), ``visibility``, ``created_at``."""
    guard_texts(text=fields.get("text"), actor_label=actor_label)
    return DeviationEvent.objects.create(
        deviation=deviation,
        actor=actor if actor and actor.is_authenticated else None,
        actor_label=actor_label,
        **fields,
    )


def write_system_events(events: Iterable[dict], *, batch_size: int = 1000) -> int:
    """Append many events that no person caused at once (a retention run), one INSERT per ``batch_size``;
    each dict holds ``deviation_id`` and the event's own fields as ``write_event`` takes them, its texts
    guarded alike. Returns how many."""
    rows = []
    for fields in events:
        guard_texts(text=fields.get("text"), actor_label=fields.get("actor_label", ""))
        rows.append(DeviationEvent(actor=None, **fields))
    DeviationEvent.objects.bulk_create(rows, batch_size=batch_size)
    return len(rows)


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

    Raises ``Invalid`` (unknown action, missing text, bad target, or an action applied by a service of
    its own, ``Transition.applied_by``), ``NotAllowed`` (not for this person) or ``Conflict`` (not from
    the report's current state).
    """
    transition = TRANSITIONS.get(action)
    if transition is None:
        raise Invalid(_("Okänd åtgärd."))
    if transition.applied_by:
        # E.g. "request_response" without the requests would leave the report waiting for nothing.
        raise Invalid(_("Åtgärden ”%(action)s” görs i sitt eget formulär.") % {"action": transition.label})
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
    at=None,
) -> Deviation:
    """``apply_transition`` for a report the caller holds in its transaction: locked by
    ``apply_transition`` or by a service that does more in the same transaction (``applied_by``), or not
    saved yet (``reporting.submit_deviation``; then saving it inserts it). ``at``: the moment (default
    now), for a service whose other rows carry the same time."""
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
    guard_texts(text=text)

    if transition.target == Status.AWAITING_RESPONSE and not deviation.response_requests.open().exists():
        raise Conflict(_("Rapporten kan inte vänta på yttrande när inget yttrande är begärt."))

    with summary.tracking() as tracker:
        tracker.add(deviation, locked=True)
        now = at or timezone.now()
        before = _Snapshot.of(deviation)
        details = _apply_side_effects(
            deviation,
            transition,
            now=now,
            target_council=target_council,
            reject_reason=reject_reason,
            duplicate_of=duplicate_of,
        )
        if transition.target is not None:
            deviation.status = transition.target
        withdrawn = _withdraw_open_requests(deviation, now=now) if action in WITHDRAWN_BY else []
        deviation.save()
        if withdrawn:
            sync_response_summaries([deviation.pk])
            deviation.refresh_from_db(fields=["response_due_on", "response_received_at"])
        write_event(
            deviation=deviation,
            actor=actor,
            actor_label=actor_label,
            kind=DeviationEvent.Kind.TRANSITION,
            action=action,
            from_status=before.status,
            to_status=deviation.status,
            **before.changes_to(deviation),
            details=details,
            text=text,
            visibility=(
                DeviationEvent.Visibility.REPORTER
                if transition.text_visible_to_reporter
                else DeviationEvent.Visibility.INTERNAL
            ),
            created_at=now,
        )
        for request in withdrawn:
            write_event(
                deviation=deviation,
                actor=actor,
                actor_label=actor_label,
                kind=DeviationEvent.Kind.NOTE,
                action="cancel_response_request",
                text=site_language_text(WITHDRAWN_BY[action], {"org": request.organization.name}),
                created_at=now,
            )
    logger.info("deviation %s: %s (%s -> %s)", deviation.reference, action, before.status, deviation.status)
    notifications.after_transition(deviation=deviation, action=action, from_status=before.status)
    return deviation


def _withdraw_open_requests(deviation: Deviation, *, now) -> list[ResponseRequest]:
    """Withdraw the report's unanswered response requests, as a handler withdrawing each would: a
    report that is closed or rejected waits for no answer, so the counterparts' links stop working,
    their staff lose access to it and no reminder goes out. Returns the requests withdrawn (locked
    first: an answer committed meanwhile keeps its request, which is then no longer open); the caller
    recomputes the report's response summaries after saving it."""
    requests = list(
        deviation.response_requests.open()
        .select_for_update(of=("self",))
        .select_related("organization")
        .order_by("pk")
    )
    if requests:
        ResponseRequest.objects.filter(pk__in=[r.pk for r in requests]).update(cancelled_at=now)
    return requests


@dataclass(frozen=True)
class _Snapshot:
    """What a transition may change besides the status, before it, for the event's from→to."""

    status: str
    council_id: int | None
    assignee_id: int | None

    @classmethod
    def of(cls, deviation: Deviation) -> "_Snapshot":
        return cls(deviation.status, deviation.council_id, deviation.assigned_to_id)

    def changes_to(self, deviation: Deviation) -> dict:
        """The event's council and assignee fields, set only when they changed."""
        changes = {}
        if deviation.council_id != self.council_id:
            changes.update(from_council_id=self.council_id, to_council_id=deviation.council_id)
        if deviation.assigned_to_id != self.assignee_id:
            changes.update(from_assignee_id=self.assignee_id, to_assignee_id=deviation.assigned_to_id)
        return changes


def _apply_side_effects(
    deviation: Deviation, transition: Transition, *, now, target_council, reject_reason, duplicate_of
) -> dict:
    """Change ``deviation`` as ``transition`` requires; returns the event's ``details``:
    ``reject_reason`` and ``duplicate_of`` (the other report's reference) on "reject", and on "reopen"
    the ``cleared_reject_reason`` and ``cleared_duplicate_of`` it removes from the report (the reject
    event keeps them too)."""
    action = transition.action
    details = {}
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
        if reject_reason not in RejectReason.values:
            raise Invalid(_("Välj en avvisningsorsak."))
        if (reject_reason == RejectReason.DUPLICATE) != (duplicate_of is not None):
            raise Invalid(_("Ange vilken rapport det är en dubblett av, och bara när orsaken är dubblett."))
        deviation.closed_at = now
        deviation.reject_reason = reject_reason
        details["reject_reason"] = reject_reason
        if duplicate_of is not None:
            if duplicate_of.pk == deviation.pk:
                raise Invalid(_("En rapport kan inte vara dubblett av sig själv."))
            deviation.duplicate_of = duplicate_of
            details["duplicate_of"] = duplicate_of.reference
    elif action == "reopen":
        if deviation.reject_reason:
            details["cleared_reject_reason"] = deviation.reject_reason
        if deviation.duplicate_of_id:
            details["cleared_duplicate_of"] = (
                Deviation.objects.filter(pk=deviation.duplicate_of_id)
                .values_list("reference", flat=True)
                .get()
            )
        deviation.closed_at = None
        deviation.reject_reason = ""
        deviation.duplicate_of = None
    if deviation.first_response_at is None and action not in {"confirm", "reroute"}:
        deviation.first_response_at = now
    return details
