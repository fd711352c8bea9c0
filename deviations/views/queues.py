"""The work queues (council and escalated), their exports, saved filters and actions on selected rows,
and the staff start page. The rules live in ``deviations.queues`` (what a queue lists), the selectors
and the services."""

from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from agreements.models import reference_data_version
from config.compiled import CompiledRead
from config.errors import ApplicationError
from config.spreadsheets import table_csv, table_xlsx
from councils.models import Council, CouncilMembership, User
from deviations import queues, selectors
from deviations.dates import stockholm_today
from deviations.filters import folded_filters_in_use, form_cache_key
from deviations.forms_triage import BulkActionForm, SaveFilterForm
from deviations.services import bulk, saved_filters
from deviations.views.common import errors_as_messages
from deviations.workflow import Status

PAGE_SIZES = (25, 50, 100)
# Lazy: translated in the language of each request, not of the import.
SORTABLE_COLUMNS = (
    ("reference", gettext_lazy("Referens")),
    ("status", gettext_lazy("Status")),
    ("occurred", gettext_lazy("Inträffade")),
    ("created", gettext_lazy("Skapad")),
    ("response_due", gettext_lazy("Yttrande senast")),
    ("response_received", gettext_lazy("Yttrande inkommet")),
)


def _queue_or_404(request, key: str) -> queues.Queue:
    queue = queues.QUEUES[key]
    if not queues.may_use(request.user, queue):
        raise Http404
    return queue


def _sort(request, filtered) -> str:
    # Search results come best first unless another order is chosen.
    default = "-relevance" if "search_rank" in filtered.query.annotations else "-created"
    sort = request.GET.get("sort", default)
    return sort if sort.lstrip("-") in selectors.QUEUE_SORTS else default


def _filtered(request, queue):
    """(filterset, the filtered reports, the reports the status counts count)."""
    user = request.user
    today = stockholm_today()
    filterset = queues.queue_filterset(user, queue, request.GET, today=today, request=request)
    if filterset.is_valid():
        # Counts per status: the same filters except the status filter (one bounded statement).
        return filterset, filterset.qs, filterset.queryset_without("status")
    # An invalid status value alone must not hide the counts of the other filters.
    without_status = request.GET.copy()
    without_status.setlist("status", [])
    counts_filter = queues.queue_filterset(user, queue, without_status, today=today, request=request)
    counts_qs = counts_filter.queryset_without("status") if counts_filter.is_valid() else None
    return filterset, filterset.queryset.none(), counts_qs


def _queue_page(request, queue: queues.Queue):
    user = request.user
    today = stockholm_today()
    # Read before anything made of reference data (the names, the filter form): see its docstring.
    reference_version = reference_data_version()
    filterset, filtered, counts_qs = _filtered(request, queue)
    filters_open = folded_filters_in_use(filterset, request.GET)
    counts = selectors.status_counts(counts_qs) if counts_qs is not None else {}
    sort = _sort(request, filtered)
    try:
        size = int(request.GET.get("size", PAGE_SIZES[0]))
    except ValueError:
        size = PAGE_SIZES[0]
    size = size if size in PAGE_SIZES else PAGE_SIZES[0]
    page = selectors.keyset_page(
        selectors.queue_queryset(filtered, today=today),
        sort=sort,
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=size,
    )

    keep = QueryDict(mutable=True)
    for key, values in request.GET.lists():
        if key not in {"after", "before"}:
            keep.setlist(key, values)
    without_sort = keep.copy()
    without_sort.pop("sort", None)
    without_sort = without_sort.urlencode()
    columns = {}
    for key, label in SORTABLE_COLUMNS:
        current = sort.lstrip("-") == key
        descending = sort.startswith("-")
        next_sort = key if current and descending else f"-{key}"
        columns[key] = {
            "label": label,
            "aria_sort": ("descending" if descending else "ascending") if current else None,
            "query": f"{without_sort}&sort={next_sort}".lstrip("&"),
        }
    # A count is "this status with the other filters": its link keeps them (not the page cursor).
    # Counts are bounded (selectors.status_counts): above the limit the page says "more than".
    limit = selectors.STATUS_COUNT_LIMIT
    other_filters = keep.copy()
    other_filters.pop("status", None)
    listed = set(filterset.form.cleaned_data.get("status") or []) if filterset.is_valid() else set()
    status_rows = []
    statuses = queue.statuses()
    # The other filters, then this status (as QueryDict.urlencode writes a copy with it set).
    others = other_filters.urlencode()
    for value in statuses:
        count = counts.get(value, 0)
        status_rows.append(
            {
                "value": value,
                "count": min(count, limit),
                "capped": count > limit,
                "listed": value in listed,
                "query": "&".join(part for part in (others, urlencode({"status": value})) if part),
            }
        )
    # "Totalt" counts what the list shows: the statuses it lists.
    listed_rows = [row for row in status_rows if row["listed"]]
    closed = other_filters.copy()
    closed.setlist("status", [s for s in (Status.CLOSED, Status.REJECTED) if s in statuses])
    everything = other_filters.copy()
    everything.setlist("status", statuses)
    save_filter_form = SaveFilterForm(
        councils=_shareable_councils(user), initial={"queue": queue.key, "query": keep.urlencode()}
    )
    bulk_form = BulkActionForm(
        users=_bulk_assignees(user),
        listed_users=_BULK_ASSIGNEES.instances([m.council_id for m in selectors.active_memberships(user)]),
        initial={"queue": queue.key, "assignee": user.pk},
    )
    context = {
        "queue": queue,
        "title": queue.title,
        "url_name": queue.url_name,
        "filter": filterset,
        "filter_cache_key": form_cache_key(
            filterset, reference_version=reference_version, folded_open=filters_open
        ),
        "filters_open": filters_open,
        "page": page,
        "rows": selectors.queue_rows(page.object_list, names=selectors.reference_names(reference_version)),
        "status_rows": status_rows,
        "total_listed": sum(row["count"] for row in listed_rows),
        "total_capped": any(row["capped"] for row in listed_rows),
        "count_limit": limit,
        "views": [
            (_("Öppna"), others, listed == set(queue.default_statuses)),
            (_("Avslutade och avvisade"), closed.urlencode(), listed == set(closed.getlist("status"))),
            (_("Alla"), everything.urlencode(), listed == set(statuses)),
        ]
        if queue.states is None
        else [],
        "query_string": keep.urlencode(),
        "columns": columns,
        "page_sizes": PAGE_SIZES,
        "size": size,
        "is_regional": selectors.sees_whole_county(user),
        "show_council": queues.shows_council(user),
        "saved_filters": [
            (saved, selectors.may_delete_saved_filter(user, saved))
            for saved in selectors.queue_saved_filters(user, queue.key)
        ],
        # Their visible fields come from the cache (cached_forms); the hidden ones (the current filter,
        # the queue) are rendered each time.
        "save_filter_form": save_filter_form,
        "bulk_form": bulk_form,
        "current_url": request.get_full_path(),
        "today": today,
    }
    return render(request, "deviations/queue.html", context)


@login_required
def queue(request):
    """The work queue of the user's councils (every report for regional coordinators)."""
    return _queue_page(request, _queue_or_404(request, queues.MAIN.key))


@login_required
def escalated_queue(request):
    """Regional coordinators' queue: escalated reports and those under regional analysis."""
    return _queue_page(request, _queue_or_404(request, queues.ESCALATED.key))


# --- Exports --------------------------------------------------------------------------------------

EXPORT_CHOICES = {"status": Status.choices}


@login_required
def export(request, queue: str, fmt: str):
    """The queue's current filter and sort (every row, not one page) as CSV or XLSX, streamed."""
    if queue not in queues.QUEUES or fmt not in {"csv", "xlsx"}:
        raise Http404
    queue_ = _queue_or_404(request, queue)
    filterset, filtered, _counts = _filtered(request, queue_)
    rows = selectors.queue_export_rows(filtered, sort=_sort(request, filtered))
    name = f"{'arenden' if queue_ is queues.MAIN else 'eskalerade'}-{stockholm_today().isoformat()}.{fmt}"
    columns = selectors.QUEUE_EXPORT_COLUMNS
    if fmt == "csv":
        return table_csv(columns, rows, choices=EXPORT_CHOICES, name=name)
    return table_xlsx(columns, rows, choices=EXPORT_CHOICES, name=name, title=queue_.title)


# --- Actions on selected rows ---------------------------------------------------------------------


def _bulk_assignees(user):
    """Whom the queue's bulk assignment offers: the active members of the user's councils (each
    report still checks its own council, row by row)."""
    return _assignees_of([m.council_id for m in selectors.active_memberships(user)])


def _assignees_of(councils: list[int]):
    members = CouncilMembership.objects.filter(council__in=councils).values("user_id")
    return (
        User.objects.filter(is_active=True, pk__in=members)
        .only("username", "first_name", "last_name")
        .order_by("first_name", "last_name", "username")
    )


#: The queue page's list of them, compiled once per process and number of councils.
_BULK_ASSIGNEES = CompiledRead(User, _assignees_of, list)


def _back(request, queue: queues.Queue):
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return redirect(target)
    return redirect(queue.url_name)


def _posted_queue(request) -> queues.Queue:
    key = request.POST.get("queue", "")
    if key not in queues.QUEUES:
        raise Http404
    return _queue_or_404(request, key)


@login_required
@require_POST
def bulk_action(request):
    """Assign or start triage on the selected rows, each report through its service; a message per
    report that could not be changed."""
    queue_ = _posted_queue(request)
    form = BulkActionForm(request.POST, users=_bulk_assignees(request.user))
    if not form.is_valid():
        errors_as_messages(request, form)
        return _back(request, queue_)
    references = form.cleaned_data["reports"]
    found = {
        d.reference: d
        for d in queues.reports_in(request.user, queue_)
        .filter(reference__in=references)
        .only("reference", "status", "council_id", "assigned_to_id")
    }
    missing = [
        bulk.RowResult(reference, False, _("Rapporten finns inte i din kö."))
        for reference in references
        if reference not in found
    ]
    try:
        results = bulk.apply_to_reports(
            actor=request.user,
            deviations=[found[r] for r in references if r in found],
            action=form.cleaned_data["action"],
            assignee=form.cleaned_data.get("assignee"),
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return _back(request, queue_)
    done = [r for r in results if r.ok]
    if done:
        messages.success(
            request,
            ngettext("%(n)d rapport är klar: %(refs)s.", "%(n)d rapporter är klara: %(refs)s.", len(done))
            % {"n": len(done), "refs": ", ".join(r.reference for r in done)},
        )
    for result in [*results, *missing]:
        if not result.ok:
            messages.error(request, f"{result.reference}: {result.message}")
    return _back(request, queue_)


# --- Saved filters --------------------------------------------------------------------------------


def _shareable_councils(user) -> list[tuple[int, str]]:
    return [(m.council_id, m.council_name) for m in selectors.active_memberships(user)]


@login_required
@require_POST
def save_filter(request):
    queue_ = _posted_queue(request)
    form = SaveFilterForm(request.POST, councils=_shareable_councils(request.user))
    if not form.is_valid():
        errors_as_messages(request, form)
        return _back(request, queue_)
    council_id = form.cleaned_data["council"]
    saved = saved_filters.save_filter(
        owner=request.user,
        name=form.cleaned_data["name"],
        queue=queue_.key,
        query=form.cleaned_data["query"],
        council=Council.objects.get(pk=council_id) if council_id else None,
    )
    messages.success(request, _("Filtret ”%(name)s” är sparat.") % {"name": saved.name})
    return redirect(queue_.url(QueryDict(saved.query)))


@login_required
@require_POST
def delete_filter(request, pk: int):
    saved = get_object_or_404(selectors.saved_filters_for(request.user), pk=pk)
    queue_ = _queue_or_404(request, saved.queue)
    saved_filters.delete_filter(saved_filter=saved, actor=request.user)
    messages.success(request, _("Filtret ”%(name)s” är borttaget.") % {"name": saved.name})
    return _back(request, queue_)
