"""Systemic issues (systemfrågor): related reports grouped for a decision at regional level, the actions
decided for them, and the feedback their outcome gives. Regional coordinators only."""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import ApplicationError, Conflict, Invalid, NotAllowed
from config.personal_data import guard_texts

from .. import notifications, summary
from ..dates import stockholm_today
from ..models import Deviation, DeviationEvent, SystemicAction, SystemicIssue
from ..selectors import sees_whole_county
from ..workflow import OPEN_STATES, Status
from .transitions import apply_transition, write_event


def _require_regional(actor) -> None:
    if not sees_whole_county(actor):
        raise NotAllowed(_("Endast regionala samordnare kan hantera systemfrågor."))


@transaction.atomic
def save_systemic_issue(
    *,
    actor,
    title: str,
    description: str,
    agreements: Iterable,
    state: str = SystemicIssue.State.OPEN,
    outcome: str = "",
    issue: SystemicIssue | None = None,
) -> SystemicIssue:
    """Create a systemic issue, or update one (``issue``)."""
    _require_regional(actor)
    guard_texts(title=title, description=description, outcome=outcome)
    if issue is None:
        issue = SystemicIssue(created_by=actor)
    issue.title = title.strip()
    issue.description = description.strip()
    issue.outcome = (outcome or "").strip()
    if state == SystemicIssue.State.RESOLVED and issue.resolved_at is None:
        issue.resolved_at = timezone.now()
    elif state != SystemicIssue.State.RESOLVED:
        issue.resolved_at = None
    issue.state = state
    issue.save()
    issue.agreements.set(agreements)
    return issue


@transaction.atomic
def add_systemic_action(
    *, issue: SystemicIssue, actor, description: str, owner, due_on: datetime.date
) -> SystemicAction:
    """A decided action; its due date may not lie in the past (Swedish calendar)."""
    _require_regional(actor)
    if due_on < stockholm_today():
        message = _("Datumet kan inte ligga i det förflutna.")
        raise Invalid(message, errors={"due_on": message})
    guard_texts(description=description)
    return SystemicAction.objects.create(
        issue=issue, description=description.strip(), owner=owner, due_on=due_on
    )


@transaction.atomic
def set_systemic_action_state(*, action: SystemicAction, actor, state: str) -> SystemicAction:
    _require_regional(actor)
    action.state = state
    action.done_on = stockholm_today() if state == SystemicAction.State.DONE else None
    action.save(update_fields=["state", "done_on"])
    return action


def link_warnings(*, issue: SystemicIssue, deviation: Deviation) -> list[str]:
    """What the person linking a report should confirm first: the report is grouped under another
    issue (it would move), or its agreement is not one of the issue's."""
    warnings = []
    if deviation.systemic_issue_id and deviation.systemic_issue_id != issue.pk:
        warnings.append(
            _("Rapporten är kopplad till systemfrågan ”%(title)s” och flyttas därifrån.")
            % {"title": deviation.systemic_issue.title}
        )
    if not issue.agreements.filter(pk=deviation.agreement_id).exists():
        warnings.append(
            _("Rapportens överenskommelse (%(agreement)s) hör inte till systemfrågans.")
            % {"agreement": deviation.agreement}
        )
    return warnings


@transaction.atomic
def link_to_systemic_issue(
    *, issue: SystemicIssue, deviation: Deviation, actor, move: bool = False
) -> Deviation:
    """Group a report under a systemic issue. A report grouped under another issue moves only with
    ``move`` (the person confirmed it). The event's ``details``: ``to_issue`` and, on a move,
    ``from_issue`` (each ``{"id", "title"}``: both titles as they were)."""
    _require_regional(actor)
    deviation = (
        Deviation.objects.select_for_update(of=("self",))
        .select_related("systemic_issue")
        .get(pk=deviation.pk)
    )
    if deviation.status == Status.UNCONFIRMED:
        raise NotAllowed(_("Rapporten finns inte."))
    if deviation.systemic_issue_id == issue.pk:
        return deviation
    previous = deviation.systemic_issue
    if previous is not None and not move:
        raise Conflict(
            _("Rapporten är redan kopplad till systemfrågan ”%(title)s”.") % {"title": previous.title}
        )
    details = {"to_issue": _issue_ref(issue)}
    if previous is not None:
        details["from_issue"] = _issue_ref(previous)
    with summary.tracking() as tracker:
        tracker.add(deviation, locked=True)
        deviation.systemic_issue = issue
        deviation.save(update_fields=["systemic_issue", "updated_at"])
    write_event(
        deviation=deviation,
        actor=actor,
        kind=DeviationEvent.Kind.LINKED,
        action="move" if previous is not None else "link",
        details=details,
    )
    return deviation


def _issue_ref(issue: SystemicIssue) -> dict:
    """How an event names a systemic issue: its id and its title at the time."""
    return {"id": issue.pk, "title": issue.title}


@transaction.atomic
def unlink_from_systemic_issue(*, deviation: Deviation, actor) -> Deviation:
    _require_regional(actor)
    deviation = (
        Deviation.objects.select_for_update(of=("self",))
        .select_related("systemic_issue")
        .get(pk=deviation.pk)
    )
    if deviation.systemic_issue is None:
        return deviation
    details = {"from_issue": _issue_ref(deviation.systemic_issue)}
    with summary.tracking() as tracker:
        tracker.add(deviation, locked=True)
        deviation.systemic_issue = None
        deviation.save(update_fields=["systemic_issue", "updated_at"])
    write_event(
        deviation=deviation, actor=actor, kind=DeviationEvent.Kind.LINKED, action="unlink", details=details
    )
    return deviation


@dataclass(frozen=True)
class Resolution:
    closed: int
    informed: int
    #: (reference, why) of the linked reports that stay open: they get no feedback.
    still_open: list[tuple[str, str]]


@transaction.atomic
def resolve_systemic_issue(
    *, issue: SystemicIssue, actor, outcome: str, feedback: str = "", close_open_reports: bool = False
) -> Resolution:
    """Mark an issue resolved with its outcome. With ``feedback`` and ``close_open_reports``, every
    linked open report is closed with it through the state machine, each on its own (a report the
    state machine does not close from its status, or this person may not close, stays open and is
    listed with the reason). Closed and rejected reports get the feedback as an event visible to the
    reporter and an e-mail. A report that stays open never gets feedback saying the issue is resolved."""
    _require_regional(actor)
    outcome = (outcome or "").strip()
    if not outcome:
        raise Invalid(_("Beskriv resultatet."))
    guard_texts(outcome=outcome, feedback=feedback)
    issue.state = SystemicIssue.State.RESOLVED
    issue.outcome = outcome
    issue.resolved_at = issue.resolved_at or timezone.now()
    issue.save(update_fields=["state", "outcome", "resolved_at", "updated_at"])
    closed = informed = 0
    still_open = []
    feedback = (feedback or "").strip()
    if not feedback:
        return Resolution(0, 0, [])
    for deviation in issue.deviations.exclude(status=Status.UNCONFIRMED).order_by("pk").iterator():
        if deviation.status in OPEN_STATES:
            if not close_open_reports:
                still_open.append((deviation.reference, _("Öppna rapporter skulle inte avslutas.")))
                continue
            try:
                with transaction.atomic():
                    apply_transition(deviation=deviation, action="close", actor=actor, text=feedback)
            except ApplicationError as exc:
                still_open.append((deviation.reference, exc.message))
            else:
                closed += 1
            continue
        write_event(
            deviation=deviation,
            actor=actor,
            kind=DeviationEvent.Kind.FEEDBACK,
            text=feedback,
            visibility=DeviationEvent.Visibility.REPORTER,
        )
        notifications.feedback_given(deviation=deviation)
        informed += 1
    return Resolution(closed, informed, still_open)
