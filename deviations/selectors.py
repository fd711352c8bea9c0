"""Reads: who may see which reports, and in what role. Every view that shows reports starts here."""

from dataclasses import dataclass

from django.db.models import OuterRef, Q, QuerySet, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext_lazy

from agreements.models import ContributingFactor, EmailDomain, Organization
from config.compiled import CompiledRead
from councils.models import Council, CouncilMembership, User

from .fields import DigestedModelChoiceField
from .models import (
    REDACTABLE_FIELDS,
    Deviation,
    DeviationEvent,
    ResponseRequest,
    SavedFilter,
    redactable_field_label,
)
from .workflow import COORDINATORS, REGIONAL_STATES, Role, Status


def _asked_deviation_ids(organization_id: int):
    """Reports an organisation is currently asked to respond to (a subquery): its answerable requests."""
    return ResponseRequest.objects.answerable().filter(organization_id=organization_id).values("deviation_id")


COORDINATOR_ROLES = frozenset({CouncilMembership.Role.COORDINATOR, CouncilMembership.Role.CHAIR})


@dataclass(frozen=True)
class Membership:
    council_id: int
    regional: bool
    role: str
    council_name: str = ""

    @property
    def is_coordinator(self) -> bool:
        return self.role in COORDINATOR_ROLES


#: The user's memberships in active councils (``active_memberships``), compiled once per process: read
#: on every page of a signed-in user.
_ACTIVE_MEMBERSHIPS = CompiledRead(
    CouncilMembership,
    lambda user_id: (
        CouncilMembership.objects.filter(user_id=user_id, council__active=True)
        .order_by("council__name")
        .values_list("council_id", "council__level", "role", "council__name")
    ),
    int,
)


def active_memberships(user) -> tuple[Membership, ...]:
    """The user's memberships in active councils, read once per user object. ``request.user`` lives for
    one request, so a page that asks several selectors about the user's councils (queue scope, menu,
    visibility, roles) runs one query, and a change of membership shows on the next request."""
    if not user.is_authenticated:
        return ()
    cached = getattr(user, "_active_memberships", None)
    if cached is None:
        cached = tuple(
            Membership(council_id, level == Council.Level.REGIONAL, role, name)
            for council_id, level, role, name in _ACTIVE_MEMBERSHIPS.read(user.pk)
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
    if user.organization_id and _ASKED.read(deviation.pk, user.organization_id):
        roles.add(Role.COUNTERPART)
    return roles


#: Whether an organisation is asked for a response to a report (an open request), compiled once.
_ASKED = CompiledRead(
    ResponseRequest,
    lambda deviation_id, organization_id: (
        ResponseRequest.objects.answerable()
        .filter(deviation_id=deviation_id, organization_id=organization_id)
        .values_list("pk")[:1]
    ),
    int,
    int,
)


# --- The report page's reads of one report's rows, compiled once per process (each is on every report
# page; compiling them cost the ORM more Python than reading them).

_COUNTERPARTS = CompiledRead(
    Organization, lambda deviation_id: Organization.objects.filter(counterpart_deviations=deviation_id), int
)
_EVENTS = CompiledRead(
    DeviationEvent,
    lambda deviation_id: (
        DeviationEvent.objects.filter(deviation_id=deviation_id)
        .select_related("actor", "from_council", "to_council", "from_assignee", "to_assignee")
        .order_by("created_at", "id")
    ),
    int,
)
_RESPONSE_REQUESTS = CompiledRead(
    ResponseRequest,
    lambda deviation_id: (
        ResponseRequest.objects.filter(deviation_id=deviation_id)
        .select_related("organization", "requested_by")
        .order_by("requested_at", "pk")
    ),
    int,
)


def _duplicates(deviation_id):
    return Deviation.objects.filter(duplicate_of_id=deviation_id).only("reference", "status")[:20]


_DUPLICATES = CompiledRead(Deviation, _duplicates, int)


def report_counterparts(deviation: Deviation) -> list[Organization]:
    """The report's counterpart organisations (``counterpart_organizations.all()``)."""
    return _COUNTERPARTS.instances(deviation.pk)


def report_events(deviation: Deviation) -> list[DeviationEvent]:
    """The report's history, oldest first, with who acted and the councils and assignees it moved
    between."""
    events = _EVENTS.instances(deviation.pk)
    for event in events:
        event.deviation = deviation  # as the related manager sets it
    return events


def report_response_requests(deviation: Deviation) -> list[ResponseRequest]:
    """The report's response requests in the order they were made, with the organisation and who asked."""
    requests = _RESPONSE_REQUESTS.instances(deviation.pk)
    for request in requests:
        request.deviation = deviation
    return requests


def report_duplicates(deviation: Deviation) -> list[Deviation]:
    """Up to 20 reports marked as duplicates of this one (reference and status)."""
    duplicates = _DUPLICATES.instances(deviation.pk)
    for duplicate in duplicates:
        duplicate.duplicate_of = deviation
    return duplicates


def deviations_visible_to(user) -> QuerySet[Deviation]:
    """Reports ``user`` may see in lists and detail pages. Unconfirmed reports are never shown."""
    if not user.is_authenticated:
        return Deviation.objects.exclude(status=Status.UNCONFIRMED).none()
    shape, values = _visibility(user)
    return _VISIBLE_BUILDS[shape](*values)


def _visibility(user) -> tuple[str, tuple]:
    """Which of the scopes of ``deviations_visible_to`` is the signed-in user's, and its values."""
    if sees_whole_county(user):
        return "county", ()
    if user.organization_id:
        return "asked", (local_council_ids(user), user.pk, user.organization_id)
    return "scoped", (local_council_ids(user), user.pk)


def _visible_in_county():
    return Deviation.objects.exclude(status=Status.UNCONFIRMED)


def _visible_in_scope(councils: list[int], user_id: int, organization_id: int | None = None):
    scope = Q(council__in=councils) | Q(reporter_id=user_id)
    if organization_id is not None:
        # Counterpart responders: only while their organisation is asked for a response.
        scope |= Q(pk__in=_asked_deviation_ids(organization_id))
    return _visible_in_county().filter(scope)


_VISIBLE_BUILDS = {"county": _visible_in_county, "asked": _visible_in_scope, "scoped": _visible_in_scope}

#: The relations the report page shows of every report (and the district and handler most have: 44 %
#: and 70 % at 1M), joined to its statement.
REPORT_PAGE_RELATIONS = (
    "agreement",
    "commitment",
    "category",
    "municipality",
    "council",
    "reporting_organization",
    "district",
    "assigned_to",
)
#: The report page's statement for each scope, compiled once per process (and number of councils): the
#: ORM compiled its nine-table join on every page (~1 ms of Python).
_VISIBLE_REPORT = {
    shape: CompiledRead(
        Deviation,
        lambda *values, shape=shape: (
            _VISIBLE_BUILDS[shape](*values[:-1])
            .select_related(*REPORT_PAGE_RELATIONS)
            .filter(reference=values[-1])
        ),
        *kinds,
        str,
    )
    for shape, kinds in (("county", ()), ("asked", (list, int, int)), ("scoped", (list, int)))
}


def visible_report(user, reference: str) -> Deviation | None:
    """The report ``reference`` if ``user`` may see it (``deviations_visible_to``), with the report
    page's relations (``REPORT_PAGE_RELATIONS``); None otherwise."""
    if not user.is_authenticated:
        return None
    shape, values = _visibility(user)
    reports = _VISIBLE_REPORT[shape].instances(*values, reference)
    return reports[0] if reports else None


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
    return _assignable_users(deviation.council_id, deviation.status in REGIONAL_STATES)


#: What the assignee choice shows of each user (``forms_triage.AssignForm``).
ASSIGNEE_LABEL_FIELDS = ("first_name", "last_name", "username")
#: The digest of ``assignable_users`` (``DigestedModelChoiceField``), compiled once per process, for
#: reports at local and at regional level.
_ASSIGNABLE_DIGESTS = {
    regional: DigestedModelChoiceField.compiled_digest(
        User,
        lambda council_id, regional=regional: _assignable_users(council_id, regional),
        int,
        label_fields=ASSIGNEE_LABEL_FIELDS,
    )
    for regional in (False, True)
}


def assignable_users_digest(deviation: Deviation):
    """A function returning the digest of ``assignable_users(deviation)``'s choices for the report page's
    cached assignee list, or None (a report without a council: its queryset computes its own)."""
    if deviation.council_id is None:
        return None
    read = _ASSIGNABLE_DIGESTS[deviation.status in REGIONAL_STATES]
    return lambda: read.read(deviation.council_id)[0][0]


def _assignable_users(council_id: int | None, regional: bool):
    scope = Q(council_id=council_id)
    if regional:
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
            "deviation__agreement",
            "deviation__category",
            "deviation__municipality",
            "deviation__reporting_organization",
            "deviation__council",
            "organization",
        )
        .filter(pk=pk)
        .first()
    )


def open_requests_to_organization(organization_id: int) -> QuerySet[ResponseRequest]:
    """The open response requests to one organisation (a signed-in counterpart's list), due first."""
    return (
        ResponseRequest.objects.answerable()
        .filter(organization_id=organization_id)
        .exclude(deviation__status=Status.UNCONFIRMED)
        .select_related("deviation__agreement", "deviation__category", "deviation__council")
        .order_by("due_on", "pk")
    )


# --- Reporter journey ----------------------------------------------------------------------------


def organizations_with_email_domain(email: str) -> set[int]:
    """The active organisations that registered the domain of ``email`` (case-insensitive), by id;
    empty when the domain is not registered."""
    return set(
        EmailDomain.objects.of_addresses(email)
        .filter(organization__active=True)
        .values_list("organization_id", flat=True)
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


def deviation_for_status_link(key, version: int = 0) -> Deviation | None:
    """The confirmed report a (verified) status link points to, while the link is its current one."""
    return (
        Deviation.objects.exclude(status=Status.UNCONFIRMED)
        .select_related("agreement", "category", "council")
        .filter(idempotency_key=key, status_link_version=version)
        .first()
    )


# --- Redaction --------------------------------------------------------------------------------------

#: ``target`` of ``services.redaction.redact_passage`` for every text of the report at once.
EVERYWHERE = "all"


@dataclass(frozen=True)
class StoredText:
    """One redactable text of a report: which object (``kind`` of ``models.REDACTABLE_FIELDS`` and its
    ``pk``), which field, and its current content."""

    kind: str
    pk: int
    field: str
    text: str
    label: str

    @property
    def key(self) -> str:
        """How a form names it: ``kind:pk:field``."""
        return f"{self.kind}:{self.pk}:{self.field}"


def may_redact(user, deviation: Deviation, *, roles: set[Role] | None = None) -> bool:
    """Whether ``user`` may redact the report's texts (``services.redaction``): coordinators of the
    handling council and regional coordinators. ``roles``: ``roles_for(user, deviation)`` when the
    caller has it."""
    if roles is None:
        roles = roles_for(user, deviation)
    return deviation.status != Status.UNCONFIRMED and bool(roles & COORDINATORS)


def stored_texts(deviation: Deviation) -> list[StoredText]:
    """Every non-empty redactable text of ``deviation``, in the order of its detail page (three queries:
    the report's fields are read fresh, not from the caller's possibly deferred instance)."""
    texts = []
    for kind, queryset, describe in (
        ("deviation", Deviation.objects.filter(pk=deviation.pk), lambda row: ""),
        (
            "response",
            ResponseRequest.objects.filter(deviation=deviation)
            .select_related("organization")
            .order_by("requested_at", "pk"),
            lambda row: str(row.organization),
        ),
        (
            "event",
            DeviationEvent.objects.filter(deviation=deviation).order_by("created_at", "id"),
            lambda row: f"{timezone.localtime(row.created_at):%Y-%m-%d %H:%M} {row.action_label}",
        ),
    ):
        _model, _label, fields = REDACTABLE_FIELDS[kind]
        condition = Q()
        for field in fields:
            condition |= ~Q(**{field: ""})
        for row in queryset.filter(condition):
            for field in fields:
                text = getattr(row, field)
                if text:
                    label = redactable_field_label(kind, field)
                    if describe(row):
                        label = f"{label} ({describe(row)})"
                    texts.append(StoredText(kind, row.pk, field, text, label))
    return texts


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
    # Response summaries (Deviation.response_due_on / response_received_at): reports without one come
    # last in either direction.
    "response_due": "response_due_on",
    "response_received": "response_received_at",
    # Search results (deviations/search.py annotates the rank); other lists fall back to "created".
    "relevance": "search_rank",
}
CURSOR_SALT = "deviations.queue-cursor"


#: The columns a queue row shows (and the keyset cursor needs): the report texts stay in the database,
#: and the reference rows are named from ``reference_names`` (no join: planning the page query's join of
#: five small tables cost PostgreSQL 2 ms per page at 1M reports, running it 0.1 ms).
QUEUE_ROW_FIELDS = (
    "reference",
    "status",
    "occurred_on",
    "reported_on",
    "created_at",
    "agreement",
    "category",
    "council",
    "reporting_organization",
    "assigned_to__username",
    "assigned_to__first_name",
    "assigned_to__last_name",
    "response_due_on",
    "response_received_at",
)


def queue_queryset(queryset: QuerySet[Deviation], *, today) -> QuerySet[Deviation]:
    """The columns of ``queue_rows`` and the assignee's name, fetched with the page; whether a response
    is overdue (``response_overdue``) from the report's own response summary (an ``Exists`` over the
    requests made PostgreSQL hash every overdue request of the table on each page, since it plans for
    all matching rows before the LIMIT)."""
    from django.contrib.postgres.expressions import ArraySubquery
    from django.db.models import BooleanField, ExpressionWrapper

    overdue = ExpressionWrapper(Deviation.response_overdue_condition(today), output_field=BooleanField())
    # The counterparts' ids in the same statement (an index lookup per row of the page).
    counterparts = Deviation.counterpart_organizations.through.objects.filter(deviation_id=OuterRef("pk"))
    return (
        queryset.select_related("assigned_to")
        .only(*QUEUE_ROW_FIELDS)
        .annotate(
            response_overdue=overdue, counterpart_ids=ArraySubquery(counterparts.values("organization_id"))
        )
    )


@dataclass(frozen=True)
class ReferenceNames:
    """The names (``str()``) of the reference rows a queue row shows, by id, as of ``version`` of the
    reference data (``agreements.models.reference_data_version``); organisations with their position in
    the database's order of names."""

    version: int | None
    agreements: dict[int, str]
    categories: dict[int, str]
    councils: dict[int, str]
    organizations: dict[int, tuple[int, str]]


#: This process's names of the latest version it read (``reference_names``).
_reference_names: ReferenceNames | None = None


def reference_names(version: int | None) -> ReferenceNames:
    """The reference rows' names of ``version``, read once per version and process (four small queries),
    or every time when the version is unknown (None). Call with a version read before: the names read
    here are never older than it (``agreements.models.reference_data_version``)."""
    global _reference_names
    cached = _reference_names
    if version is not None and cached is not None and cached.version == version:
        return cached
    from agreements.models import Agreement, DeviationCategory, Organization

    names = ReferenceNames(
        version=version,
        agreements={a.pk: str(a) for a in Agreement.objects.only("name", "short_name")},
        categories={c.pk: str(c) for c in DeviationCategory.objects.only("name")},
        councils={c.pk: str(c) for c in Council.objects.only("name")},
        organizations={o.pk: (i, str(o)) for i, o in enumerate(Organization.objects.only("name"))},
    )
    if version is not None:
        _reference_names = names
    return names


@dataclass(frozen=True)
class QueueRow:
    """What a queue row shows, as the text it shows: its HTML depends on nothing else but the language
    and the release (``deviations.templatetags.queue_rows`` caches it by exactly that)."""

    pk: int
    reference: str
    status: str
    response_overdue: bool
    agreement: str
    category: str
    council: str
    reporting_organization: str
    counterparts: str
    handler: str
    occurred_on: str
    created_on: str
    response_due_on: str
    response_received_on: str


def _local_date(value) -> str:
    return timezone.localtime(value).date().isoformat() if value is not None else ""


def queue_rows(deviations: list[Deviation], *, names: ReferenceNames) -> list[QueueRow]:
    """The rows of a queue page (``queue_queryset``), named from ``names``, with their counterpart
    organisations in the order of their names."""
    needed = (
        ({d.agreement_id for d in deviations} - names.agreements.keys())
        or ({d.category_id for d in deviations} - names.categories.keys())
        or ({d.council_id for d in deviations} - names.councils.keys() - {None})
        or (
            {o for d in deviations for o in (d.reporting_organization_id, *d.counterpart_ids)}
            - names.organizations.keys()
        )
    )
    if needed:  # reference rows added since the version was read: this request reads them afresh
        names = reference_names(None)
    rows = []
    for d in deviations:
        handler = d.assigned_to.get_full_name() or d.assigned_to.username if d.assigned_to_id else ""
        rows.append(
            QueueRow(
                pk=d.pk,
                reference=d.reference,
                status=d.status,
                response_overdue=bool(d.response_overdue),
                agreement=names.agreements[d.agreement_id],
                category=names.categories[d.category_id],
                council=names.councils[d.council_id] if d.council_id else "–",
                reporting_organization=names.organizations[d.reporting_organization_id][1],
                counterparts=", ".join(
                    name for _position, name in sorted(names.organizations[o] for o in d.counterpart_ids)
                ),
                handler=handler,
                occurred_on=d.occurred_on.isoformat(),
                created_on=_local_date(d.created_at),
                response_due_on=d.response_due_on.isoformat() if d.response_due_on else "",
                response_received_on=_local_date(d.response_received_at),
            )
        )
    return rows


def counterpart_names():
    """Each report's counterpart organisations as one text ("A, B"), for ``annotate``: a correlated
    subquery per row rather than a join + GROUP BY over every report, so an export's rows flow in index
    order from the first one instead of after grouping them all."""
    from django.db.models import CharField, OuterRef, StringAgg, Subquery, Value
    from django.db.models.functions import Coalesce

    through = Deviation.counterpart_organizations.through
    names = (
        through.objects.filter(deviation_id=OuterRef("pk"))
        .order_by()
        .values("deviation_id")
        .annotate(names=StringAgg("organization__name", delimiter=Value(", "), order_by="organization__name"))
        .values("names")
    )
    return Coalesce(Subquery(names), Value(""), output_field=CharField())


#: The columns of the queue's exports (label, ``values_list`` key): what a row shows, with the place.
QUEUE_EXPORT_COLUMNS = [
    (gettext_lazy("Referensnummer"), "reference"),
    (gettext_lazy("Status"), "status"),
    (gettext_lazy("Överenskommelse"), "agreement__name"),
    (gettext_lazy("Kategori"), "category__name"),
    (gettext_lazy("Samråd"), "council__name"),
    (gettext_lazy("Kommun"), "municipality__name"),
    (gettext_lazy("Rapporterande organisation"), "reporting_organization__name"),
    (gettext_lazy("Motpart(er)"), "counterparts"),
    (gettext_lazy("Handläggare"), "handler"),
    (gettext_lazy("Inträffade"), "occurred_on"),
    (gettext_lazy("Rapporterad"), "reported_on"),
    (gettext_lazy("Yttrande senast"), "response_due_on"),
    (gettext_lazy("Yttrande inkommet"), "response_received_at"),
    (gettext_lazy("Skapad"), "created_at"),
]


def queue_export_rows(queryset: QuerySet[Deviation], *, sort: str) -> QuerySet:
    """``values_list`` rows in ``QUEUE_EXPORT_COLUMNS`` order and the queue's sort order; iterate with
    ``.iterator(chunk_size=...)`` (one query per chunk)."""
    from django.db.models import F, Value
    from django.db.models.functions import Coalesce, Concat, NullIf, Trim

    full_name = Trim(Concat(F("assigned_to__first_name"), Value(" "), F("assigned_to__last_name")))
    handler = Coalesce(NullIf(full_name, Value("")), F("assigned_to__username"))
    return (
        queryset.annotate(counterparts=counterpart_names(), handler=handler)
        .order_by(*queue_ordering(queryset, sort))
        .values_list(*[key for _label, key in QUEUE_EXPORT_COLUMNS])
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


def bounded_counts(querysets: dict, *, limit: int | None = None) -> dict:
    """``{key: number of rows}`` of each queryset (of any model), each capped at ``limit + 1`` like
    ``status_counts``, in one statement of ``LIMIT``-ed subqueries: the start page's tiles cost one
    query, bounded whatever the size of the table."""
    from django.core.exceptions import EmptyResultSet
    from django.db import connection

    limit = STATUS_COUNT_LIMIT if limit is None else limit
    counts = dict.fromkeys(querysets, 0)
    parts, params, keys = [], [], []
    for key, queryset in querysets.items():
        try:
            sql, sub_params = queryset.order_by().values("pk")[: limit + 1].query.sql_with_params()
        except EmptyResultSet:
            continue
        # ``sql`` is compiled by the ORM, values stay parameters: nothing user-supplied is interpolated.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) AS counted)")  # noqa: S608
        params.extend(sub_params)
        keys.append(key)
    if parts:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(parts)}", params)
            counts.update(zip(keys, cursor.fetchone(), strict=True))
    return counts


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


#: Rows without a value in a nullable sort column (the response summaries) come last, newest first,
#: in either direction: the order of the default queue, served by the same indexes.
NULLS_ORDER = "created_at"


def _nullable(field: str, model=Deviation) -> bool:
    return field != "search_rank" and model._meta.get_field(field).null


def _cursor_key(obj, field: str) -> str:
    """The column the cursor of ``obj`` is on: ``field``, or ``NULLS_ORDER`` for a row without a value."""
    return NULLS_ORDER if getattr(obj, field) is None and _nullable(field, type(obj)) else field


def _encode_cursor(obj, field: str) -> str:
    from django.core import signing

    key = _cursor_key(obj, field)
    value = getattr(obj, key)
    return signing.dumps(
        [key == field, value.isoformat() if hasattr(value, "isoformat") else value, obj.pk], salt=CURSOR_SALT
    )


def _decode_cursor(cursor: str, field: str, model=Deviation):
    """(column, value, pk) of a signed cursor for a list of ``model`` sorted by ``field``, or None if it
    is not one."""
    from django.core import signing
    from django.core.exceptions import ValidationError

    try:
        on_field, value, pk = signing.loads(cursor, salt=CURSOR_SALT)
        if not isinstance(pk, int) or not isinstance(on_field, bool):
            return None
        if field == "search_rank":
            return (field, float(value), pk) if on_field else None
        key = field if on_field else NULLS_ORDER
        if not on_field and not _nullable(field, model):
            return None
        model_field = model._meta.get_field(key)
        if model_field.get_internal_type() == "DateTimeField":
            from django.utils.dateparse import parse_datetime

            value = parse_datetime(value)
        else:
            value = model_field.to_python(value)
        if value is None:
            return None
        return key, value, pk
    except (signing.BadSignature, ValueError, TypeError, ValidationError):
        return None


def keyset_page(
    queryset: QuerySet,
    *,
    sort: str = "-created",
    after: str | None = None,
    before: str | None = None,
    size: int = 25,
) -> KeysetPage:
    """A page of ``queryset`` (the queue's reports, or another model with the column: the systemic
    issues by ``created_at``) ordered by a whitelisted column and the primary key.

    A nullable column (the response summaries) is walked in two segments, each an index range scan:
    the rows that have a value, ordered by it (a partial index), then those without, newest first (the
    queue's default order and indexes), last in either sort direction, so walking backwards meets them
    first. The second segment is read only when the page reaches it."""
    descending = sort.startswith("-")
    field = QUEUE_SORTS.get(sort.lstrip("-"), "created_at")
    if field == "search_rank" and field not in queryset.query.annotations:
        field = "created_at"
    backwards = bool(before) and not after
    model = queryset.model
    cursor = _decode_cursor(before if backwards else after, field, model) if (before or after) else None
    # Segments in the order of the walk: (rows, column, descending). Walking backwards flips the order;
    # the rows are reversed again below.
    if _nullable(field, model):
        segments = [
            (queryset.filter(**{f"{field}__isnull": False}), field, descending != backwards),
            (queryset.filter(**{f"{field}__isnull": True}), NULLS_ORDER, not backwards),
        ]
        if backwards:
            segments.reverse()
    else:
        segments = [(queryset, field, descending != backwards)]
    if cursor is not None:
        key, value, pk = cursor
        # The segments before the cursor's are behind it; only the cursor's own is cut.
        while segments[0][1] != key:
            segments.pop(0)
        segment, key, walk_descending = segments[0]
        op = "lt" if walk_descending else "gt"
        # (column, pk) beyond the cursor. The redundant ``column <= value`` (``>=``) bounds the index
        # scan, so a deep page starts where the cursor points instead of filtering from the first row.
        segment = segment.filter(
            Q(**{f"{key}__{op}e": value}),
            Q(**{f"{key}__{op}": value}) | Q(**{f"pk__{op}": pk}),
        )
        segments[0] = (segment, key, walk_descending)
    # The related rows are fetched once for the page, not once per segment (nor for the look-ahead row).
    prefetch = queryset._prefetch_related_lookups
    rows: list[Deviation] = []
    for segment, key, walk_descending in segments:
        prefix = "-" if walk_descending else ""
        segment = segment.prefetch_related(None).order_by(f"{prefix}{key}", f"{prefix}pk")
        rows += segment[: size + 1 - len(rows)]
        if len(rows) > size:
            break
    more = len(rows) > size
    rows = rows[:size]
    prefetch_related_objects(rows, *prefetch)
    if backwards:
        rows.reverse()
        next_cursor = _encode_cursor(rows[-1], field) if rows and cursor else None
        previous_cursor = _encode_cursor(rows[0], field) if rows and more else None
    else:
        next_cursor = _encode_cursor(rows[-1], field) if rows and more else None
        previous_cursor = _encode_cursor(rows[0], field) if rows and cursor else None
    return KeysetPage(rows, next_cursor, previous_cursor)


def queue_ordering(queryset: QuerySet[Deviation], sort: str) -> list:
    """The ``order_by`` of ``keyset_page`` for a whole list (the exports): the same column and
    direction, rows without a value last."""
    from django.db.models import F

    field = QUEUE_SORTS.get(sort.lstrip("-"), "created_at")
    if field == "search_rank" and field not in queryset.query.annotations:
        field = "created_at"
    descending = sort.startswith("-")
    if _nullable(field):
        column = F(field).desc(nulls_last=True) if descending else F(field).asc(nulls_last=True)
        return [column, F(NULLS_ORDER).desc(), "-pk"]
    return [F(field).desc() if descending else F(field).asc(), "-pk" if descending else "pk"]


# --- Saved queue filters ----------------------------------------------------------------------------


def _saved_filters(user_id: int, councils: list[int], queue: str | None = None) -> QuerySet[SavedFilter]:
    filters = SavedFilter.objects.filter(Q(owner_id=user_id) | Q(council__in=councils))
    if queue is not None:
        filters = filters.filter(queue=queue)
    return filters.select_related("owner", "council").order_by("name", "pk")


def saved_filters_for(user, queue: str | None = None) -> QuerySet[SavedFilter]:
    """The user's own saved filters (of ``queue``) and those shared with their active councils."""
    return _saved_filters(user.pk, [m.council_id for m in active_memberships(user)], queue)


#: ``saved_filters_for`` of one queue, compiled once per process and number of councils (on every
#: queue page).
_QUEUE_SAVED_FILTERS = CompiledRead(SavedFilter, _saved_filters, int, list, str)


def queue_saved_filters(user, queue: str) -> list[SavedFilter]:
    """``saved_filters_for(user, queue)``, as a list."""
    councils = [m.council_id for m in active_memberships(user)]
    return _QUEUE_SAVED_FILTERS.instances(user.pk, councils, queue)


def may_delete_saved_filter(user, saved_filter) -> bool:
    """The owner, and for a shared filter the coordinators (and chairs) of its council."""
    if saved_filter.owner_id == user.pk:
        return True
    return saved_filter.council_id is not None and any(
        m.council_id == saved_filter.council_id and m.is_coordinator for m in active_memberships(user)
    )


# --- Similar reports -------------------------------------------------------------------------------

SIMILAR_WINDOW_DAYS = 180
SIMILAR_CANDIDATES = 100
#: Each of the pool's four range scans (before/after, same agreement/same category) brings this many,
#: so at most SIMILAR_CANDIDATES are ranked (the text rank of each costs PostgreSQL ~25 µs).
SIMILAR_POOL_SIDE = SIMILAR_CANDIDATES // 4


def _words(text: str) -> set[str]:
    import re

    return {w for w in re.findall(r"\w{4,}", (text or "").lower()) if not w.isdigit()}


# The ranking of the pool as SQL written once (the ORM rebuilt and compiled its expression tree on
# every report page, ~4 ms of Python): the viewer's scope and the pool come in as the ``candidates``
# subquery, every value is a parameter, so the text is the same for every report seen in one scope and
# psycopg prepares it once per connection. The score is the one documented below, computed as the ORM
# expressions did (same float8 arithmetic, same order of additions).
_SIMILAR_RANKING = """
SELECT d.id, d.reference, d.status, d.occurred_on, d.category_id, category.name,
       d.same_kind, d.same_pair, d.days, d.text_score,
       (((d.same_kind + d.same_pair) + (2.0::float8 * (1.0::float8 - (d.days / %s::float8)))) + d.text_score)
         AS similarity
FROM (
  SELECT c.id, c.reference, c.status, c.occurred_on, c.category_id,
         CASE WHEN (c.agreement_id = %s AND c.category_id = %s) THEN 3 ELSE 0 END AS same_kind,
         CASE
           WHEN (c.reporting_organization_id = %s AND EXISTS(
             SELECT 1 FROM deviations_deviation_counterpart_organizations u
             WHERE u.deviation_id = c.id AND u.organization_id = ANY(%s::bigint[]))) THEN 3
           WHEN (c.reporting_organization_id = ANY(%s::bigint[]) AND EXISTS(
             SELECT 1 FROM deviations_deviation_counterpart_organizations u
             WHERE u.deviation_id = c.id AND u.organization_id = %s)) THEN 3
           ELSE 0
         END AS same_pair,
         ABS(c.occurred_on - %s::date) AS days,
         {text} AS text_score
  FROM ({candidates}) c
) d
INNER JOIN agreements_deviationcategory category ON category.id = d.category_id
ORDER BY similarity DESC, d.id DESC
LIMIT %s
"""
_SIMILAR_POOL = """
(SELECT u.id FROM deviations_deviation u WHERE u.agreement_id = %s AND u.occurred_on <= %s
   AND u.occurred_on >= %s ORDER BY u.occurred_on DESC LIMIT %s)
UNION ALL
(SELECT u.id FROM deviations_deviation u WHERE u.agreement_id = %s AND u.occurred_on >= %s
   AND u.occurred_on <= %s ORDER BY u.occurred_on ASC LIMIT %s)
UNION ALL
(SELECT u.id FROM deviations_deviation u WHERE u.category_id = %s AND u.occurred_on <= %s
   AND u.occurred_on >= %s ORDER BY u.occurred_on DESC LIMIT %s)
UNION ALL
(SELECT u.id FROM deviations_deviation u WHERE u.category_id = %s AND u.occurred_on >= %s
   AND u.occurred_on <= %s ORDER BY u.occurred_on ASC LIMIT %s)
"""
# The rank of the stored Swedish document (not of to_tsvector(its text), which re-parsed its lexemes with
# the server's default configuration on every page).
_SIMILAR_TEXT = (
    "LEAST((COALESCE(ts_rank(c.search_document, to_tsquery('swedish'::regconfig, %s)), 0.0) "
    "* 20.0::float8), 4.0::float8)"
)
_SIMILAR_NO_TEXT = "0.0::float8"


def similar_deviations(
    deviation: Deviation, *, user, visible=None, counterparts=None, limit: int = 5
) -> list[Deviation]:
    """Reports that may concern the same problem, best first.

    Candidates come from index-friendly filters only (same agreement, or same category, within
    ``SIMILAR_WINDOW_DAYS`` of the occurrence) and at most ``SIMILAR_CANDIDATES`` of them are ranked:
    same agreement and category (3), same organisation pair (3), closeness in time (up to 2) and the
    text (full-text rank with the Swedish configuration).
    Each result carries ``similarity`` (the score) and ``similar_reasons``; only ``reference``,
    ``status``, ``occurred_on`` and ``category`` (its name) are loaded. ``visible``: the caller's
    ``deviations_visible_to(user)``, when it already has it (saves a query); ``counterparts``: the
    report's counterpart organisations, when the caller has read them.
    """
    import datetime

    from django.db import connections
    from django.db.models.expressions import RawSQL

    from agreements.models import DeviationCategory

    window = datetime.timedelta(days=SIMILAR_WINDOW_DAYS)
    if counterparts is None:
        counterparts = deviation.counterpart_organizations.all()
    counterpart_ids = [o.pk for o in counterparts]
    # A bounded pool: for the same agreement and for the same category, the SIMILAR_POOL_SIDE reports
    # that occurred closest before and after this one within the window (four LIMIT-ed range scans of
    # the (agreement, occurred_on) and (category, occurred_on) indexes), as one subquery (a UNION ALL of
    # the four scans: an OR of IN subqueries is planned as a full scan with hashed subplans). Ranking
    # (the text rank above all) then costs the same whatever the size of the table.
    occurred = deviation.occurred_on
    before, after = occurred - window, occurred + window
    pool_params = [
        *(deviation.agreement_id, occurred, before, SIMILAR_POOL_SIDE),
        *(deviation.agreement_id, occurred, after, SIMILAR_POOL_SIDE),
        *(deviation.category_id, occurred, before, SIMILAR_POOL_SIDE),
        *(deviation.category_id, occurred, after, SIMILAR_POOL_SIDE),
    ]
    # The viewer's scope stays the one definition (deviations_visible_to), compiled by the ORM.
    candidates = (
        (deviations_visible_to(user) if visible is None else visible)
        .exclude(pk=deviation.pk)
        .filter(pk__in=RawSQL(_SIMILAR_POOL, pool_params))  # noqa: S611 - constant SQL, values as parameters
        .values_list(
            "id",
            "reference",
            "status",
            "occurred_on",
            "category_id",
            "agreement_id",
            "reporting_organization_id",
            "search_document",
        )
        .order_by()
    )
    candidates_sql, candidates_params = candidates.query.sql_with_params()
    words = sorted(_words(deviation.description))[:40]
    org = deviation.reporting_organization_id
    params = [
        float(SIMILAR_WINDOW_DAYS),
        deviation.agreement_id,
        deviation.category_id,
        org,
        counterpart_ids,
        counterpart_ids,
        org,
        occurred,
        *([" | ".join(words)] if words else []),
        *candidates_params,
        limit,
    ]
    sql = _SIMILAR_RANKING.format(
        text=_SIMILAR_TEXT if words else _SIMILAR_NO_TEXT, candidates=candidates_sql
    )
    with connections[candidates.db].cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result = []
    loaded = ("id", "reference", "status", "occurred_on", "category_id")
    fields = [f.attname for f in Deviation._meta.concrete_fields if f.attname in loaded]  # from_db's order
    for *values, category_name, same_kind, same_pair, days, text, score in rows:
        # As .only("reference", "status", "occurred_on", "category__name") would load them.
        by_name = dict(zip(loaded, values, strict=True))
        row = Deviation.from_db(candidates.db, fields, [by_name[name] for name in fields])
        row.category = DeviationCategory.from_db(
            candidates.db, ["id", "name"], [by_name["category_id"], category_name]
        )
        row.same_kind, row.same_pair, row.days, row.text_score = same_kind, same_pair, days, text
        row.similarity = round(score, 2)
        row.similar_reasons = _similar_reasons(row, days=days, text=text)
        result.append(row)
    return result


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


# --- Systemic issues -------------------------------------------------------------------------------


def systemic_issues(*, today=None):
    """Systemic issues with their agreements, the number of linked reports and of actions past their
    date (``overdue_actions``; one query + prefetch)."""
    from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
    from django.db.models.functions import Coalesce

    from .dates import stockholm_today
    from .models import SystemicAction, SystemicIssue

    overdue = (
        SystemicAction.objects.overdue(today or stockholm_today())
        .filter(issue=OuterRef("pk"))
        .order_by()
        .values("issue")
        .annotate(n=Count("pk"))
        .values("n")
    )
    # Counted per listed issue (a subquery evaluated for the rows returned), not by joining every linked
    # report of every issue before a page is cut.
    reports = (
        Deviation.objects.filter(systemic_issue=OuterRef("pk"))
        .order_by()
        .values("systemic_issue")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return SystemicIssue.objects.annotate(
        report_count=Coalesce(Subquery(reports), Value(0), output_field=IntegerField()),
        overdue_actions=Coalesce(Subquery(overdue), Value(0), output_field=IntegerField()),
    ).prefetch_related("agreements")


#: Systemic issues per page of their list (``keyset_page`` on their creation time).
SYSTEMIC_PAGE_SIZE = 50


def reports_of_issue(issue, *, user, limit: int = 200):
    """Reports linked to an issue that ``user`` may see (bounded list, newest first)."""
    return (
        deviations_visible_to(user)
        .filter(systemic_issue=issue)
        .select_related("agreement", "category", "council")
        .order_by("-created_at", "-id")[:limit]
    )


@dataclass(frozen=True)
class FactorChoice:
    """One contributing factor as the report page shows it: its checkbox (``checked``: the report has
    it) and, in the list of the report's factors, ``label`` (``str(ContributingFactor)``)."""

    pk: int
    name: str
    help_text: str
    label: str
    checked: bool

    def __str__(self) -> str:
        return self.label


_FACTOR_ROWS = """
SELECT f.id, f.parent_id, main.name, f.name, f.help_text, tag.id IS NOT NULL
FROM {factors} f
LEFT JOIN {factors} main ON main.id = f.parent_id
LEFT JOIN {tags} tag ON tag.contributingfactor_id = f.id AND tag.deviation_id = %s
WHERE tag.id IS NOT NULL OR f.id IN ({selectable})
ORDER BY f."order", f.name
"""


def contributing_factor_groups(deviation) -> tuple[list[dict], list[FactorChoice]]:
    """The contributing-factor taxonomy for a report's triage form, in one query: every main factor with
    its sub-factors (``[{"main", "children"}]``), those that may be chosen plus any the report already
    has (so an old, deactivated tag can still be removed), and the report's own factors. Plain values
    (``FactorChoice``): everything the page shows of them, and a key for its cached HTML."""
    from django.db import connections

    # SQL written once around the one definition of what may be chosen (compiled by the ORM): the ORM
    # took ~1.3 ms of Python to compile the whole statement (an annotated EXISTS, an OR, a join).
    selectable = ContributingFactor.objects.selectable().values("pk")
    selectable_sql, params = selectable.query.sql_with_params()
    with connections[selectable.db].cursor() as cursor:
        cursor.execute(
            _FACTOR_ROWS.format(
                factors=ContributingFactor._meta.db_table,
                tags=Deviation.contributing_factors.through._meta.db_table,
                selectable=selectable_sql,
            ),
            [deviation.pk, *params],
        )
        rows = cursor.fetchall()
    factors = [
        # label: as ContributingFactor.__str__
        (parent_id, FactorChoice(pk, name, help, f"{parent} – {name}" if parent_id else name, tagged))
        for pk, parent_id, parent, name, help, tagged in rows
    ]
    groups = [{"main": factor, "children": []} for parent_id, factor in factors if parent_id is None]
    by_main = {group["main"].pk: group for group in groups}
    for parent_id, factor in factors:
        if parent_id in by_main:
            by_main[parent_id]["children"].append(factor)
    return groups, sorted((factor for _parent, factor in factors if factor.checked), key=str)
