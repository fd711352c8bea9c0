"""Reads for the follow-up (uppföljning) of an agreement: one computation, several renderings.

``followup_statistics`` reads the follow-up summary (``deviations.summary``: what every report
contributes per month, quarter and year, kept current by the services) for an agreement, period, scope
and date basis, and returns plain dicts and rows that the follow-up page, the document (PDF, DOCX) and
the CSV/XLSX exports all share. Its cost depends on the spans of the period, the places and the keys,
not on the number of reports.

Unconfirmed reports are excluded everywhere.
"""

import calendar
import datetime
import math
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import F, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from agreements.models import (
    Agreement,
    Commitment,
    ContributingFactor,
    DeviationCategory,
    FollowUpAnalysis,
    Organization,
)
from councils.models import Council, Municipality
from deviations import summary
from deviations.models import Deviation, Severity, SystemicAction, SystemicIssue
from deviations.selectors import active_memberships, counterpart_names, sees_whole_county
from deviations.workflow import OPEN_STATES, Status

#: Cells for a single organisation pair below this many reports are masked outside the regional level.
SMALL_NUMBER_THRESHOLD = 3
SMALL_NUMBER_LABEL = "< 3"
#: Organisation pairs listed on the page and in the PDF (there can be hundreds county-wide).
TOP_PAIRS = 30
#: Systemic issues listed on the page and in the PDF, most linked reports first (their number grows with
#: the reports of the period); the exports hold them all.
TOP_SYSTEMIC_ISSUES = 30


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
    kind: str = PeriodType.CUSTOM

    @classmethod
    def year(cls, year: int) -> "Period":
        return cls(datetime.date(year, 1, 1), datetime.date(year, 12, 31), str(year), PeriodType.YEAR)

    @classmethod
    def half(cls, year: int, half: int) -> "Period":
        if half not in (1, 2):
            raise ValueError("half must be 1 or 2")
        start = datetime.date(year, 1 if half == 1 else 7, 1)
        end = datetime.date(year, 6, 30) if half == 1 else datetime.date(year, 12, 31)
        return cls(start, end, _("%(year)s, halvår %(half)s") % {"year": year, "half": half}, PeriodType.HALF)

    @classmethod
    def quarter(cls, year: int, quarter: int) -> "Period":
        if quarter not in (1, 2, 3, 4):
            raise ValueError("quarter must be 1–4")
        first_month = 3 * (quarter - 1) + 1
        last_month = first_month + 2
        start = datetime.date(year, first_month, 1)
        end = datetime.date(year, last_month, calendar.monthrange(year, last_month)[1])
        label = _("%(year)s, kvartal %(quarter)s") % {"year": year, "quarter": quarter}
        return cls(start, end, label, PeriodType.QUARTER)

    @classmethod
    def custom(cls, start: datetime.date, end: datetime.date) -> "Period":
        if end < start:
            raise ValueError("end before start")
        return cls(start, end, f"{start.isoformat()} – {end.isoformat()}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> "Period":
        """The period of the same length just before: the year, half-year or quarter before, or as many
        days before a custom period."""
        if self.kind == PeriodType.YEAR:
            return Period.year(self.start.year - 1)
        if self.kind == PeriodType.HALF:
            half = 1 if self.start.month == 1 else 2
            return Period.half(self.start.year, 1) if half == 2 else Period.half(self.start.year - 1, 2)
        if self.kind == PeriodType.QUARTER:
            quarter = (self.start.month - 1) // 3 + 1
            if quarter == 1:
                return Period.quarter(self.start.year - 1, 4)
            return Period.quarter(self.start.year, quarter - 1)
        end = self.start - datetime.timedelta(days=1)
        return Period.custom(end - datetime.timedelta(days=self.days - 1), end)

    def months(self) -> list[datetime.date]:
        """First day of every month the period touches, in order."""
        months, current = [], self.start.replace(day=1)
        while current <= self.end:
            months.append(current)
            current = (current + datetime.timedelta(days=32)).replace(day=1)
        return months


@dataclass(frozen=True)
class Scope:
    """Where the figures come from: the whole county, one council's reports, one municipality's, or one
    municipality's reports handled by one council (``municipality`` and ``council`` both set: what a
    local council member sees of a municipality their council covers only in part, such as a district
    of Stockholm).

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
        """Exactly which reports are counted, for titles."""
        if self.kind == self.COUNCIL:
            return str(self.council)
        if self.kind == self.MUNICIPALITY:
            if self.council is not None:
                return _("%(municipality)s, rapporter i %(council)s") % {
                    "municipality": self.municipality,
                    "council": self.council,
                }
            return str(self.municipality)
        return _("Hela länet")

    @property
    def analysis_key(self) -> dict:
        """The council and municipality a written analysis of this scope is saved under."""
        if self.kind == self.COUNCIL:
            return {"council": self.council, "municipality": None}
        if self.kind == self.MUNICIPALITY:
            return {"council": self.council, "municipality": self.municipality}
        return {"council": None, "municipality": None}

    @property
    def is_whole_county(self) -> bool:
        return self.kind == self.COUNTY and self.council_ids is None

    def q(self, prefix: str = "") -> Q:
        """The scope as a condition on reports, or on the report a relation ``prefix`` leads to."""
        condition = Q()
        if self.council is not None:
            condition &= Q(**{f"{prefix}council": self.council})
        if self.kind == self.MUNICIPALITY:
            condition &= Q(**{f"{prefix}municipality": self.municipality})
        if self.council_ids is not None:
            condition &= Q(**{f"{prefix}council__in": self.council_ids})
        return condition

    def matches(self, council_pk: int, municipality_pk: int) -> bool:
        """Whether a place row (``deviations.summary``) lies in the scope."""
        return (
            (self.council is None or council_pk == self.council.pk)
            and (self.kind != self.MUNICIPALITY or municipality_pk == self.municipality.pk)
            and (self.council_ids is None or council_pk in self.council_ids)
        )


# --- Who may see what ------------------------------------------------------------------------------


def sees_county(user) -> bool:
    """Regional level: superusers and regional coordinators see the whole county, unmasked."""
    return sees_whole_county(user)


def may_write_analysis(user, scope: Scope) -> bool:
    """The regional level writes the analysis of any scope; a local council's coordinator (or chair)
    writes that of their council and of the municipalities' reports it handles."""
    if sees_whole_county(user):
        return True
    return scope.council is not None and any(
        m.council_id == scope.council.pk and m.is_coordinator and not m.regional
        for m in active_memberships(user)
    )


def local_councils_of(user) -> QuerySet[Council]:
    if not user.is_authenticated:
        return Council.objects.none()
    return Council.objects.filter(
        active=True,
        level=Council.Level.LOCAL,
        memberships__user=user,
    ).distinct()


def scope_options(user) -> dict:
    """The scopes ``user`` may choose: {"regional": bool (unmasked figures), "county": bool,
    "councils": [...], "municipalities": [(municipality, council or None), ...],
    "council_ids": None (unrestricted) or the local councils' ids}.

    A local member is offered each municipality their council covers as that municipality's reports
    handled by the council ("Stockholm, rapporter i Västerort"), never the whole municipality."""
    if sees_county(user):
        return {
            "regional": True,
            "county": True,
            "councils": list(Council.objects.filter(active=True, level=Council.Level.LOCAL)),
            "municipalities": [(m, None) for m in Municipality.objects.all()],
            "council_ids": None,
        }
    councils = list(local_councils_of(user).prefetch_related("municipalities", "districts__municipality"))
    municipalities = []
    for council in councils:
        covered = {m.pk: m for m in council.municipalities.all()}
        covered.update({d.municipality_id: d.municipality for d in council.districts.all()})
        municipalities += [(m, council) for m in sorted(covered.values(), key=lambda m: m.name)]
    return {
        "regional": False,
        "county": False,
        "councils": councils,
        "municipalities": municipalities,
        "council_ids": frozenset(c.pk for c in councils),
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


# --- Reading the summary ---------------------------------------------------------------------------


def _month_end(month: datetime.date) -> datetime.date:
    return month.replace(day=calendar.monthrange(month.year, month.month)[1])


#: What is counted per organisation pair besides its reports (``pair``), added up per pair when a pair's
#: times are shown (``Tally.pair_details``).
PAIR_MEASURES = ("pair_response", "pair_req_in_time", "pair_req_late", "pair_req_open", "pair_answer")
#: A pair's reports are stored in two measures, those with a first action and those without
#: (``deviations.summary``), and read added up as ``pair``.
PAIR_COUNTS = ("pair_response", "pair_no_response")
#: Measures keyed by a due date (open reports' earliest open request, open requests), read as these two
#: keys: due before today, or today and later (``_DUE_KEY``, ``Tally.add``).
DUE_MEASURES = ("open_due", "req_open")
OVERDUE, PENDING = "overdue", "pending"
#: The other measures of the summary (``deviations.summary``).
MEASURES = (
    "total",
    "status",
    "sip",
    "discharge",
    "category",
    "commitment",
    "severity",
    "response",
    "closure",
    "answer",
    "systemic",
    "escalated",
    "local_only",
    "open_due",
    "principal",
    "req_in_time",
    "req_late",
    "req_open",
    "factor",
    "factor_group",
    "factor_tagged",
    "commitment_factor",
    "commitment_severe",
)
#: What the comparison with the previous period needs (``followup_statistics(detail=False)``).
COMPARED_MEASURES = (
    "total",
    "status",
    "open_due",
    "sip",
    "discharge",
    "escalated",
    "local_only",
    "severity",
    "commitment",
    "response",
    "closure",
    "answer",
    "req_in_time",
    "req_late",
    "req_open",
)
#: Measures the trends need month by month.
MONTHLY_MEASURES = ("total", "commitment")


@dataclass(slots=True)
class PairTally:
    """One reporting → counterpart organisation pair, over the selection: reports with a first action and
    the seconds to it, the counterpart's response requests by outcome and the seconds to its answers."""

    first_n: int = 0
    first_seconds: int = 0
    in_time: int = 0
    late: int = 0
    overdue: int = 0
    pending: int = 0
    answer_n: int = 0
    answer_seconds: int = 0


@dataclass
class Tally:
    """The summary rows of a selection, added up: ``totals[measure][key] = [n, seconds]`` over the period
    (the ``DUE_MEASURES`` keyed ``OVERDUE`` or ``PENDING`` instead of by due date)
    and scope, ``months[(month, measure, key)]`` for the trends, ``places[(council, municipality)]`` =
    reports per place (for the breakdown). The pair measures are read only for the pairs shown
    (``pair_details``); ``live_pairs`` holds theirs from the parts of months read from the reports."""

    today: datetime.date
    totals: dict = field(default_factory=dict)
    months: dict = field(default_factory=dict)
    places: dict = field(default_factory=dict)
    live_pairs: dict = field(default_factory=dict)
    #: The stored rows' condition (the scope's own rows) and parameters, for ``pair_details``.
    stored: tuple[str, dict] | None = None
    #: What the summary was read from (``deviations.summary.source_for``), for another period's read.
    source: str | None = None
    #: The first ``TOP_PAIRS`` organisation pairs as (reporting id, counterpart id, reports), ranked in
    #: the database, and the number of all pairs; None when some months are read in part (every pair's
    #: count is then in ``totals["pair"]``, the stored and the live added up).
    ranked_pairs: list[tuple[int, int, int]] | None = None
    pair_count: int = 0

    def add_pair_count(self, key: str, n: int) -> None:
        """``n`` reports of the pair ``key`` from one of the ``PAIR_COUNTS`` rows, added up as ``pair``."""
        self.totals.setdefault("pair", {}).setdefault(key, [0, 0])[0] += n

    def add(self, month, council_pk, municipality_pk, measure, key, n, seconds):
        """One place row (``deviations.summary.live_rows``)."""
        if measure in PAIR_COUNTS:
            self.add_pair_count(key, n)
        if measure in PAIR_MEASURES:
            _add_pair_row(self.live_pairs, measure, key, n, seconds, today=self.today)
            return
        if measure in DUE_MEASURES:
            key = OVERDUE if key < self.today.isoformat() else PENDING
        current = self.totals.setdefault(measure, {}).setdefault(key, [0, 0])
        current[0] += n
        current[1] += seconds
        if measure in MONTHLY_MEASURES:
            self.months[(month, measure, key)] = self.months.get((month, measure, key), 0) + n
        if measure == "total":
            self.places[(council_pk, municipality_pk)] = self.places.get((council_pk, municipality_pk), 0) + n

    def n(self, measure: str, key: str = "") -> int:
        return self.totals.get(measure, {}).get(key, (0, 0))[0]

    def keys(self, measure: str) -> dict[str, list[int]]:
        """``{key: [n, seconds]}`` of one measure."""
        return self.totals.get(measure, {})

    def every_ranked_pair(self) -> list[tuple[int, int, int]]:
        """Every pair of ``ranked_pairs``' ranking (the exports): one statement."""
        rows, params = self.stored
        sql = _RANKED_PAIRS.replace("{first}", "").replace("{rows}", rows).replace("{source}", self.source)
        with summary.reading_connection().cursor() as cursor:
            cursor.execute(sql, {**params, "pair_limit": None})
            return [(*_pair_of(key), n) for key, n, _count, _place in cursor.fetchall()]

    def pair_details(self, pairs: list[tuple[int, int]] | None = None) -> dict[tuple[int, int], PairTally]:
        """The pair measures of ``pairs`` (every pair if None), added up per pair in the database."""
        details: dict[tuple[int, int], PairTally] = {}
        if self.stored is not None and pairs != []:
            rows, params = self.stored
            some = pairs is not None
            sql = (
                _PAIRS_SQL.replace("{open}", _OPEN_OF_PAIRS if some else _OPEN_REQUESTS)
                .replace("{keys}", "AND key = ANY(%(pair_keys)s)" if some else "")
                .replace("{rows}", rows)
                .replace("{source}", self.source)
            )
            params = {**params, "pair_keys": [f"{rep}:{org}" for rep, org in pairs or ()]}
            with summary.reading_connection().cursor() as cursor:
                cursor.execute(sql, params)
                details = {(rep, org): PairTally(*values) for rep, org, *values in cursor.fetchall()}
        wanted = None if pairs is None else set(pairs)
        for pair, live in self.live_pairs.items():
            if wanted is None or pair in wanted:
                stored = details.setdefault(pair, PairTally())
                for name in PairTally.__dataclass_fields__:
                    setattr(stored, name, getattr(stored, name) + getattr(live, name))
        return details


def _pair_of(key: str) -> tuple[int, int]:
    """(reporting id, counterpart id) of a ``pair`` key."""
    rep, _sep, cp = key.partition(":")
    return int(rep), int(cp)


def _add_pair_row(pairs: dict, measure: str, key: str, n: int, seconds: int, *, today: datetime.date) -> None:
    """Add one pair measure's row to ``pairs`` (``{(reporting, organisation): PairTally}``)."""
    rep, _sep, rest = key.partition(":")
    org, _sep, due = rest.partition(":")
    pair = pairs.get((int(rep), int(org)))
    if pair is None:
        pair = pairs[(int(rep), int(org))] = PairTally()
    if measure == "pair_response":
        pair.first_n += n
        pair.first_seconds += seconds
    elif measure == "pair_req_in_time":
        pair.in_time += n
    elif measure == "pair_req_late":
        pair.late += n
    elif measure == "pair_req_open":
        if due < today.isoformat():
            pair.overdue += n
        else:
            pair.pending += n
    else:  # pair_answer
        pair.answer_n += n
        pair.answer_seconds += seconds


def _spans(
    period: Period,
) -> tuple[dict[int, list[datetime.date]], list[tuple[datetime.date, datetime.date]]]:
    """The period as stored spans (``{months: [first days]}``: whole years, then whole quarters, then
    whole months) and the parts of months it covers (``[(start, end)]``)."""
    whole = [m for m in period.months() if m >= period.start and _month_end(m) <= period.end]
    partial = [
        (max(m, period.start), min(_month_end(m), period.end)) for m in period.months() if m not in whole
    ]
    left = set(whole)
    spans: dict[int, list[datetime.date]] = {}
    for months in (12, 3):
        for first in sorted(left):
            if (first.month - 1) % months:
                continue
            covered = {first.replace(month=first.month + i) for i in range(months)}
            if covered <= left:
                spans.setdefault(months, []).append(first)
                left -= covered
    if left:
        spans[1] = sorted(left)
    return spans, partial


#: ``{source}``: the summary, with the pending changes while there are any (``summary.source_for``).
_SELECTION = "FROM {source} WHERE agreement_pk = %(agreement)s AND basis = %(basis)s AND {places}"
_ROWS = _SELECTION.replace("{places}", "{rows}")  # the scope's own rows (the county's, or its places')
#: The period's spans: every combination of span and first day is one range of the unique index, and the
#: CASE keeps only the period's (the first day of a year is also that of its first quarter and month).
_SPANS = """
    AND months = ANY(%(spans)s) AND month = ANY(%(starts)s)
    AND CASE months WHEN 12 THEN month = ANY(%(years)s) WHEN 3 THEN month = ANY(%(quarters)s)
                    ELSE month = ANY(%(whole_months)s) END
"""
#: Rows the services took back to nothing (a report moved elsewhere) are left out, as a rebuild would.
_NONZERO = "HAVING sum(n) <> 0 OR sum(seconds) <> 0"
#: The measures (``t``), the reports per place (``p``) and the trend's month rows (``m``), added up.
#: The measures keyed by a due date are read as two keys, ``OVERDUE`` (due before today) and ``PENDING``:
#: all the page needs of them. Each due date of a year was a row (706 of a 10M year's 1,409; 190 of 1M's).
_DUE_KEY = f"""
    CASE WHEN measure = ANY(%(due_measures)s)
         THEN CASE WHEN key < %(today)s THEN '{OVERDUE}' ELSE '{PENDING}' END ELSE key END
"""
_TOTALS_SQL = f"""
    SELECT 't', measure, {_DUE_KEY}, NULL::date, 0, 0, sum(n)::bigint, sum(seconds)::bigint {_ROWS}
    {_SPANS} AND measure = ANY(%(measures)s) GROUP BY measure, 3 {_NONZERO}
  UNION ALL
    SELECT 'p', '', '', NULL::date, council_pk, municipality_pk, sum(n)::bigint, 0 {_SELECTION}
    {_SPANS} AND measure = 'total' GROUP BY council_pk, municipality_pk {_NONZERO}
"""
_TREND_SQL = f"""
  UNION ALL
    SELECT 'm', measure, key, month, 0, 0, sum(n)::bigint, 0 {_ROWS}
    AND months = 1 AND month = ANY(%(trend)s) AND measure = ANY(%(monthly)s)
    GROUP BY measure, key, month {_NONZERO}
"""
#: The organisation pairs ranked as the page shows them (``_Pairs``): most reports first, then by the
#: organisations' names in code point order (``COLLATE "C"``, Python's string order) and ids, with the
#: number of all pairs. ``{first}``: only pairs with at least as many reports as the ``%(pair_limit)s``th
#: (the names are read and compared for those), or nothing for every pair (the exports, no limit). The
#: page reads its 30 so instead of every pair's key and name.
_RANKED_PAIRS = f"""
    WITH x AS MATERIALIZED (
        SELECT key, sum(n)::bigint AS n {_ROWS} {_SPANS}
        AND measure IN ('{PAIR_COUNTS[0]}', '{PAIR_COUNTS[1]}') GROUP BY key HAVING sum(n) <> 0
    )
    SELECT x.key, x.n, (SELECT count(*) FROM x) AS pairs,
           row_number() OVER (ORDER BY x.n DESC, rep.name COLLATE "C", cp.name COLLATE "C", rep.id, cp.id)
           AS place
    FROM x
    JOIN {Organization._meta.db_table} AS rep ON rep.id = split_part(x.key, ':', 1)::bigint
    JOIN {Organization._meta.db_table} AS cp ON cp.id = split_part(x.key, ':', 2)::bigint
    {{first}}
    ORDER BY place LIMIT %(pair_limit)s
"""  # noqa: S608 (constant fragments; the values are parameters)
_FIRST_PAIRS = "WHERE x.n >= coalesce((SELECT n FROM x ORDER BY n DESC OFFSET %(pair_limit)s - 1 LIMIT 1), 0)"
_RANK_SQL = f"""
  UNION ALL
    SELECT 'r', '', key, NULL::date, 0, pairs, n, place FROM ({_RANKED_PAIRS}) AS ranked
""".replace("{first}", _FIRST_PAIRS)  # noqa: S608
#: The pair measures added up per pair, in ``PairTally``'s order (open requests split on ``today``).
#: ``{keys}`` limits them to some pairs, ``{open}`` reads the open requests (``_OPEN_OF_PAIRS`` for some).
_PAIRS_SQL = f"""
    SELECT split_part(key, ':', 1)::bigint, split_part(key, ':', 2)::bigint,
           coalesce(sum(n) FILTER (WHERE measure = 'pair_response'), 0)::bigint,
           coalesce(sum(seconds) FILTER (WHERE measure = 'pair_response'), 0)::bigint,
           coalesce(sum(n) FILTER (WHERE measure = 'pair_req_in_time'), 0)::bigint,
           coalesce(sum(n) FILTER (WHERE measure = 'pair_req_late'), 0)::bigint,
           coalesce(sum(n) FILTER (WHERE measure = 'pair_req_open'
                                   AND split_part(key, ':', 3) < %(today)s), 0)::bigint,
           coalesce(sum(n) FILTER (WHERE measure = 'pair_req_open'
                                   AND split_part(key, ':', 3) >= %(today)s), 0)::bigint,
           coalesce(sum(n) FILTER (WHERE measure = 'pair_answer'), 0)::bigint,
           coalesce(sum(seconds) FILTER (WHERE measure = 'pair_answer'), 0)::bigint
    FROM (
        SELECT measure, key, n, seconds {_ROWS} {_SPANS}
        AND measure = ANY(%(pair_totals)s) {{keys}}
      UNION ALL
        {{open}}
    ) AS x
    GROUP BY 1, 2
"""  # noqa: S608 (constant fragments; the values are parameters)
_OPEN_REQUESTS = f"SELECT measure, key, n, seconds {_ROWS} {_SPANS} AND measure = 'pair_req_open'"
#: The open requests of some pairs (keyed "reporting:organisation:due date"): each pair's keys are one
#: range of the unique index, as the keys are in the "C" collation (``FollowUpCells.key``). ``OFFSET 0``
#: keeps the subquery one index range scan per pair (flattened, the planner underestimates a year's open
#: requests and reads them all once to scan them again for every pair: 9,774 rows × 30 in a dense year).
_OPEN_OF_PAIRS = f"""
    SELECT o.* FROM unnest(%(pair_keys)s::text[]) AS p(pair) CROSS JOIN LATERAL (
        {_OPEN_REQUESTS} AND key COLLATE "C" > p.pair || ':' AND key COLLATE "C" < p.pair || ';' OFFSET 0
    ) AS o
"""  # noqa: S608 (constant fragments; the values are parameters)


def _place_condition(scope: Scope, params: dict) -> str:
    """The scope as equality conditions on the place rows, so that each place is one range of the
    unique index: a list of municipalities (every one, unless the scope names one) and of councils."""
    if scope.kind == Scope.MUNICIPALITY:
        params["scope_municipalities"] = [scope.municipality.pk]
        municipalities = "%(scope_municipalities)s"
    else:
        municipalities = f"ARRAY(SELECT id FROM {Municipality._meta.db_table})"  # noqa: S608
    councils = {scope.council.pk} if scope.council is not None else None
    if scope.council_ids is not None:
        councils = set(scope.council_ids) if councils is None else councils & set(scope.council_ids)
    if councils is None:
        councils_sql = f"ARRAY(SELECT id FROM {Council._meta.db_table}) || {summary.COUNTY}"  # noqa: S608
    else:
        params["scope_councils"] = sorted(councils)
        councils_sql = "%(scope_councils)s"
    return f"municipality_pk = ANY({municipalities}) AND council_pk = ANY({councils_sql})"


def _places_with_reports(places: str) -> str:
    """``places`` narrowed to the municipalities and councils that have reports in the period (from the
    ``total`` rows, once per statement): every other measure is then read from a few places, not from
    every municipality the scope allows (each listed value is one more descent of the index per
    measure)."""
    found = f"{_SELECTION.replace('{places}', places)} {_SPANS} AND measure = 'total'"
    return (
        f"municipality_pk = ANY(ARRAY(SELECT DISTINCT municipality_pk {found})) "
        f"AND council_pk = ANY(ARRAY(SELECT DISTINCT council_pk {found}))"
    )


def read_summary(
    *,
    agreement: Agreement,
    period: Period,
    scope: Scope,
    basis: str,
    today: datetime.date,
    detail: bool = True,
    source: str | None = None,
) -> Tally:
    """The summary rows of an agreement, period, scope and date basis, added up in the database: the
    period's whole years, quarters and months from ``FollowUpSummary`` and the changes pending for it
    (``deviations.summary.SOURCE``; one statement for the measures,
    the reports per place and the trend's month rows, one for the organisation pairs), the parts of
    months a custom period covers straight from the reports (``deviations.summary.live_rows``). The
    county reads its own rows (and the places' report counts); other scopes read their places' rows.
    Without ``detail`` (the previous period of a comparison) only ``COMPARED_MEASURES``: no trend, no
    pairs. ``source``: what to read the summary from, when an earlier read of the same agreement and
    basis found it (``Tally.source``); else one statement asks (``deviations.summary.source_for``)."""
    if basis not in (DateBasis.REPORTED, DateBasis.OCCURRED):
        raise ValueError(f"unknown date basis {basis!r}")
    tally = Tally(today=today)
    spans, partial = _spans(period)
    # The pairs are ranked in the database unless parts of months add live counts to them: then every
    # pair's reports are read (``PAIR_COUNTS``, added up as ``pair``) and ranked here.
    rank = detail and not partial
    if spans:
        params = {
            "agreement": agreement.pk,
            "basis": basis,
            "spans": sorted(spans),
            "starts": sorted({first for firsts in spans.values() for first in firsts}),
            "years": spans.get(12, []),
            "quarters": spans.get(3, []),
            "whole_months": spans.get(1, []),
            "trend": [m for m in period.months() if m >= period.start and _month_end(m) <= period.end],
            "monthly": list(MONTHLY_MEASURES),
            "measures": [
                *(MEASURES if detail else COMPARED_MEASURES),
                *(PAIR_COUNTS if detail and partial else ()),
            ],
            "pair_limit": TOP_PAIRS,
            "pair_totals": [m for m in PAIR_MEASURES if m != "pair_req_open"],
            "due_measures": list(DUE_MEASURES),
            "today": today.isoformat(),
        }
        places = _place_condition(scope, params)
        rows = f"municipality_pk = {summary.COUNTY} AND council_pk = {summary.COUNTY}"
        if not scope.is_whole_county:
            rows = _places_with_reports(places)
        using = summary.reading_connection()
        if source is None:
            source = summary.source_for(agreement_pk=agreement.pk, basis=basis, using=using)
        tally.source = source
        with using.cursor() as cursor:
            sql = _TOTALS_SQL + (_TREND_SQL if detail else "") + (_RANK_SQL if rank else "")
            sql = sql.replace("{rows}", rows).replace("{places}", places).replace("{source}", source)
            cursor.execute(sql, params)
            totals, months, per_place = tally.totals, tally.months, tally.places
            if rank:
                tally.ranked_pairs = []
            for part, measure, key, month, council_pk, municipality_pk, n, seconds in cursor.fetchall():
                if part == "t" and measure in PAIR_COUNTS:
                    tally.add_pair_count(key, n)
                elif part == "t":
                    totals.setdefault(measure, {})[key] = [n, seconds]
                elif part == "p":
                    per_place[(council_pk, municipality_pk)] = n
                elif part == "m":
                    months[(month, measure, key)] = n
                else:  # "r": a ranked pair, its place in the ranking, the number of all pairs
                    tally.ranked_pairs.append((seconds, *_pair_of(key), n))
                    tally.pair_count = municipality_pk
            if rank:
                tally.ranked_pairs = [pair for _place, *pair in sorted(tally.ranked_pairs)]
        if detail:
            tally.stored = (rows, params)
    for start, end in partial:
        live = summary.live_rows(agreement_pk=agreement.pk, basis=basis, start=start, end=end)
        for (_agr, _basis, month, council_pk, municipality_pk, measure, key), (n, seconds) in live.items():
            if scope.matches(council_pk, municipality_pk) and (detail or measure in COMPARED_MEASURES):
                tally.add(month, council_pk, municipality_pk, measure, key, n, seconds)
    return tally


# --- Percentiles from the duration histograms ----------------------------------------------------------


def percentile_cont(histogram: dict[int, int], p: float) -> float | None:
    """PostgreSQL's ``PERCENTILE_CONT(p)`` over the values of ``histogram`` (value → how many):
    linear interpolation between the two values around position ``p × (N − 1)``."""
    if not 0 <= p <= 1:
        raise ValueError("percentile must be within [0, 1]")
    total = sum(histogram.values())
    if not total:
        return None
    position = p * (total - 1)
    below, above = math.floor(position), math.ceil(position)
    low = high = None
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if low is None and seen > below:
            low = value
        if seen > above:
            high = value
            break
    return low + (position - below) * (high - low)


def _durations(tally: Tally) -> dict:
    """Count, median and 90th percentile in days of each duration measure (histograms in tenths of a
    day, ``deviations.summary``)."""
    durations = {}
    for key in DURATIONS:
        histogram = {int(tenths): n for tenths, (n, _seconds) in tally.keys(key).items()}
        median, p90 = percentile_cont(histogram, 0.5), percentile_cont(histogram, 0.9)
        durations[key] = {
            "count": sum(histogram.values()),
            "median_days": None if median is None else round(median / 10, 1),
            "p90_days": None if p90 is None else round(p90 / 10, 1),
        }
    return durations


#: Durations shown: submitted → first action, submitted → closed, request → the counterpart's answer.
DURATIONS = ("response", "closure", "answer")


def _mean_days(n: int, seconds: int) -> float | None:
    return round(seconds / n / 86400, 1) if n else None


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
    by_principal_pair: list = field(default_factory=list)
    by_severity: list = field(default_factory=list)
    by_factor: list = field(default_factory=list)
    factor_tagged: int = 0
    by_council: list = field(default_factory=list)
    by_municipality: list = field(default_factory=list)
    commitments: list = field(default_factory=list)
    durations: dict = field(default_factory=dict)
    responses: dict = field(default_factory=dict)
    handling: dict = field(default_factory=dict)
    previous: "FollowUpStatistics | None" = None
    comparison: list = field(default_factory=list)
    extracted_at: datetime.datetime | None = None
    tally: Tally | None = None
    pairs: "_Pairs | None" = None
    #: Names the systemic issues when asked for (``_details``).
    names: "_Names | None" = None

    # Organisation pairs (there can be thousands county-wide): built when asked for, the page's and the
    # PDF's only for the most frequent.

    @cached_property
    def by_organization_pair(self) -> list[dict]:
        """Reporting → counterpart pairs, most reports first: count and share (masked)."""
        return self.pairs.rows() if self.pairs else []

    @cached_property
    def pair_times(self) -> list[dict]:
        """``by_organization_pair``'s pairs with their times and response requests (``_Pairs.times``)."""
        return self.pairs.times() if self.pairs else []

    @cached_property
    def top_organization_pairs(self) -> list[dict]:
        """The most frequent pairs shown on the page and in the PDF; the exports hold them all."""
        return self.pairs.rows(TOP_PAIRS) if self.pairs else []

    @cached_property
    def top_pair_times(self) -> list[dict]:
        return self.pairs.times(TOP_PAIRS) if self.pairs else []

    @property
    def organization_pairs_left_out(self) -> int:
        return max(self.pairs.count - TOP_PAIRS, 0) if self.pairs else 0

    @cached_property
    def systemic_issues(self) -> list[SystemicIssue]:
        """Every systemic issue with reports of the selection linked to it, most linked first (``linked``),
        with its decided actions (the exports)."""
        return self.names.systemic_issues() if self.names else []

    @cached_property
    def top_systemic_issues(self) -> list[SystemicIssue]:
        """The ``TOP_SYSTEMIC_ISSUES`` issues with most linked reports (among equals the oldest), in
        ``systemic_issues``' order: the page and the PDF. Only theirs are read."""
        return self.names.systemic_issues(TOP_SYSTEMIC_ISSUES) if self.names else []

    @property
    def systemic_issues_left_out(self) -> int:
        linked = len(self.tally.keys("systemic")) if self.tally and self.names else 0
        return max(linked - TOP_SYSTEMIC_ISSUES, 0)

    @property
    def basis_label(self) -> str:
        return str(dict(DateBasis.CHOICES)[self.basis])

    @property
    def proposed_hindering_factors(self) -> list[dict]:
        """The main factors tagged on at least ``PROPOSAL_MIN_REPORTS`` reports, most frequent first, each
        with its most frequent sub-factor: what the system proposes as hindering factors."""
        return [row for row in self.by_factor if row["count"] >= PROPOSAL_MIN_REPORTS][:PROPOSAL_MAX]


#: A main factor is proposed as hindering when this many reports name it; at most this many are proposed.
PROPOSAL_MIN_REPORTS = 2
PROPOSAL_MAX = 6

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
    compare: bool = True,
    detail: bool = True,
    source: str | None = None,
) -> FollowUpStatistics:
    """Every figure of the follow-up of one agreement, period and scope, from the summary
    (``deviations.summary``): the number of queries and rows read depend on the period's spans, the
    places and the keys, not on the number of reports. With ``compare``, also the previous period of
    the same length (``stats.previous``) and the comparison of the main figures (``stats.comparison``).
    Without
    ``detail`` (the previous period) only the figures the comparison needs, without looking up names.
    ``source``: what to read the summary from, when known (``read_summary``).

    ``masked``: outside the regional level, organisation-pair cells below ``SMALL_NUMBER_THRESHOLD``
    are replaced by ``SMALL_NUMBER_LABEL`` (count, share and times). The breakdown per council and
    municipality is always masked so (it names places where a single case could be recognised).
    """
    today = today or timezone.localdate()
    stats = FollowUpStatistics(
        agreement=agreement,
        period=period,
        scope=scope,
        basis=basis,
        masked=masked,
        today=today,
        extracted_at=timezone.now(),
    )
    tally = stats.tally = read_summary(
        agreement=agreement,
        period=period,
        scope=scope,
        basis=basis,
        today=today,
        detail=detail,
        source=source,
    )
    total = stats.total = tally.n("total")
    names = _Names(tally, agreement=agreement, period=period)

    statuses = tally.keys("status")
    summary_row = {
        "total": total,
        "open": sum(n for status, (n, _s) in statuses.items() if status in OPEN_STATES),
        "closed": tally.n("status", Status.CLOSED),
        "rejected": tally.n("status", Status.REJECTED),
        "overdue": tally.n("open_due", OVERDUE),
        "sip": tally.n("sip", "yes"),
        "discharge": tally.n("discharge", "yes"),
        "escalated": tally.n("escalated"),
        "local_only": tally.n("local_only"),
        "severe": sum(tally.n("severity", grade) for grade in summary.SEVERE),
    }
    stats.summary = {
        **summary_row,
        "open_share": _share(summary_row["open"], total),
        "overdue_share": _share(summary_row["overdue"], total),
        "sip_share": _share(summary_row["sip"], total),
        "discharge_share": _share(summary_row["discharge"], total),
        "severe_share": _share(summary_row["severe"], total),
    }
    handled = summary_row["escalated"] + summary_row["local_only"]
    stats.handling = {
        "resolved_locally": summary_row["local_only"],
        "escalated": summary_row["escalated"],
        "handled": handled,
        "resolved_locally_share": _share(summary_row["local_only"], handled),
        "escalated_share": _share(summary_row["escalated"], handled),
    }
    stats.commitments = names.commitment_results(total, detail=detail)
    stats.by_council, stats.by_municipality = names.place_rows(total, detail=detail)
    stats.durations = _durations(tally)
    _responses(stats, tally)
    if detail:
        _details(stats, tally, names, total)
    if compare:
        stats.previous = followup_statistics(
            agreement=agreement,
            period=period.previous(),
            scope=scope,
            basis=basis,
            masked=masked,
            today=today,
            compare=False,
            detail=False,
            source=tally.source,  # the same agreement and basis: whether changes are pending is known
        )
        _compare(stats, stats.previous)
    return stats


def _details(stats: FollowUpStatistics, tally: Tally, names: "_Names", total: int) -> None:
    """What only the period itself shows: names of categories, pairs, factors, systemic issues."""
    masked, period = stats.masked, stats.period
    stats.by_category = names.category_rows(total)
    stats.by_commitment = names.commitment_rows(total)
    per_month = {month: n for (month, measure, _key), n in tally.months.items() if measure == "total"}
    stats.by_month = [
        {
            "month": month,
            "label": month.strftime("%Y-%m"),
            "count": per_month.get(month, 0),
            "share": _share(per_month.get(month, 0), total),
        }
        for month in period.months()
    ]

    stats.pairs = _Pairs(tally, masked=masked, total=total)
    principal = {key: n for key, (n, _s) in tally.keys("principal").items()}
    stats.by_principal_pair = [
        {
            "key": key,
            "label": str(label),
            "count": principal.get(key, 0),
            "share": _share(principal.get(key, 0), total),
        }
        for key, label in PRINCIPAL_PAIRS
        if key in principal or key != "region_region"
    ]
    stats.by_severity = [
        {
            "key": grade,
            "label": str(label),
            "count": tally.n("severity", grade),
            "share": _share(tally.n("severity", grade), total),
        }
        for grade, label in [*Severity.choices, ("", _("Ej angiven"))]
    ]
    stats.factor_tagged = tally.n("factor_tagged")
    stats.by_factor = names.factor_rows(stats.factor_tagged)
    stats.names = names


def _responses(stats: FollowUpStatistics, tally: Tally) -> None:
    """Response requests (yttranden) answered in time. Requests not yet due and unanswered are pending
    and left out of the share; answered on the due date (Swedish date) counts as in time."""
    responses = {
        "in_time": tally.n("req_in_time"),
        "late": tally.n("req_late"),
        "overdue": tally.n("req_open", OVERDUE),
        "pending": tally.n("req_open", PENDING),
    }
    responses["total"] = sum(responses.values())
    responses["decided"] = responses["total"] - responses["pending"]
    responses["in_time_share"] = _share(responses["in_time"], responses["decided"])
    stats.responses = {
        key: responses[key]
        for key in ("total", "in_time", "late", "overdue", "pending", "decided", "in_time_share")
    }


def _change(current, previous) -> dict:
    if current is None or previous is None:
        return {"change": None, "change_pct": None}
    change = round(current - previous, 1)
    return {
        "change": change,
        "change_pct": round(100 * change / previous, 1) if isinstance(previous, int) and previous else None,
    }


def _compare(stats: FollowUpStatistics, previous: FollowUpStatistics) -> None:
    """The main figures side by side with the previous period, and the change; per commitment and per
    place too."""
    rows = [
        (_("Antal rapporter"), "count", stats.total, previous.total),
        (_("Andel som gällde SIP (%)"), "share", stats.summary["sip_share"], previous.summary["sip_share"]),
        (
            _("Andel som gällde utskrivning från slutenvård (%)"),
            "share",
            stats.summary["discharge_share"],
            previous.summary["discharge_share"],
        ),
        (
            _("Andel med allvarlig eller mycket allvarlig följd (%)"),
            "share",
            stats.summary["severe_share"],
            previous.summary["severe_share"],
        ),
        (
            _("Andel eskalerade av de hanterade (%)"),
            "share",
            stats.handling["escalated_share"],
            previous.handling["escalated_share"],
        ),
        (
            _("Andel yttranden besvarade i tid (%)"),
            "share",
            stats.responses["in_time_share"],
            previous.responses["in_time_share"],
        ),
    ]
    for key, label in (
        ("response", _("Tid till första åtgärd")),
        ("closure", _("Tid till avslut")),
        ("answer", _("Tid till motpartens yttrande")),
    ):
        for name, title in (("median_days", _("median")), ("p90_days", _("90:e percentil"))):
            rows.append(
                (
                    _("%(measure)s, %(statistic)s (dagar)") % {"measure": label, "statistic": title},
                    "days",
                    stats.durations[key][name],
                    previous.durations[key][name],
                )
            )
    stats.comparison = [
        {"label": label, "unit": unit, "current": current, "previous": before, **_change(current, before)}
        for label, unit, current, before in rows
    ]
    before = {row["key"]: row for row in previous.commitments}
    for row in stats.commitments:
        row["previous"] = before.get(row["key"], {}).get("count", 0)
        row.update(_change(row["count"], row["previous"]))
    for rows, previous_rows in (
        (stats.by_council, previous.by_council),
        (stats.by_municipality, previous.by_municipality),
    ):
        before = {row["key"]: row["count"] for row in previous_rows}
        for row in rows:
            row["previous"] = before.get(row["key"], 0)
            row["previous_display"] = _masked_count(row["previous"])
            row.update(_change(row["count"], row["previous"]))
            if row["masked"] or 0 < row["previous"] < SMALL_NUMBER_THRESHOLD:
                row["change"] = row["change_pct"] = None


def _masked_count(count: int):
    return SMALL_NUMBER_LABEL if 0 < count < SMALL_NUMBER_THRESHOLD else count


def _maybe_masked(row: dict, masked: bool) -> dict:
    row["masked"] = masked and row["count"] < SMALL_NUMBER_THRESHOLD
    row["count_display"] = SMALL_NUMBER_LABEL if row["masked"] else row["count"]
    row["share_display"] = SMALL_NUMBER_LABEL if row["masked"] else row["share"]
    return row


class _Pairs:
    """Reporting → counterpart organisation pairs of a selection: reports per pair from the summary's
    ``PAIR_COUNTS`` rows, and the pair measures (times, response requests) read for the pairs asked for. A
    report with several counterparts counts once per pair, so the shares can add up to more than 100 %."""

    def __init__(self, tally: Tally, *, masked: bool, total: int):
        self.tally = tally
        self.masked = masked
        self.total = total
        self.names: dict[int, str] = {}

    def _names(self, pairs: list[tuple[int, int, int]]) -> dict[int, str]:
        """The names of ``pairs``' organisations (one query for those not named yet)."""
        missing = {pk for rep, cp, _n in pairs for pk in (rep, cp)} - self.names.keys()
        if missing:
            self.names.update(Organization.objects.filter(pk__in=missing).values_list("pk", "name"))
        return self.names

    @cached_property
    def count(self) -> int:
        """How many pairs the selection has."""
        return len(self.order) if self.tally.ranked_pairs is None else self.tally.pair_count

    @cached_property
    def order(self) -> list[tuple[int, int, int]]:
        """Every pair as (reporting id, counterpart id, reports), most reports first, then by names: as
        the database ranked them (``Tally.every_ranked_pair``) or, with live counts, sorted here."""
        if self.tally.ranked_pairs is not None:
            return self.tally.every_ranked_pair()
        pairs = [(*_pair_of(key), n) for key, (n, _s) in self.tally.keys("pair").items() if n]
        names = self._names(pairs)
        return sorted(pairs, key=lambda pair: (-pair[2], names[pair[0]], names[pair[1]], pair[0], pair[1]))

    def first(self, limit: int | None) -> list[tuple[int, int, int]]:
        """The first ``limit`` pairs (all if None): the database's ``TOP_PAIRS`` without another read."""
        ranked = self.tally.ranked_pairs
        if ranked is not None and limit is not None and limit <= TOP_PAIRS:
            return ranked[:limit]
        return self.order[:limit]

    def _rows(self, limit: int | None) -> list[dict]:
        pairs = self.first(limit)
        names = self._names(pairs)
        return [
            {
                "reporting_pk": rep,
                "counterpart_pk": cp,
                "reporting": names[rep],
                "counterpart": names[cp],
                "label": f"{names[rep]} → {names[cp]}",
                "count": n,
            }
            for rep, cp, n in pairs
        ]

    def rows(self, limit: int | None = None) -> list[dict]:
        """The first ``limit`` pairs (all if None) with their share, masked below the threshold."""
        return [
            _maybe_masked({**row, "share": _share(row["count"], self.total)}, self.masked)
            for row in self._rows(limit)
        ]

    def times(self, limit: int | None = None) -> list[dict]:
        """The first ``limit`` pairs (all if None): reports, mean days to first action, requests for a
        response to the counterpart, mean days to its answer and the share answered in time (of those
        answered or past due). Masked like the pairs."""
        shown = self._rows(limit)
        details = self.tally.pair_details(
            None if limit is None else [(row["reporting_pk"], row["counterpart_pk"]) for row in shown]
        )
        rows = []
        empty = PairTally()
        for row in shown:
            pair = details.get((row["reporting_pk"], row["counterpart_pk"]), empty)
            decided = pair.in_time + pair.late + pair.overdue
            hidden = self.masked and row["count"] < SMALL_NUMBER_THRESHOLD
            rows.append(
                {
                    **row,
                    "masked": hidden,
                    "count_display": SMALL_NUMBER_LABEL if hidden else row["count"],
                    "first_action_days": None if hidden else _mean_days(pair.first_n, pair.first_seconds),
                    "requests": None if hidden else decided + pair.pending,
                    "answer_days": None if hidden else _mean_days(pair.answer_n, pair.answer_seconds),
                    "in_time_share": None if hidden else _share(pair.in_time, decided),
                }
            )
        return rows


class _Names:
    """Names for the ids in the summary keys, one query per table that has keys in the selection."""

    def __init__(self, tally: Tally, *, agreement: Agreement, period: Period):
        self.tally = tally
        self.agreement = agreement
        self.period = period

    def category_rows(self, total: int) -> list[dict]:
        """Most reports first; ties by name, as an ORDER BY name would."""
        counts = {int(key): n for key, (n, _s) in self.tally.keys("category").items()}
        by_name: dict[str, int] = {}
        if counts:
            for pk, name in (
                DeviationCategory.objects.filter(pk__in=counts).order_by("name").values_list("pk", "name")
            ):
                by_name[name] = by_name.get(name, 0) + counts[pk]
        return _rows(sorted(by_name.items(), key=lambda item: -item[1]), total)

    @cached_property
    def _commitments(self) -> list[Commitment]:
        """The agreement's commitments, and any other a report of the selection names (one query)."""
        keys = {int(key) for key in self.tally.keys("commitment") if key}
        return list(
            Commitment.objects.filter(Q(agreement=self.agreement) | Q(pk__in=keys)).order_by(
                "number", "title"
            )
        )

    def commitment_rows(self, total: int) -> list[dict]:
        """By commitment, most reports first (ties by number); reports without one last among equals."""
        counts = self.tally.keys("commitment")
        pairs = [(str(c), counts[str(c.pk)][0]) for c in self._commitments if str(c.pk) in counts]
        if "" in counts:
            pairs.append((_("Inget åtagande angivet"), counts[""][0]))
        return _rows(sorted(pairs, key=lambda item: -item[1]), total)

    def commitment_results(self, total: int, *, detail: bool = True) -> list[dict]:
        """One row per commitment of the agreement (active, or with reports in the period), in number
        order, then reports without a commitment: count, share, the month series, reports with a serious
        consequence and the main factors named most. Without ``detail``: ``key`` and ``count`` only."""
        tally = self.tally
        counts = tally.keys("commitment")
        if not detail:
            return [{"key": key, "count": n} for key, (n, _s) in counts.items()]
        severe = {key: n for key, (n, _s) in tally.keys("commitment_severe").items()}
        factors: dict[str, list] = {}
        for key, (n, _s) in tally.keys("commitment_factor").items():
            commitment_key, _sep, main = key.rpartition(":")
            factors.setdefault(commitment_key, []).append((int(main), n))
        mains = self._factor_names({main for pairs in factors.values() for main, _n in pairs})
        shown = [
            c
            for c in self._commitments
            if (c.active and c.agreement_id == self.agreement.pk) or str(c.pk) in counts
        ]
        rows = []
        for commitment in [*shown, None]:
            key = "" if commitment is None else str(commitment.pk)
            count = counts.get(key, (0, 0))[0]
            if commitment is None and not count:
                continue
            months = {
                month: n
                for (month, measure, k), n in tally.months.items()
                if measure == "commitment" and k == key
            }
            top = sorted(factors.get(key, []), key=lambda item: (-item[1], mains.get(item[0], "")))[:3]
            rows.append(
                {
                    "key": key,
                    "commitment": commitment,
                    "label": str(commitment) if commitment else _("Inget åtagande angivet"),
                    "count": count,
                    "share": _share(count, total),
                    "severe": severe.get(key, 0),
                    "months": [months.get(month, 0) for month in self.period.months()],
                    "factors": [{"label": mains.get(main, "?"), "count": n} for main, n in top],
                }
            )
        return rows

    def _factor_names(self, ids) -> dict[int, str]:
        return dict(ContributingFactor.objects.filter(pk__in=ids).values_list("pk", "name")) if ids else {}

    def factor_rows(self, tagged: int) -> list[dict]:
        """Main factors (reports naming the factor or one of its sub-factors, share of the reports with
        any factor), most frequent first, each with its sub-factors as ``children``."""
        groups = {int(key): n for key, (n, _s) in self.tally.keys("factor_group").items()}
        tags = {int(key): n for key, (n, _s) in self.tally.keys("factor").items()}
        if not groups:
            return []
        factors = {f.pk: f for f in ContributingFactor.objects.filter(Q(pk__in=groups) | Q(pk__in=tags))}
        rows = []
        for pk, n in groups.items():
            main = factors[pk]
            children = sorted(
                (
                    {"label": factors[child].name, "count": count, "share": _share(count, tagged)}
                    for child, count in tags.items()
                    if factors[child].parent_id == pk
                ),
                key=lambda row: (-row["count"], row["label"]),
            )
            rows.append(
                {
                    "label": main.name,
                    "count": n,
                    "share": _share(n, tagged),
                    "general": tags.get(pk, 0),  # tagged with the main factor itself
                    "children": children,
                    "order": main.order,
                }
            )
        return sorted(rows, key=lambda row: (-row["count"], row["order"], row["label"]))

    def place_rows(self, total: int, *, detail: bool = True) -> tuple[list[dict], list[dict]]:
        """Reports per council and per municipality, most first, masked below the threshold. Without
        ``detail``: ``key`` and ``count`` only."""
        per_council: dict[int, int] = {}
        per_municipality: dict[int, int] = {}
        for (council_pk, municipality_pk), n in self.tally.places.items():
            per_council[council_pk] = per_council.get(council_pk, 0) + n
            per_municipality[municipality_pk] = per_municipality.get(municipality_pk, 0) + n
        if not detail:
            return (
                [{"key": pk, "count": n} for pk, n in per_council.items()],
                [{"key": pk, "count": n} for pk, n in per_municipality.items()],
            )
        councils = (
            dict(Council.objects.filter(pk__in=per_council).values_list("pk", "name")) if per_council else {}
        )
        municipalities = (
            dict(Municipality.objects.filter(pk__in=per_municipality).values_list("pk", "name"))
            if per_municipality
            else {}
        )

        def rows(counts, labels, missing):
            out = [
                _maybe_masked(
                    {"key": pk, "label": labels.get(pk, missing), "count": n, "share": _share(n, total)}, True
                )
                for pk, n in counts.items()
            ]
            return sorted(out, key=lambda row: (-row["count"], row["label"]))

        return (
            rows(per_council, councils, _("Utan samråd")),
            rows(per_municipality, municipalities, "?"),
        )

    def systemic_issues(self, limit: int | None = None) -> list[SystemicIssue]:
        """Systemic issues with reports of the selection linked to them (``linked``), most linked first
        (ties by title), with their decided actions and owners prefetched: all, or the ``limit`` with
        most linked reports (among equals the oldest, lowest id)."""
        linked = {int(key): n for key, (n, _s) in self.tally.keys("systemic").items()}
        if not linked:
            return []
        chosen = linked if limit is None else sorted(linked, key=lambda pk: (-linked[pk], pk))[:limit]
        # Only what the document and the exports show (a whole issue, action and organisation row cost
        # twice the instances' Python).
        actions = (
            SystemicAction.objects.select_related("owner")
            .only("issue_id", "description", "due_on", "state", "owner__name")
            .order_by("due_on", "pk")
        )
        issues = list(
            SystemicIssue.objects.filter(pk__in=chosen)
            .only("title", "state")
            .prefetch_related(Prefetch("actions", queryset=actions))
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


def analysis_versions(*, agreement: Agreement, period: Period, scope: Scope) -> list[FollowUpAnalysis]:
    """Every version of the written analysis of an agreement, period and scope, newest first. A scope
    sees only its own analysis: a council's document never shows the county's, nor the county's a
    council's."""
    return list(
        FollowUpAnalysis.objects.filter(
            agreement=agreement, period_start=period.start, period_end=period.end, **scope.analysis_key
        )
        .select_related("author", "council", "municipality")
        .order_by("-created_at", "-pk")
    )
