"""Who handles a report."""

from django.db import transaction
from django.utils.translation import gettext as _

from config.errors import Invalid

from ..models import Deviation, DeviationEvent
from ..selectors import assignable_users
from .transitions import require_handler, write_event


@transaction.atomic
def assign_deviation(*, deviation: Deviation, assignee, actor) -> Deviation:
    """Assign a report to a council member (``assignee=None`` removes the assignment)."""
    deviation = (
        Deviation.objects.select_for_update(of=("self",)).select_related("council").get(pk=deviation.pk)
    )
    require_handler(actor, deviation)
    if assignee is not None and not assignable_users(deviation).filter(pk=assignee.pk).exists():
        raise Invalid(_("Rapporten kan bara tilldelas en ledamot i samrådet."))
    previous_id = deviation.assigned_to_id
    if (assignee.pk if assignee else None) == previous_id:
        return deviation
    deviation.assigned_to = assignee
    deviation.save(update_fields=["assigned_to", "updated_at"])
    write_event(
        deviation=deviation,
        actor=actor,
        kind=DeviationEvent.Kind.ASSIGNMENT,
        action="assign" if assignee else "unassign",
        from_assignee_id=previous_id,
        to_assignee=assignee,
    )
    return deviation
