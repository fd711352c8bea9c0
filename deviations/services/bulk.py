"""Actions on several reports at once (the queue's selected rows). Each report goes through the same
service as on its own page, in its own transaction, so one refusal neither stops nor undoes the others,
and each report gets its own event."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from config.errors import ApplicationError, Invalid

from ..models import Deviation
from . import assignment, transitions

#: What the queue offers for selected rows.
BULK_ACTIONS = ("assign", "start_triage")
#: At most a page of the largest size.
MAX_REPORTS = 100


@dataclass(frozen=True)
class RowResult:
    reference: str
    ok: bool
    message: str = ""


def apply_to_reports(*, actor, deviations: list[Deviation], action: str, assignee=None) -> list[RowResult]:
    """Apply ``action`` ("assign" to ``assignee``, or "start_triage") to each report through
    ``assignment.assign_deviation`` / ``transitions.apply_transition``: one event per changed report, a
    result per report (refusals carry the service's message)."""
    if action not in BULK_ACTIONS:
        raise Invalid(_("Okänd åtgärd."))
    if action == "assign" and assignee is None:
        raise Invalid(_("Välj vem rapporterna ska tilldelas."))
    if len(deviations) > MAX_REPORTS:
        raise Invalid(_("Välj högst %(n)d rapporter åt gången.") % {"n": MAX_REPORTS})
    results = []
    for deviation in deviations:
        try:
            if action == "assign":
                if deviation.assigned_to_id == assignee.pk:
                    results.append(RowResult(deviation.reference, True, _("Redan tilldelad.")))
                    continue
                assignment.assign_deviation(deviation=deviation, assignee=assignee, actor=actor)
            else:
                transitions.apply_transition(deviation=deviation, action=action, actor=actor)
        except ApplicationError as exc:
            results.append(RowResult(deviation.reference, False, exc.message))
        else:
            results.append(RowResult(deviation.reference, True))
    return results
