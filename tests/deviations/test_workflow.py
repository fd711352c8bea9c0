"""The full transition matrix: every action of the table × every status × every role."""

import itertools

import pytest
from django.db import transaction

from config.errors import ApplicationError, Invalid, NotAllowed
from deviations.models import Deviation, DeviationEvent
from deviations.selectors import roles_for
from deviations.services import responses
from deviations.services.transitions import apply_transition
from deviations.workflow import FINAL_STATES, TRANSITIONS, RejectReason, Role, Status, allowed_actions
from tests import factories
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db


def _user_with_role(w, role, deviation):
    if role == Role.REPORTER:
        return w.reporter_a
    if role == Role.LOCAL_MEMBER:
        return w.member_x
    if role == Role.LOCAL_COORDINATOR:
        return w.coord_x
    if role == Role.REGIONAL_COORDINATOR:
        return w.regional
    if role == Role.COUNTERPART:
        factories.ResponseRequestFactory(deviation=deviation, organization=w.org_psych)
        return w.responder
    raise AssertionError(role)


#: Actions applied by a service of their own (``Transition.applied_by``): how the matrix applies them,
#: and how many events they write besides the transition's.
SERVICES = {
    "request_response": (
        lambda w, deviation, user: responses.request_response(
            deviation=deviation, organizations=[w.org_psych], actor=user
        ),
        1,  # one RESPONSE_REQUESTED per organisation
    ),
}


def _apply(w, action, deviation, user, **kwargs):
    if action in SERVICES:
        SERVICES[action][0](w, deviation, user)
        return Deviation.objects.get(pk=deviation.pk)
    return apply_transition(deviation=deviation, action=action, actor=user, **kwargs)


def test_every_action_with_its_own_service_is_applied_through_it_in_the_matrix():
    assert set(SERVICES) == {action for action, t in TRANSITIONS.items() if t.applied_by}


def _check_case(w, action, status, role):
    """One cell of the matrix; returns a description of what went wrong, or None."""
    deviation = w.dev_x
    Deviation.objects.filter(pk=deviation.pk).update(status=status)
    deviation.refresh_from_db()
    user = _user_with_role(w, Role(role), deviation)
    if role == Role.COUNTERPART and status in FINAL_STATES:
        # A closed or rejected report has no counterpart: its requests answer no more.
        return None if roles_for(user, deviation) == set() else "a counterpart of an ended report"
    if roles_for(user, deviation) != {Role(role)}:
        return f"setup: roles_for gives {roles_for(user, deviation)}"
    transition = TRANSITIONS[action]
    allowed = status in transition.source and role in transition.roles
    events_before = DeviationEvent.objects.filter(deviation=deviation).count()
    kwargs = {"target_council": w.council_z, "reject_reason": RejectReason.NOT_A_DEVIATION}
    if (transition in allowed_actions(status, {Role(role)})) != allowed:
        return "allowed_actions disagrees with the table"
    if allowed:
        result = _apply(w, action, deviation, user, text="Motivering", **kwargs)
        expected = transition.target if transition.target is not None else status
        deviation.refresh_from_db()
        event = DeviationEvent.objects.filter(
            deviation=deviation, kind=DeviationEvent.Kind.TRANSITION
        ).latest("id")
        got = (result.status, deviation.status, event.kind, event.action, event.from_status, event.to_status)
        if got != (expected, expected, DeviationEvent.Kind.TRANSITION, action, status, expected):
            return f"allowed but got {got}"
        extra = SERVICES[action][1] if action in SERVICES else 0
        if (
            event.actor_id != user.pk
            or DeviationEvent.objects.filter(deviation=deviation).count() != events_before + 1 + extra
        ):
            return "allowed but the event is wrong"
        return None
    try:
        _apply(w, action, deviation, user, text="Motivering", **kwargs)
    except ApplicationError:
        pass
    else:
        return "not in the table but applied"
    deviation.refresh_from_db()
    if (
        deviation.status != status
        or DeviationEvent.objects.filter(deviation=deviation).count() != events_before
    ):
        return "refused but changed something"
    return None


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_transition_matrix(action):
    """For this action, every status × every role: applied iff the table allows it (new state, one
    event); otherwise refused (an ApplicationError), no state change and no event."""
    w = build_world()
    failures = []
    for status, role in itertools.product(Status.values, Role.values):
        savepoint = transaction.savepoint_create()
        problem = _check_case(w, action, status, role)
        transaction.savepoint_rollback(savepoint)
        if problem:
            failures.append(f"{action} from {status} as {role}: {problem}")
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("action", [a for a, t in TRANSITIONS.items() if t.needs_text])
def test_transitions_needing_text_refuse_empty_text(action):
    w = build_world()
    transition = TRANSITIONS[action]
    status = sorted(transition.source)[0]
    w.dev_x.status = status
    w.dev_x.save()
    role = sorted(transition.roles)[0]
    user = _user_with_role(w, Role(role), w.dev_x)
    with pytest.raises(Invalid):
        apply_transition(deviation=w.dev_x, action=action, actor=user, text="   ", target_council=w.council_z)
    w.dev_x.refresh_from_db()
    assert w.dev_x.status == status
    assert not w.dev_x.events.exists()


def test_unknown_action_is_refused():
    w = build_world()
    with pytest.raises(Invalid):
        apply_transition(deviation=w.dev_x, action="delete_everything", actor=w.coord_x)


def test_close_sets_closed_at_and_feedback_is_visible_to_reporter():
    w = build_world()
    w.dev_x.status = Status.TRIAGE
    w.dev_x.save()
    apply_transition(deviation=w.dev_x, action="close", actor=w.coord_x, text="Rutinen är ändrad.")
    w.dev_x.refresh_from_db()
    assert w.dev_x.closed_at is not None
    event = w.dev_x.events.get()
    assert event.visibility == DeviationEvent.Visibility.REPORTER


def test_reject_as_duplicate_links_the_other_report_and_reopen_clears_it():
    w = build_world()
    apply_transition(
        deviation=w.dev_x,
        action="reject",
        actor=w.coord_x,
        text="Samma händelse",
        reject_reason=RejectReason.DUPLICATE,
        duplicate_of=w.dev_y,
    )
    w.dev_x.refresh_from_db()
    assert (w.dev_x.status, w.dev_x.duplicate_of, w.dev_x.reject_reason) == (
        Status.REJECTED,
        w.dev_y,
        RejectReason.DUPLICATE,
    )
    apply_transition(deviation=w.dev_x, action="reopen", actor=w.coord_x, text="Felaktig bedömning")
    w.dev_x.refresh_from_db()
    assert (w.dev_x.status, w.dev_x.duplicate_of, w.dev_x.closed_at) == (Status.TRIAGE, None, None)


def test_reroute_moves_report_to_target_council_and_clears_assignment():
    w = build_world()
    w.dev_x.assigned_to = w.coord_x
    w.dev_x.save()
    apply_transition(
        deviation=w.dev_x, action="reroute", actor=w.coord_x, text="Fel område", target_council=w.council_y
    )
    w.dev_x.refresh_from_db()
    assert (w.dev_x.council, w.dev_x.assigned_to, w.dev_x.status) == (w.council_y, None, Status.SUBMITTED)
    assert roles_for(w.coord_x, w.dev_x) == set()


def test_reroute_to_same_council_is_refused():
    w = build_world()
    with pytest.raises(Invalid):
        apply_transition(
            deviation=w.dev_x, action="reroute", actor=w.coord_x, text="x", target_council=w.council_x
        )
    assert not w.dev_x.events.exists()


def test_local_coordinator_of_other_council_has_no_role():
    w = build_world()
    assert roles_for(w.coord_y, w.dev_x) == set()
    with pytest.raises(NotAllowed):
        apply_transition(deviation=w.dev_x, action="start_triage", actor=w.coord_y)
