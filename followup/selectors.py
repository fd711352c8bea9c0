"""Reads for the follow-up (uppföljning) of an agreement: one computation, three renderings.

``followup_statistics`` aggregates everything in the database and returns plain dicts and rows that
the follow-up page, the CSV/XLSX exports and the PDF document all share. Nothing here loops over
reports in Python (medians and percentiles are PostgreSQL's PERCENTILE_CONT).

Unconfirmed reports are excluded everywhere.
"""

import calendar
import datetime
from dataclasses import dataclass, field

from django.db.models import (
    Aggregate,
    Case,
    CharField,
    Count,
    Exists,
    F,
    FloatField,
    Func,
    Max,
    Min,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.models import Agreement, Commitment, DeviationCategory, FollowUpAnalysis
from councils.models import Council, Municipality
from deviations.models import Deviation, DeviationEvent, ResponseRequest, SystemicAction, SystemicIssue
from deviations.selectors import counterpart_names, sees_whole_county
from deviations.workflow import OPEN_STATES, Status

#: Cells for a single organisation pair below this many reports are masked outside the regional level.
SMALL_NUMBER_THRESHOLD = 3
SMALL_NUMBER_LABEL = "< 3"
#: Organisation pairs listed on the page and in the PDF (there can be hundreds county-wide).
TOP_PAIRS = 30


# --- Inputs --------------------------------------------------------------------------------------


class PeriodType:
    YEAR = "year"
    HALF = "half"
    QUARTER = "quarter"
    CUSTOM = "custom"
    CHOICES = [
        (YEAR, gettext_lazy("Helår")),
        (HALF, gettext_lazy("Halvår")),
        (QUARTER, gettext_lazy("Kvartal")),
        (CUSTOM, gettext_lazy("Egna datum")),
    ]


class DateBasis:
    """Which date the period applies to. Both are plain local dates (reported_on is the Swedish date)."""

    REPORTED = "reported_on"
    OCCURRED = "occurred_on"
    CHOICES = [
        (REPORTED, gettext_lazy("Rapporteringsdatum")),
        (OCCURRED, gettext_lazy("Datum då bristen inträffade")),
    ]


@dataclass(frozen=True)
class Period:
    start: datetime.date
    end: datetime.date  # inclusive
    label: str

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(datetime.date(year, 1, 1), datetime.date(year, 12, 31), str(year))

    @classmethod
    def half(cls, year: int, half: int) -> "Period":
        if half not in (1, 2):
            raise ValueError("half must be 1 or 2")
        start = datetime.date(year, 1 if half == 1 else 7, 1)
        end = datetime.date(year, 6, 30) if half == 1 else datetime.date(year, 12, 31)
        return cls(start, end, _("%(year)s, halvår %(half)s") % {"year": year, "half": half})

    @classmethod
    def quarter(cls, year: int, quarter: int) -> "Period":
        if quarter not in (1, 2, 3, 4):
            raise ValueError("quarter must be 1–4")
        first_month = 3 * (quarter - 1) + 1
        last_month = first_month + 2
        start = datetime.date(year, first_month, 1)
        end = datetime.date(year, last_month, calendar.monthrange(year, last_month)[1])
        return cls(start, end, _("%(year)s, kvartal %(quarter)s") % {"year": year, "quarter": quarter})

    @classmethod
    def custom(cls, start: datetime.date, end: datetime.date) -> "Period":
        if end < start:
            raise ValueError("end before start")
        return cls(start, end, f"{start.isoformat()} – {end.isoformat()}")

    def months(self) -> list[datetime.date]:
        """First day of every month the period touches, in order."""
        months, current = [], self.start.replace(day=1)
        while current <= self.end:
            months.append(current)
            current = (current + datetime.timedelta(days=32)).replace(day=1)
        return months


@dataclass(frozen=True)
class Scope:
    """Where the figures come from: the whole county, one council's reports or one municipality's.

    ``council_ids`` (local users) further limits every scope to reports of those councils.
    """

    COUNTY = "county"
    COUNCIL = "council"
    MUNICIPALITY = "municipality"

    kind: str
    council: Council | None = None
    municipality: Municipality | None = None
    council_ids: frozenset[int] | None = None

    @property
    def label(self) -> str:
        if self.kind == self.COUNCIL:
            return str(self.council)
        if self.kind == self.MUNICIPALITY:
            return str(self.municipality)
        return _("Hela länet")

    def q(self, prefix: str = "") -> Q:
        """The scope as a condition on reports, or on the report a relation ``prefix`` leads to."""
        condition = Q()
        if self.kind == self.COUNCIL:
            condition &= Q(**{f"{prefix}council": self.council})
        elif self.kind == self.MUNICIPALITY:
            condition &= Q(**{f"{prefix}municipality": self.municipality})
        if self.council_ids is not None:
            condition &= Q(**{f"{prefix}council__in": self.council_ids})
        return condition


# --- Who may see what ------------------------------------------------------------------------------


def sees_county(user) -> bool:
    """Regional level: superusers and regional coordinators see the whole county, unmasked."""
    return sees_whole_county(user)


def may_write_analysis(user) -> bool:
    return sees_whole_county(user)


def local_councils_of(user) -> QuerySet[Council]:
    if not user.is_authenticated:
        return Council.objects.none()
    return Council.objects.filter(
        active=True,
        level=Council.Level.LOCAL,
        memberships__user=user,
    ).distinct()


def scope_options(user) -> dict:
    """The scopes ``user`` may choose: {"regional": bool (unmasked figures, may write the analysis),
    "county": bool, "councils": [...], "municipalities": [...],
    "council_ids": None (unrestricted) or the local councils' ids}."""
    if sees_county(user):
        return {
            "regional": True,
            "county": True,
            "councils": list(Council.objects.filter(active=True, level=Council.Level.LOCAL)),
            "municipalities": list(Municipality.objects.all()),
            "council_ids": None,
        }
    councils = list(local_councils_of(user))
    ids = frozenset(c.pk for c in councils)
    municipalities = list(
        Municipality.objects.filter(Q(councils__in=ids) | Q(districts__councils__in=ids)).distinct()
    )
    return {
        "regional": False,
        "county": False,
        "councils": councils,
        "municipalities": municipalities,
        "council_ids": ids,
    }


# --- The base queryset ---------------------------------------------------------------------------


def followup_condition(
    *, agreement: Agreement, period: Period, scope: Scope, basis: str, prefix: str = ""
) -> Q:
    """The condition of ``followup_reports``, on reports or on the report a relation ``prefix`` (such as
    ``"deviation__"``) leads to: the queries over counterparts and response requests then join each row
    to its report once instead of first collecting the period's report ids."""
    if basis not in (DateBasis.REPORTED, DateBasis.OCCURRED):
        raise ValueError(f"unknown date basis {basis!r}")
    return (
        ~Q(**{f"{prefix}status": Status.UNCONFIRMED})
        & Q(
            **{
                f"{prefix}agreement": agreement,
                f"{prefix}{basis}__gte": period.start,
                f"{prefix}{basis}__lte": period.end,
            }
        )
        & scope.q(prefix)
    )


def followup_reports(*, agreement: Agreement, period: Period, scope: Scope, basis: str) -> QuerySet:
    """The confirmed reports of ``agreement`` whose ``basis`` date lies in ``period`` within ``scope``."""
    return Deviation.objects.filter(
        followup_condition(agreement=agreement, period=period, scope=scope, basis=basis)
    )


# --- Percentiles ---------------------------------------------------------------------------------


class PercentileCont(Aggregate):
    """PostgreSQL's ordered-set aggregate ``PERCENTILE_CONT(p) WITHIN GROUP (ORDER BY expr)``."""

    function = "PERCENTILE_CONT"
    name = "PercentileCont"
    template = "%(function)s(%(percentile)s) WITHIN GROUP (ORDER BY %(expressions)s)%(filter)s"
    output_field = FloatField()

    def __init__(self, expression, percentile: float, **extra):
        percentile = float(percentile)
        if not 0 <= percentile <= 1:
            raise ValueError("percentile must be within [0, 1]")
        super().__init__(expression, percentile=repr(percentile), **extra)


class EpochSeconds(Func):
    """Seconds in a PostgreSQL interval."""

    template = "EXTRACT(EPOCH FROM %(expressions)s)"
    output_field = FloatField()


DURATIONS = {
    # key: (end field, extra condition)
    "response": ("first_response_at", Q(first_response_at__isnull=False)),
    "closure": ("closed_at", Q(closed_at__isnull=False, status=Status.CLOSED)),
}


def _duration_aggregates() -> dict:
    """PostgreSQL: count, median and 90th percentile (seconds) of submitted→first response and
    submitted→closure, as aggregates for the one pass over the period's reports."""
    aggregates = {}
    for key, (end, condition) in DURATIONS.items():
        condition = condition & Q(submitted_at__isnull=False)
        seconds = EpochSeconds(F(end) - F("submitted_at"))
        aggregates[f"{key}_count"] = Count("pk", filter=condition)
        for name, p in (("median", 0.5), ("p90", 0.9)):
            aggregates[f"{key}_{name}"] = PercentileCont(seconds, p, filter=condition)
    return aggregates


def _durations(row: dict) -> dict:
    """Median and 90th percentile, in days, of submitted→first response and submitted→closure, from the
    PERCENTILE_CONT aggregates of the pass over the period (``row``, from ``_duration_aggregates``)."""
    return {
        key: {
            "count": row[f"{key}_count"],
            "median_days": _days(row[f"{key}_median"]),
            "p90_days": _days(row[f"{key}_p90"]),
        }
        for key in DURATIONS
    }


def _days(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds / 86400, 1)


# --- The statistics ------------------------------------------------------------------------------


def _share(count: int, total: int) -> float | None:
    """Percentage with one decimal."""
    return round(100 * count / total, 1) if total else None


def _rows(pairs, total: int) -> list[dict]:
    return [{"label": label, "count": count, "share": _share(count, total)} for label, count in pairs]


@dataclass
class FollowUpStatistics:
    agreement: Agreement
    period: Period
    scope: Scope
    basis: str
    masked: bool
    today: datetime.date
    total: int = 0
    summary: dict = field(default_factory=dict)
    by_month: list = field(default_factory=list)
    by_category: list = field(default_factory=list)
    by_commitment: list = field(default_factory=list)
    by_organization_pair: list = field(default_factory=list)
    by_principal_pair: list = field(default_factory=list)
    durations: dict = field(default_factory=dict)
    responses: dict = field(default_factory=dict)
    handling: dict = field(default_factory=dict)
    systemic_issues: list = field(default_factory=list)

    @property
    def top_organization_pairs(self) -> list:
        """The most frequent pairs shown on the page and in the PDF; the exports hold them all."""
        return self.by_organization_pair[:TOP_PAIRS]

    @property
    def organization_pairs_left_out(self) -> int:
        return max(len(self.by_organization_pair) - TOP_PAIRS, 0)

    @property
    def basis_label(self) -> str:
        return str(dict(DateBasis.CHOICES)[self.basis])


PRINCIPAL_PAIRS = [
    ("municipality_region", gettext_lazy("Kommun → Region")),
    ("region_municipality", gettext_lazy("Region → Kommun")),
    ("municipality_municipality", gettext_lazy("Kommun → Kommun")),
    ("region_region", gettext_lazy("Region → Region")),
]


def followup_statistics(
    *,
    agreement: Agreement,
    period: Period,
    scope: Scope,
    basis: str,
    masked: bool,
    today: datetime.date | None = None,
) -> FollowUpStatistics:
    """Every figure of the follow-up page for one agreement, period and scope, in a bounded number of
    queries whatever the number of reports.

    ``masked``: outside the regional level, organisation-pair cells below
    ``SMALL_NUMBER_THRESHOLD`` are replaced by ``SMALL_NUMBER_LABEL`` (count and share).

    At a million reports one agreement-year holds ~60,000 of them, and every pass over them costs
    (bench/RESULTS.md). So: one pass for everything that is a plain aggregate of the reports, one
    per breakdown that needs a GROUP BY, and the related tables (events, counterparts, response
    requests) read only within the id range of the period's reports (``first_pk``..``last_pk``, from
    the first pass). That range is exact, whatever the ids: it only lets PostgreSQL read a slice of
    their indexes (report ids grow with time, so a period's reports sit close together) instead of
    hashing the whole related table.
    """
    today = today or timezone.localdate()
    selection = {"agreement": agreement, "period": period, "scope": scope, "basis": basis}
    qs = followup_reports(**selection)
    stats = FollowUpStatistics(
        agreement=agreement, period=period, scope=scope, basis=basis, masked=masked, today=today
    )

    # 1. One pass: totals, open now, overdue now, SIP, discharge, the durations (PostgreSQL) and the
    #    id range. The overdue test runs only for open reports; PostgreSQL reads the (few) unanswered
    #    past-due requests once from their partial index (responsereq_open_due_idx).
    overdue_request = ResponseRequest.objects.overdue(today).filter(deviation=OuterRef("pk"))
    row = qs.aggregate(
        total=Count("pk"),
        open=Count("pk", filter=Q(status__in=OPEN_STATES)),
        closed=Count("pk", filter=Q(status=Status.CLOSED)),
        rejected=Count("pk", filter=Q(status=Status.REJECTED)),
        overdue=Count("pk", filter=Q(status__in=OPEN_STATES) & Q(Exists(overdue_request))),
        sip=Count("pk", filter=Q(sip_involved="yes")),
        discharge=Count("pk", filter=Q(discharge_involved="yes")),
        first_pk=Min("pk"),
        last_pk=Max("pk"),
        **_duration_aggregates(),
    )
    total = stats.total = row["total"]
    first_pk, last_pk = row["first_pk"] or 0, row["last_pk"] or 0  # the queries below need reports
    in_range = {"deviation_id__gte": first_pk, "deviation_id__lte": last_pk}
    stats.durations = _durations(row)

    # 2. By category and commitment, with local vs escalated handling: one GROUP BY over the period.
    #    Uncorrelated IN: PostgreSQL reads the handling events of the id range once from their partial
    #    index (event_handling_idx) into a hash instead of probing the events of every report.
    transitions = DeviationEvent.objects.filter(kind=DeviationEvent.Kind.TRANSITION, **in_range)
    escalated = transitions.filter(action="escalate").values("deviation_id")
    resolved_locally = transitions.filter(action="resolve_locally").values("deviation_id")
    groups = (
        list(
            qs.values("category_id", "commitment_id")
            .annotate(
                n=Count("pk"),
                escalated=Count("pk", filter=Q(pk__in=escalated)),
                local_only=Count("pk", filter=Q(pk__in=resolved_locally) & ~Q(pk__in=escalated)),
            )
            .order_by()
        )
        if total
        else []
    )
    summary = {
        key: row[key] for key in ("total", "open", "closed", "rejected", "overdue", "sip", "discharge")
    }
    summary["escalated"] = sum(group["escalated"] for group in groups)
    summary["local_only"] = sum(group["local_only"] for group in groups)
    stats.summary = {
        **summary,
        "open_share": _share(summary["open"], total),
        "overdue_share": _share(summary["overdue"], total),
        "sip_share": _share(summary["sip"], total),
        "discharge_share": _share(summary["discharge"], total),
    }
    handled = summary["escalated"] + summary["local_only"]
    stats.handling = {
        "resolved_locally": summary["local_only"],
        "escalated": summary["escalated"],
        "handled": handled,
        "resolved_locally_share": _share(summary["local_only"], handled),
        "escalated_share": _share(summary["escalated"], handled),
    }
    stats.by_category, stats.by_commitment = _category_and_commitment_rows(groups, total)

    # 3. Trend by month (months without reports shown as 0), from the count per day.
    per_month: dict[datetime.date, int] = {}
    if total:
        for day, n in qs.values_list(basis).annotate(n=Count("pk")).order_by().values_list(basis, "n"):
            month = _as_date(day).replace(day=1)
            per_month[month] = per_month.get(month, 0) + n
    stats.by_month = [
        {
            "month": month,
            "label": month.strftime("%Y-%m"),
            "count": per_month.get(month, 0),
            "share": _share(per_month.get(month, 0), total),
        }
        for month in period.months()
    ]

    # 4. Reporting → counterpart organisation pairs and principal pairs. A report with several
    #    counterparts counts once per pair, so these shares can add up to more than 100 %.
    through = Deviation.counterpart_organizations.through.objects.filter(
        followup_condition(**selection, prefix="deviation__"), **in_range
    )
    # (deviation, organization) is unique in the M2M table, so a plain COUNT is per distinct report.
    pairs = (
        through.values("deviation__reporting_organization__name", "organization__name")
        .annotate(n=Count("deviation_id"))
        .order_by("-n", "deviation__reporting_organization__name", "organization__name")
        .values_list("deviation__reporting_organization__name", "organization__name", "n")
        if total
        else []
    )
    stats.by_organization_pair = [
        _maybe_masked(
            {
                "reporting": rep,
                "counterpart": cp,
                "label": f"{rep} → {cp}",
                "count": n,
                "share": _share(n, total),
            },
            masked,
        )
        for rep, cp, n in pairs
    ]
    principal_pair = Case(
        When(
            deviation__reporting_organization__principal_municipality__isnull=False,
            organization__principal_region__isnull=False,
            then=Value("municipality_region"),
        ),
        When(
            deviation__reporting_organization__principal_region__isnull=False,
            organization__principal_municipality__isnull=False,
            then=Value("region_municipality"),
        ),
        When(
            deviation__reporting_organization__principal_municipality__isnull=False,
            organization__principal_municipality__isnull=False,
            then=Value("municipality_municipality"),
        ),
        default=Value("region_region"),
        output_field=CharField(),
    )
    per_principal = (
        dict(
            through.annotate(pair=principal_pair)
            .values("pair")
            .annotate(n=Count("deviation_id", distinct=True))
            .order_by()
            .values_list("pair", "n")
        )
        if total
        else {}
    )
    stats.by_principal_pair = [
        {
            "key": key,
            "label": str(label),
            "count": per_principal.get(key, 0),
            "share": _share(per_principal.get(key, 0), total),
        }
        for key, label in PRINCIPAL_PAIRS
        if key in per_principal or key != "region_region"
    ]

    # 5. Response requests (yttranden) answered in time. Requests not yet due and unanswered are
    #    pending and left out of the share; answered on the due date counts as in time (local date).
    answered_on = TruncDate("answered_at", tzinfo=timezone.get_current_timezone())
    requests = ResponseRequest.objects.filter(
        followup_condition(**selection, prefix="deviation__"), cancelled_at__isnull=True, **in_range
    )
    responses = (
        requests.annotate(answered_on=answered_on).aggregate(
            total=Count("pk"),
            in_time=Count("pk", filter=Q(answered_at__isnull=False, answered_on__lte=F("due_on"))),
            late=Count("pk", filter=Q(answered_at__isnull=False, answered_on__gt=F("due_on"))),
            overdue=Count("pk", filter=ResponseRequest.objects.overdue_condition(today)),
            pending=Count("pk", filter=Q(answered_at__isnull=True, due_on__gte=today)),
        )
        if total
        else {"total": 0, "in_time": 0, "late": 0, "overdue": 0, "pending": 0}
    )
    decided = responses["total"] - responses["pending"]
    responses["decided"] = decided
    responses["in_time_share"] = _share(responses["in_time"], decided)
    stats.responses = responses

    # 6. Systemic issues touched in the period: with reports of this selection linked to them.
    stats.systemic_issues = systemic_issues_for(qs) if total else []
    return stats


def _category_and_commitment_rows(groups: list[dict], total: int) -> tuple[list[dict], list[dict]]:
    """Rows by category name and by commitment from the per (category, commitment) counts, ordered
    as the database would: most reports first, then by name (category) or number (commitment)."""
    per_category: dict[int, int] = {}
    per_commitment: dict[int | None, int] = {}
    for group in groups:
        per_category[group["category_id"]] = per_category.get(group["category_id"], 0) + group["n"]
        per_commitment[group["commitment_id"]] = per_commitment.get(group["commitment_id"], 0) + group["n"]
    by_name: dict[str, int] = {}
    if per_category:
        # Names in the database's order, so that ties sort as an ORDER BY name would.
        for pk, name in (
            DeviationCategory.objects.filter(pk__in=per_category).order_by("name").values_list("pk", "name")
        ):
            by_name[name] = by_name.get(name, 0) + per_category[pk]
    categories = sorted(by_name.items(), key=lambda item: -item[1])
    by_commitment: dict[tuple, int] = {}
    if any(pk is not None for pk in per_commitment):
        for pk, number, title in (
            Commitment.objects.filter(pk__in=[pk for pk in per_commitment if pk is not None])
            .order_by("number", "title")
            .values_list("pk", "number", "title")
        ):
            by_commitment[(number, title)] = by_commitment.get((number, title), 0) + per_commitment[pk]
    if None in per_commitment:
        by_commitment[(None, None)] = per_commitment[None]  # no commitment: last among equals
    commitments = sorted(
        (
            (f"{number}. {title}" if number is not None else _("Inget åtagande angivet"), n)
            for (number, title), n in by_commitment.items()
        ),
        key=lambda item: -item[1],
    )
    return _rows(categories, total), _rows(commitments, total)


def _as_date(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def _maybe_masked(row: dict, masked: bool) -> dict:
    row["masked"] = masked and row["count"] < SMALL_NUMBER_THRESHOLD
    row["count_display"] = SMALL_NUMBER_LABEL if row["masked"] else row["count"]
    row["share_display"] = SMALL_NUMBER_LABEL if row["masked"] else row["share"]
    return row


def systemic_issues_for(qs: QuerySet) -> list[SystemicIssue]:
    """Systemic issues with at least one report of ``qs``, with ``linked`` (reports of ``qs``) and their
    decided actions and owners prefetched (three queries).

    The links are counted from the reports' side (one GROUP BY over ``qs``, which the period's index
    narrows); joining every issue to all its reports first would read most of the table."""
    linked = dict(
        qs.filter(systemic_issue__isnull=False)
        .order_by()
        .values_list("systemic_issue")
        .annotate(n=Count("pk"))
        .values_list("systemic_issue", "n")
    )
    if not linked:
        return []
    issues = list(
        SystemicIssue.objects.filter(pk__in=linked).prefetch_related(
            Prefetch(
                "actions", queryset=SystemicAction.objects.select_related("owner").order_by("due_on", "pk")
            )
        )
    )
    for issue in issues:
        issue.linked = linked[issue.pk]
    issues.sort(key=lambda issue: (-issue.linked, issue.title))
    return issues


# --- Underlying reports for exports ----------------------------------------------------------------

#: (Swedish header, value key) of the report export. Never reporter name, e-mail or phone.
REPORT_COLUMNS = [
    (gettext_lazy("Referensnummer"), "reference"),
    (gettext_lazy("Status"), "status"),
    (gettext_lazy("Överenskommelse"), "agreement__name"),
    (gettext_lazy("Åtagande"), "commitment__title"),
    (gettext_lazy("Kategori"), "category__name"),
    (gettext_lazy("Datum då bristen inträffade"), "occurred_on"),
    (gettext_lazy("Rapporteringsdatum"), "reported_on"),
    (gettext_lazy("Kommun"), "municipality__name"),
    (gettext_lazy("Stadsdel"), "district__name"),
    (gettext_lazy("Samråd"), "council__name"),
    (gettext_lazy("Rapporterande organisation"), "reporting_organization__name"),
    (gettext_lazy("Motpart(er)"), "counterparts"),
    (gettext_lazy("Gällde SIP"), "sip_involved"),
    (gettext_lazy("Gällde utskrivning från slutenvård"), "discharge_involved"),
    (gettext_lazy("Inkommen"), "submitted_at"),
    (gettext_lazy("Första åtgärd"), "first_response_at"),
    (gettext_lazy("Avslutad"), "closed_at"),
    (gettext_lazy("Systemfråga"), "systemic_issue__title"),
    (gettext_lazy("Vad hände"), "description"),
    (gettext_lazy("Konsekvens för individen"), "consequence"),
    (gettext_lazy("Åtgärder som redan vidtagits"), "actions_taken"),
    (gettext_lazy("Förslag till förbättring"), "suggested_improvement"),
]


def report_rows(qs: QuerySet) -> QuerySet:
    """``values_list`` rows in ``REPORT_COLUMNS`` order: one query per chunk when iterated with
    ``.iterator(chunk_size=...)``; counterparts aggregated in the database."""
    keys = [key for _label, key in REPORT_COLUMNS]
    return (
        qs.annotate(counterparts=counterpart_names())
        .order_by(F("reported_on"), "reference")
        .values_list(*keys)
    )


# --- The council's analysis ------------------------------------------------------------------------


def analysis_versions(*, agreement: Agreement, period: Period) -> list[FollowUpAnalysis]:
    """Every version of the regional council's analysis for an agreement and period, newest first."""
    return list(
        FollowUpAnalysis.objects.filter(agreement=agreement, period_start=period.start, period_end=period.end)
        .select_related("author")
        .order_by("-created_at", "-pk")
    )
