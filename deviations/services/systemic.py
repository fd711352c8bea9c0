"""Systemic issues (systemfrågor): related reports grouped for a decision at regional level, the actions
decided for them, and the feedback their outcome gives. Regional coordinators only."""

import datetime
from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from config.errors import Invalid, NotAllowed

from .. import notifications
from ..dates import stockholm_today
from ..models import Deviation, DeviationEvent, SystemicAction, SystemicIssue
from ..selectors import roles_for, sees_whole_county
from ..workflow import Status, allowed_actions
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
    _require_regional(actor)
    action = SystemicAction.objects.create(
        issue=issue, description=description.strip(), owner=owner, due_on=due_on
    )
    notifications.systemic_action_decided(action=action)
    return action


@transaction.atomic
def set_systemic_action_state(*, action: SystemicAction, actor, state: str) -> SystemicAction:
    _require_regional(actor)
    action.state = state
    action.done_on = stockholm_today() if state == SystemicAction.State.DONE else None
    action.save(update_fields=["state", "done_on"])
    return action


@transaction.atomic
def link_to_systemic_issue(*, issue: SystemicIssue, deviation: Deviation, actor) -> Deviation:
    """Group a report under a systemic issue (moving it from another issue if needed)."""
    _require_regional(actor)
    deviation = Deviation.objects.select_for_update().get(pk=deviation.pk)
    if deviation.status == Status.UNCONFIRMED:
        raise NotAllowed(_("Rapporten finns inte."))
    if deviation.systemic_issue_id == issue.pk:
        return deviation
    deviation.systemic_issue = issue
    deviation.save(update_fields=["systemic_issue", "updated_at"])
    write_event(
        deviation=deviation, actor=actor, kind=DeviationEvent.Kind.LINKED, action="link", text=issue.title
    )
    return deviation


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
    title = deviation.systemic_issue.title
    deviation.systemic_issue = None
    deviation.save(update_fields=["systemic_issue", "updated_at"])
    write_event(
        deviation=deviation, actor=actor, kind=DeviationEvent.Kind.LINKED, action="unlink", text=title
    )
    return deviation


@transaction.atomic
def resolve_systemic_issue(
    *, issue: SystemicIssue, actor, outcome: str, feedback: str = "", close_open_reports: bool = False
) -> dict[str, int]:
    """Mark an issue resolved with its outcome. With ``feedback``, every linked report gets it: open
    reports that may be closed are closed with it (``close_open_reports``); the others get a FEEDBACK
    event visible to the reporter and an e-mail."""
    _require_regional(actor)
    outcome = (outcome or "").strip()
    if not outcome:
        raise Invalid(_("Beskriv resultatet."))
    issue.state = SystemicIssue.State.RESOLVED
    issue.outcome = outcome
    issue.resolved_at = issue.resolved_at or timezone.now()
    issue.save(update_fields=["state", "outcome", "resolved_at", "updated_at"])
    closed = informed = 0
    feedback = (feedback or "").strip()
    if not feedback:
        return {"closed": 0, "informed": 0}
    for deviation in issue.deviations.exclude(status=Status.UNCONFIRMED).order_by("pk").iterator():
        if close_open_reports and "close" in {
            t.action for t in allowed_actions(deviation.status, roles_for(actor, deviation))
        }:
            apply_transition(deviation=deviation, action="close", actor=actor, text=feedback)
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
    return {"closed": closed, "informed": informed}
