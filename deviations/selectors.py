"""Reads: who may see which reports, and in what role. Every view that shows reports starts here."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.db.models.functions import Lower

from agreements.models import EmailDomain
from councils.models import Council, CouncilMembership

from .models import Deviation, DeviationEvent, ResponseRequest
from .workflow import REGIONAL_STATES, Role, Status


def _asked_deviation_ids(user):
    """Reports the user's organisation is currently asked to respond to (a subquery)."""
    return ResponseRequest.objects.open().filter(organization_id=user.organization_id).values("deviation_id")


COORDINATOR_ROLES = frozenset({CouncilMembership.Role.COORDINATOR, CouncilMembership.Role.CHAIR})


@dataclass(frozen=True)
class Membership:
    council_id: int
    regional: bool
    role: str

    @property
    def is_coordinator(self) -> bool:
        return self.role in COORDINATOR_ROLES


def active_memberships(user) -> tuple[Membership, ...]:
    """The user's memberships in active councils, read once per user object. ``request.user`` lives for
    one request, so a page that asks several selectors about the user's councils (queue scope, menu,
    visibility, roles) runs one query, and a change of membership shows on the next request."""
    if not user.is_authenticated:
        return ()
    cached = getattr(user, "_active_memberships", None)
    if cached is None:
        cached = tuple(
            Membership(council_id, level == Council.Level.REGIONAL, role)
            for council_id, level, role in CouncilMembership.objects.filter(
                user=user, council__active=True
            ).values_list("council_id", "council__level", "role")
        )
        user._active_memberships = cached
    return cached


def is_regional_coordinator(user) -> bool:
    return any(m.regional and m.is_coordinator for m in active_memberships(user))


def sees_whole_county(user) -> bool:
    """THE rule for the regional level: superusers and regional coordinators see every report of the
    county (queues, follow-up unmasked, meeting packs of every council) and handle systemic issues."""
    return user.is_authenticated and (user.is_superuser or is_regional_coordinator(user))


def local_council_ids(user) -> list[int]:
    """Ids of the active local councils the user is a member of (any role)."""
    return [m.council_id for m in active_memberships(user) if not m.regional]


def queue_scope(user) -> tuple[bool, list[int] | None]:
    """(is regional coordinator, ids of the active local councils the user is a member of); the list is
    None when the user has no work queue at all (no active council)."""
    if user.is_superuser:
        return is_regional_coordinator(user), []
    if not active_memberships(user):
        return False, None
    return is_regional_coordinator(user), local_council_ids(user)


def roles_for(user, deviation: Deviation) -> set[Role]:
    """The roles ``user`` has towards one report (empty: no business with it)."""
    roles: set[Role] = set()
    if not user or not user.is_authenticated:
        return roles
    if deviation.reporter_id == user.pk:
        roles.add(Role.REPORTER)
    for membership in active_memberships(user):
        if membership.regional:
            if membership.is_coordinator:
                roles.add(Role.REGIONAL_COORDINATOR)
        elif membership.council_id == deviation.council_id:
            roles.add(Role.LOCAL_COORDINATOR if membership.is_coordinator else Role.LOCAL_MEMBER)
    asked = ResponseRequest.objects.open().filter(deviation=deviation, organization_id=user.organization_id)
    if user.organization_id and asked.exists():
        roles.add(Role.COUNTERPART)
    return roles


def deviations_visible_to(user) -> QuerySet[Deviation]:
    """Reports ``user`` may see in lists and detail pages. Unconfirmed reports are never shown."""
    qs = Deviation.objects.exclude(status=Status.UNCONFIRMED)
    if not user.is_authenticated:
        return qs.none()
    if sees_whole_county(user):
        return qs
    scope = Q(council__in=local_council_ids(user)) | Q(reporter=user)
    if user.organization_id:
        # Counterpart responders: only while their organisation is asked for a response.
        scope |= Q(pk__in=_asked_deviation_ids(user))
    return qs.filter(scope)


def deviations_handled_by(
    user, *, regional: bool | None = None, local_councils: list[int] | None = None
) -> QuerySet[Deviation]:
    """Reports in ``user``'s work queues (not those they merely reported). ``regional`` (whether the
    user is a regional coordinator) and ``local_councils`` (ids of the active local councils they are
    a member of): when the caller already knows them (saves queries)."""
    qs = Deviation.objects.exclude(status=Status.UNCONFIRMED)
    if not user.is_authenticated:
        return qs.none()
    if regional is None:
        regional = is_regional_coordinator(user)
    if user.is_superuser or regional:
        return qs
    if local_councils is None:
        local_councils = local_council_ids(user)
    return qs.filter(council__in=local_councils)


def assignable_users(deviation: Deviation):
    """Council members a report may be assigned to: members of its council and, for reports at
    regional level, the regional council's members."""
    from councils.models import User

    scope = Q(council_id=deviation.council_id)
    if deviation.status in REGIONAL_STATES:
        scope |= Q(council__level=Council.Level.REGIONAL)
    memberships = CouncilMembership.objects.filter(scope, council__active=True)
    return (
        User.objects.filter(is_active=True, pk__in=memberships.values("user_id"))
        .only("username", "first_name", "last_name")
        .order_by("first_name", "last_name", "username")
    )


def response_request_for_answer(pk: int) -> ResponseRequest | None:
    """The request an answer link points at, with what the answer form shows (None if there is none).
    Whether it still takes an answer is ``ResponseRequest.is_answerable``."""
    return (
        ResponseRequest.objects.select_related(
            "deviation__agreement", "deviation__category", "deviation__municipality", "organization"
        )
        .filter(pk=pk)
        .first()
    )


def open_requests_to_organization(organization_id: int) -> QuerySet[ResponseRequest]:
    """The open response requests to one organisation (a signed-in counterpart's list), due first."""
    return (
        ResponseRequest.objects.open()
        .filter(organization_id=organization_id)
        .exclude(deviation__status=Status.UNCONFIRMED)
        .select_related("deviation__agreement", "deviation__category", "deviation__council")
        .order_by("due_on", "pk")
    )


# --- Reporter journey ----------------------------------------------------------------------------


def email_domain_is_registered(email: str) -> bool:
    """Whether ``email`` is at a domain registered on an active organisation (case-insensitive)."""
    domain = email.rpartition("@")[2].strip().lower()
    if not domain:
        return False
    return (
        EmailDomain.objects.alias(domain_lower=Lower("domain"))
        .filter(domain_lower=domain, organization__active=True)
        .exists()
    )


def reports_of(user) -> QuerySet[Deviation]:
    """The signed-in reporter's own reports ("Mina rapporter"), newest first."""
    if not user.is_authenticated:
        return Deviation.objects.none()
    return (
        Deviation.objects.filter(reporter=user)
        .exclude(status=Status.UNCONFIRMED)
        .select_related("agreement", "category", "council")
        .order_by("-created_at", "-id")
    )


def deviation_for_status_link(key) -> Deviation | None:
    """The confirmed report a (verified) status link points to."""
    return (
        Deviation.objects.exclude(status=Status.UNCONFIRMED)
        .select_related("agreement", "category", "council")
        .filter(idempotency_key=key)
        .first()
    )


def reporter_visible_events(deviation: Deviation):
    """Events the reporter may read: feedback and reasons, never internal notes."""
    return deviation.events.filter(visibility=DeviationEvent.Visibility.REPORTER).order_by("created_at", "id")


# --- The triage queue ------------------------------------------------------------------------------

#: Sortable queue columns (URL key → model field). Anything else in ``?sort=`` is ignored.
QUEUE_SORTS = {
    "created": "created_at",
    "reference": "reference",
    "occurred": "occurred_on",
    "reported": "reported_on",
    "status": "status",
    # Search results (deviations/search.py annotates the rank); other lists fall back to "created".
    "relevance": "search_rank",
}
CURSOR_SALT = "deviations.queue-cursor"


#: The columns a queue row shows (and the keyset cursor needs): the report texts and the related rows'
#: other columns stay in the database.
QUEUE_ROW_FIELDS = (
    "reference",
    "status",
    "occurred_on",
    "reported_on",
    "created_at",
    "agreement__name",
    "agreement__short_name",
    "category__name",
    "council__name",
    "reporting_organization__name",
    "assigned_to__username",
    "assigned_to__first_name",
    "assigned_to__last_name",
)


def queue_queryset(queryset: QuerySet[Deviation], *, today) -> QuerySet[Deviation]:
    """Everything a queue row shows, fetched with the page: related names in one join; counterparts and
    the overdue response requests (``overdue_responses``) in one extra query each, for the page's rows
    only. (An overdue flag as a subquery of the page query made PostgreSQL hash every overdue request
    of the table on each page, since it plans for all matching rows before the LIMIT.)"""
    from django.db.models import Prefetch

    from agreements.models import Organization

    late = ResponseRequest.objects.overdue(today).only("pk", "deviation_id")
    return (
        queryset.select_related("agreement", "category", "council", "reporting_organization", "assigned_to")
        .only(*QUEUE_ROW_FIELDS)
        .prefetch_related(
            Prefetch("counterpart_organizations", queryset=Organization.objects.only("name")),
            Prefetch("response_requests", queryset=late, to_attr="overdue_responses"),
        )
    )


STATUS_COUNT_LIMIT = 1000


def status_counts(queryset: QuerySet[Deviation], *, limit: int | None = None) -> dict[str, int]:
    """Reports per status, each count capped at ``limit + 1`` (shown as "more than ``limit``").

    An exact GROUP BY over a million rows costs seconds on every queue request, far more than the
    page itself. Here every status is counted by a ``LIMIT``-ed subquery in one statement: each walks
    at most ``limit + 1`` entries of the status index, so the cost is bounded whatever the table's
    size and the filter."""
    from django.core.exceptions import EmptyResultSet
    from django.db import connections

    from .workflow import Status

    limit = STATUS_COUNT_LIMIT if limit is None else limit
    statuses = [value for value, _ in Status.choices if value != Status.UNCONFIRMED]
    # The subquery is compiled once, for a placeholder status, and repeated per status with only that
    # parameter changed (compiling nine querysets cost more than running the statement).
    placeholder = "status-count-placeholder"
    sub = queryset.filter(status=placeholder).order_by().values("pk")[: limit + 1]
    try:
        sql, sub_params = sub.query.sql_with_params()
    except EmptyResultSet:  # the filter can match nothing (e.g. an empty choice list)
        return {}
    position = list(sub_params).index(placeholder)
    parts, params = [], []
    for value in statuses:
        # ``sql`` is compiled by the ORM, values stay parameters: nothing user-supplied is interpolated.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted)")  # noqa: S608
        status_params = list(sub_params)
        status_params[position] = value
        params.extend(status_params)
    with connections[queryset.db].cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(parts)}", params)
        row = cursor.fetchone()
    return {value: n for value, n in zip(statuses, row, strict=True) if n}


class KeysetPage:
    """One page of a keyset-paginated list: no OFFSET and no COUNT(*), so deep pages cost the same as
    the first one. Cursors are signed so a tampered one is simply ignored."""

    def __init__(self, object_list, next_cursor, previous_cursor):
        self.object_list = object_list
        self.next_cursor = next_cursor
        self.previous_cursor = previous_cursor

    def __iter__(self):
        return iter(self.object_list)

    def __len__(self):
        return len(self.object_list)


def _encode_cursor(obj, field: str) -> str:
    from django.core import signing

    value = getattr(obj, field)
    return signing.dumps(
        [value.isoformat() if hasattr(value, "isoformat") else value, obj.pk], salt=CURSOR_SALT
    )


def _decode_cursor(cursor: str, field: str):
    from django.core import signing
    from django.core.exceptions import ValidationError

    try:
        value, pk = signing.loads(cursor, salt=CURSOR_SALT)
        if field == "search_rank":
            return float(value), pk
        model_field = Deviation._meta.get_field(field)
        if model_field.get_internal_type() == "DateTimeField":
            from django.utils.dateparse import parse_datetime

            value = parse_datetime(value)
        else:
            value = model_field.to_python(value)
        if value is None or not isinstance(pk, int):
            return None
        return value, pk
    except (signing.BadSignature, ValueError, TypeError, ValidationError):
        return None


def keyset_page(
    queryset: QuerySet[Deviation],
    *,
    sort: str = "-created",
    after: str | None = None,
    before: str | None = None,
    size: int = 25,
) -> KeysetPage:
    """A page of ``queryset`` ordered by a whitelisted column and the primary key."""
    descending = sort.startswith("-")
    field = QUEUE_SORTS.get(sort.lstrip("-"), "created_at")
    if field == "search_rank" and field not in queryset.query.annotations:
        field = "created_at"
    backwards = bool(before) and not after
    cursor = _decode_cursor(before if backwards else after, field) if (before or after) else None
    # Walking backwards flips the order; the rows are reversed again below.
    walk_descending = descending != backwards
    if cursor is not None:
        value, pk = cursor
        op = "lt" if walk_descending else "gt"
        # (field, pk) beyond the cursor. The redundant ``field <= value`` (``>=``) bounds the index scan,
        # so a deep page starts where the cursor points instead of filtering from the first row.
        queryset = queryset.filter(
            Q(**{f"{field}__{op}e": value}),
            Q(**{f"{field}__{op}": value}) | Q(**{f"pk__{op}": pk}),
        )
    prefix = "-" if walk_descending else ""
    from config.db import QUEUE_PLANNER_SETTINGS, planner_settings

    with planner_settings(QUEUE_PLANNER_SETTINGS, using=queryset.db):
        rows = list(queryset.order_by(f"{prefix}{field}", f"{prefix}pk")[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if backwards:
        rows.reverse()
        next_cursor = _encode_cursor(rows[-1], field) if rows and cursor else None
        previous_cursor = _encode_cursor(rows[0], field) if rows and more else None
    else:
        next_cursor = _encode_cursor(rows[-1], field) if rows and more else None
        previous_cursor = _encode_cursor(rows[0], field) if rows and cursor else None
    return KeysetPage(rows, next_cursor, previous_cursor)


# --- Similar reports -------------------------------------------------------------------------------

SIMILAR_WINDOW_DAYS = 180
SIMILAR_CANDIDATES = 100
SIMILAR_POOL_SIDE = 60


def _words(text: str) -> set[str]:
    import re

    return {w for w in re.findall(r"\w{4,}", (text or "").lower()) if not w.isdigit()}


def similar_deviations(deviation: Deviation, *, user, visible=None, limit: int = 5) -> list[Deviation]:
    """Reports that may concern the same problem, best first.

    Candidates come from index-friendly filters only (same agreement, or same category, within
    ``SIMILAR_WINDOW_DAYS`` of the occurrence) and at most ``SIMILAR_CANDIDATES`` of them are ranked:
    same agreement and category (3), same organisation pair (3), closeness in time (up to 2) and the
    text (full-text rank with the Swedish configuration).
    Each result carries ``similarity`` (the score) and ``similar_reasons``. ``visible``: the
    caller's ``deviations_visible_to(user)``, when it already has it (saves a query).
    """
    import datetime

    from django.db.models import Case, Exists, IntegerField, OuterRef, Value, When

    window = datetime.timedelta(days=SIMILAR_WINDOW_DAYS)
    counterpart_ids = [o.pk for o in deviation.counterpart_organizations.all()]
    through = Deviation.counterpart_organizations.through
    shares_pair = Exists(
        through.objects.filter(deviation_id=OuterRef("pk"), organization_id__in=counterpart_ids)
    )
    # A bounded pool: for the same agreement and for the same category, the SIMILAR_POOL_SIDE reports
    # that occurred closest before and after this one within the window (four LIMIT-ed range scans of
    # the (agreement, occurred_on) and (category, occurred_on) indexes). Ranking (the text rank above
    # all) then costs the same whatever the size of the table.
    sides = []
    for key, value in (("agreement_id", deviation.agreement_id), ("category_id", deviation.category_id)):
        for lookup, edge, bound, order in (
            ("lte", "gte", deviation.occurred_on - window, "-occurred_on"),
            ("gte", "lte", deviation.occurred_on + window, "occurred_on"),
        ):
            sides.append(
                Deviation.objects.filter(
                    **{
                        key: value,
                        f"occurred_on__{lookup}": deviation.occurred_on,
                        f"occurred_on__{edge}": bound,
                    }
                )
                .order_by(order)
                .values_list("pk", flat=True)[:SIMILAR_POOL_SIDE]
            )
    # One subquery (a UNION ALL of the four scans): an OR of IN subqueries is planned as a full scan
    # with hashed subplans.
    pool = Q(pk__in=sides[0].union(*sides[1:], all=True))
    candidates = (
        (deviations_visible_to(user) if visible is None else visible)
        .exclude(pk=deviation.pk)
        .filter(pool)
        .annotate(
            same_kind=Case(
                When(agreement_id=deviation.agreement_id, category_id=deviation.category_id, then=Value(3)),
                default=Value(0),
                output_field=IntegerField(),
            ),
            same_pair=Case(
                When(
                    Q(reporting_organization_id=deviation.reporting_organization_id) & shares_pair,
                    then=Value(3),
                ),
                When(
                    Q(reporting_organization_id__in=counterpart_ids)
                    & Exists(
                        through.objects.filter(
                            deviation_id=OuterRef("pk"), organization_id=deviation.reporting_organization_id
                        )
                    ),
                    then=Value(3),
                ),
                default=Value(0),
                output_field=IntegerField(),
            ),
        )
    )
    return _similar_ranked_in_database(deviation, candidates, limit=limit)


def _similar_reasons(row, *, days: int, text: float) -> list[str]:
    reasons = []
    if row.same_kind:
        reasons.append("kind")
    if row.same_pair:
        reasons.append("pair")
    if days <= 30:
        reasons.append("time")
    if text >= 0.5:
        reasons.append("text")
    return reasons


def _similar_ranked_in_database(deviation: Deviation, candidates: QuerySet, *, limit: int) -> list[Deviation]:
    """The whole score (kind and pair, closeness in time, full-text rank of the stored Swedish search
    document) computed and sorted in the query, so only the ``limit`` best rows are fetched."""
    from django.contrib.postgres.search import SearchQuery, SearchRank
    from django.db.models import ExpressionWrapper, F, FloatField, Func, IntegerField, Value
    from django.db.models.functions import Least

    words = sorted(_words(deviation.description))[:40]
    if words:
        query = SearchQuery(" | ".join(words), config="swedish", search_type="raw")
        text = Least(SearchRank("search_document", query) * Value(20.0), Value(4.0))
    else:
        text = Value(0.0)
    days = Func(
        F("occurred_on"),
        Value(deviation.occurred_on),
        arg_joiner=" - ",
        template="ABS(%(expressions)s)",  # date - date is a number of days in PostgreSQL
        output_field=IntegerField(),
    )
    closeness = Value(2.0) * (Value(1.0) - F("days") / Value(float(SIMILAR_WINDOW_DAYS)))
    rows = list(
        candidates.annotate(
            days=days,
            text_score=ExpressionWrapper(text, output_field=FloatField()),
            similarity=ExpressionWrapper(
                F("same_kind") + F("same_pair") + closeness + F("text_score"), output_field=FloatField()
            ),
        )
        .select_related("category")
        .only("reference", "status", "occurred_on", "category__name")
        .order_by("-similarity", "-pk")[:limit]
    )
    for row in rows:
        row.similarity = round(row.similarity, 2)
        row.similar_reasons = _similar_reasons(row, days=row.days, text=row.text_score)
    return rows


# --- Systemic issues -------------------------------------------------------------------------------


def systemic_issues():
    """Systemic issues with their agreements and the number of linked reports (one query + prefetch)."""
    from django.db.models import Count

    from .models import SystemicIssue

    return SystemicIssue.objects.annotate(report_count=Count("deviations")).prefetch_related("agreements")


def reports_of_issue(issue, *, user, limit: int = 200):
    """Reports linked to an issue that ``user`` may see (bounded list, newest first)."""
    return (
        deviations_visible_to(user)
        .filter(systemic_issue=issue)
        .select_related("agreement", "category", "council")
        .order_by("-created_at", "-id")[:limit]
    )
