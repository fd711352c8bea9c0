"""The response summaries kept on each report (``Deviation.response_due_on``, ``response_received_at``):
one function, which every writer of response requests calls (``services.responses``, closing and
rejecting in ``services.transitions``, the demo data, the bench). A module of its own so that both
services import it."""

from collections.abc import Iterable

from django.db.models import Max, Min, OuterRef, Subquery

from ..models import Deviation, ResponseRequest


def sync_response_summaries(deviation_ids: Iterable[int] | None = None) -> int:
    """Recompute the reports' response summaries from their requests (``Deviation.response_due_on``:
    the earliest due date of the open requests; ``response_received_at``: the latest answer), in one
    UPDATE. Every writer of response requests calls it for the reports it touched (these services,
    the demo data, the bench); ``None`` recomputes every report (the migration that added them).
    Returns the number of reports changed."""
    open_requests = ResponseRequest.objects.open().filter(deviation_id=OuterRef("pk"))
    answered = ResponseRequest.objects.filter(deviation_id=OuterRef("pk"), answered_at__isnull=False)
    due = open_requests.order_by().values("deviation_id").annotate(due=Min("due_on")).values("due")
    received = answered.order_by().values("deviation_id").annotate(at=Max("answered_at")).values("at")
    if deviation_ids is None:
        reports = Deviation.objects.filter(pk__in=ResponseRequest.objects.values("deviation_id"))
    else:
        reports = Deviation.objects.filter(pk__in=list(deviation_ids))
    return reports.update(response_due_on=Subquery(due), response_received_at=Subquery(received))
