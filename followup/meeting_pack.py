"""Reads for the council meeting packs: which councils a user may see packs for, and the pack itself."""

import datetime
from dataclasses import dataclass, field
from functools import reduce
from operator import or_

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet

from councils.models import Council
from deviations.models import Deviation, DeviationEvent, ResponseRequest, SystemicAction, SystemicIssue
from deviations.selectors import sees_whole_county
from deviations.workflow import OPEN_STATES, REGIONAL_STATES, Status

#: Proposed escalation rule: an agreement+category that recurs at least this many times in the
#: council's reports within the window ending on the meeting date; its reports still handled locally
#: (in triage, awaiting response or resolved locally) are proposed for escalation.
RECURRENCE_THRESHOLD = 3
RECURRENCE_WINDOW_DAYS = 180
LIST_LIMIT = 500
DEFAULT_INTERVAL_DAYS = 30
LOCALLY_HANDLED = (Status.TRIAGE, Status.AWAITING_RESPONSE, Status.RESOLVED_LOCALLY)


def councils_for_packs(user) -> QuerySet[Council]:
    """Active councils whose meeting pack ``user`` may see: their own councils (any membership role);
    every council for regional coordinators and superusers."""
    qs = Council.objects.filter(active=True)
    if not user.is_authenticated:
        return qs.none()
    if sees_whole_county(user):
        return qs
    return qs.filter(memberships__user=user).distinct()


def council_reports(council: Council) -> QuerySet[Deviation]:
    """A council's reports: a local council's own; for the regional council, those routed to it and
    every report ever escalated. Unconfirmed reports never count."""
    qs = Deviation.objects.exclude(status=Status.UNCONFIRMED)
    if council.is_regional:
        escalated = DeviationEvent.objects.filter(
            deviation=OuterRef("pk"), kind=DeviationEvent.Kind.TRANSITION, action="escalate"
        )
        return qs.filter(Q(council=council) | Q(status__in=REGIONAL_STATES) | Q(Exists(escalated)))
    return qs.filter(council=council)


@dataclass
class MeetingPack:
    council: Council
    meeting_date: datetime.date
    previous_meeting: datetime.date
    new_reports: list = field(default_factory=list)
    new_count: int = 0
    open_by_status: list = field(default_factory=list)
    open_total: int = 0
    overdue_responses: list = field(default_factory=list)
    proposed_escalations: list = field(default_factory=list)
    awaiting_regional: list = field(default_factory=list)
    systemic_issues: list = field(default_factory=list)
    recurrence_threshold: int = RECURRENCE_THRESHOLD
    recurrence_window_days: int = RECURRENCE_WINDOW_DAYS


def meeting_pack(
    *, council: Council, meeting_date: datetime.date, previous_meeting: datetime.date
) -> MeetingPack:
    """Everything a council needs before a meeting, in a bounded number of queries."""
    reports = council_reports(council)
    pack = MeetingPack(council=council, meeting_date=meeting_date, previous_meeting=previous_meeting)
    related = ("agreement", "category", "municipality", "district", "reporting_organization")

    # New since the last meeting: reported after the previous meeting, up to and including this one.
    new = reports.filter(reported_on__gt=previous_meeting, reported_on__lte=meeting_date)
    pack.new_reports = list(new.select_related(*related).order_by("reported_on", "reference")[:LIST_LIMIT])
    pack.new_count = len(pack.new_reports) if len(pack.new_reports) < LIST_LIMIT else new.count()

    # Open reports by status (now), in workflow order.
    per_status = dict(
        reports.filter(status__in=OPEN_STATES)
        .values("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    pack.open_by_status = [
        {"status": status.value, "label": status.label, "count": per_status.get(status.value, 0)}
        for status in Status
        if status in OPEN_STATES
    ]
    pack.open_total = sum(per_status.values())

    # Response requests unanswered past their due date on the meeting day.
    pack.overdue_responses = list(
        ResponseRequest.objects.overdue(meeting_date)
        .filter(deviation__in=reports.values("pk"))
        .select_related("deviation", "organization")
        .order_by("due_on", "pk")[:LIST_LIMIT]
    )

    if council.is_regional:
        pack.awaiting_regional = list(
            reports.filter(status=Status.ESCALATED)
            .select_related(*related)
            .order_by("updated_at")[:LIST_LIMIT]
        )
        issues = SystemicIssue.objects.exclude(state=SystemicIssue.State.RESOLVED)
    else:
        pack.proposed_escalations = _proposed_escalations(reports, meeting_date, related)
        issues = SystemicIssue.objects.exclude(state=SystemicIssue.State.RESOLVED).filter(
            deviations__in=reports.values("pk")
        )
    pack.systemic_issues = list(
        issues.annotate(linked=Count("deviations", distinct=True))
        .prefetch_related(
            Prefetch(
                "actions", queryset=SystemicAction.objects.select_related("owner").order_by("due_on", "pk")
            )
        )
        .order_by("created_at", "pk")
        .distinct()
    )
    return pack


def _proposed_escalations(reports: QuerySet, meeting_date: datetime.date, related) -> list[dict]:
    window_start = meeting_date - datetime.timedelta(days=RECURRENCE_WINDOW_DAYS)
    groups = list(
        reports.filter(reported_on__gt=window_start, reported_on__lte=meeting_date)
        .values("agreement_id", "agreement__name", "category_id", "category__name")
        .annotate(n=Count("pk"))
        .filter(n__gte=RECURRENCE_THRESHOLD)
        .order_by("-n", "agreement__name", "category__name")
    )
    if not groups:
        return []
    condition = reduce(or_, (Q(agreement_id=g["agreement_id"], category_id=g["category_id"]) for g in groups))
    candidates = list(
        reports.filter(condition, status__in=LOCALLY_HANDLED)
        .select_related(*related)
        .order_by("reported_on", "reference")[:LIST_LIMIT]
    )
    rows = []
    for g in groups:
        group_reports = [
            d for d in candidates if d.agreement_id == g["agreement_id"] and d.category_id == g["category_id"]
        ]
        if group_reports:
            rows.append(
                {
                    "agreement": g["agreement__name"],
                    "category": g["category__name"],
                    "count": g["n"],
                    "reports": group_reports,
                }
            )
    return rows
