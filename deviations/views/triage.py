"""Triage pages: the queues, transitions, assignment, notes, response requests and the public answer
form, and systemic issues. Views translate HTTP to selector/service calls; the rules live there."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from config.errors import ApplicationError
from deviations import selectors
from deviations.dates import stockholm_today
from deviations.filters import DeviationFilter, form_cache_key
from deviations.forms_triage import (
    AssignForm,
    ExtendDeadlineForm,
    LinkReportForm,
    NoteForm,
    RejectForm,
    RerouteForm,
    ResolveIssueForm,
    ResponseAnswerForm,
    ResponseRequestForm,
    SystemicActionForm,
    SystemicActionStateForm,
    SystemicIssueForm,
    TransitionForm,
)
from deviations.models import Deviation, ResponseRequest, SystemicAction, SystemicIssue
from deviations.response_tokens import make_token, read_token
from deviations.services import assignment, notes, responses, systemic, transitions
from deviations.workflow import REGIONAL_STATES, TRANSITIONS, Status, allowed_actions

PAGE_SIZES = (25, 50, 100)


# --- Queues ---------------------------------------------------------------------------------------


def _queue(request, *, regional: bool, local_councils=None, preset_status=None, title, url_name):
    user = request.user
    today = stockholm_today()
    base = selectors.deviations_handled_by(user, regional=regional, local_councils=local_councils)
    data = request.GET.copy()
    if preset_status and not data.getlist("status"):
        data.setlist("status", preset_status)
    filterset = DeviationFilter(data, queryset=base, user=user, today=today, request=request)
    if filterset.is_valid():
        filtered = filterset.qs
        # Counts per status: the same filters except the status filter (one bounded statement).
        counts_qs = filterset.queryset_without("status")
    else:
        filtered = base.none()
        # An invalid status value alone must not hide the counts of the other filters.
        without_status = data.copy()
        without_status.pop("status", None)
        counts_filter = DeviationFilter(
            without_status, queryset=base, user=user, today=today, request=request
        )
        counts_qs = counts_filter.qs if counts_filter.is_valid() else base.none()
    counts = selectors.status_counts(counts_qs)

    # Search results come best first unless another order is chosen.
    default_sort = "-relevance" if "search_rank" in filtered.query.annotations else "-created"
    sort = request.GET.get("sort", default_sort)
    if sort.lstrip("-") not in selectors.QUEUE_SORTS:
        sort = default_sort
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
    for key, values in data.lists():
        if key not in {"after", "before"}:
            keep.setlist(key, values)
    without_sort = keep.copy()
    without_sort.pop("sort", None)
    columns = []
    for key, label in (
        ("reference", _("Referens")),
        ("status", _("Status")),
        ("occurred", _("Inträffade")),
        ("reported", _("Rapporterad")),
        ("created", _("Skapad")),
    ):
        current = sort.lstrip("-") == key
        descending = sort.startswith("-")
        next_sort = key if current and descending else f"-{key}"
        columns.append(
            {
                "key": key,
                "label": label,
                "current": current,
                "aria_sort": ("descending" if descending else "ascending") if current else None,
                "query": f"{without_sort.urlencode()}&sort={next_sort}".lstrip("&"),
            }
        )
    # A count is "this status with the other filters": its link keeps them (not the page cursor).
    # Counts are bounded (selectors.status_counts): above the limit the page says "more than".
    limit = selectors.STATUS_COUNT_LIMIT
    other_filters = keep.copy()
    other_filters.pop("status", None)
    status_rows = []
    for value, label in Status.choices:
        if value == Status.UNCONFIRMED:
            continue
        query = other_filters.copy()
        query["status"] = value
        count = counts.get(value, 0)
        status_rows.append(
            {
                "value": value,
                "label": label,
                "count": min(count, limit),
                "capped": count > limit,
                "query": query.urlencode(),
            }
        )
    total_capped = any(row["capped"] for row in status_rows)
    context = {
        "title": title,
        "url_name": url_name,
        "filter": filterset,
        "filter_cache_key": form_cache_key(filterset),
        "page": page,
        "status_rows": status_rows,
        "total_in_statuses": sum(row["count"] for row in status_rows),
        "total_capped": total_capped,
        "count_limit": limit,
        "query_string": keep.urlencode(),
        "columns": columns,
        "page_sizes": PAGE_SIZES,
        "size": size,
        "is_regional": regional or user.is_superuser,
    }
    return render(request, "deviations/queue.html", context)


@login_required
def queue(request):
    """The work queue of the user's councils (every report for regional coordinators)."""
    regional, local_councils = selectors.queue_scope(request.user)
    if local_councils is None:
        raise Http404
    return _queue(
        request,
        regional=regional,
        local_councils=local_councils,
        title=_("Ärenden"),
        url_name="deviations:queue",
    )


@login_required
def escalated_queue(request):
    """Regional coordinators' queue: escalated reports and those under regional analysis."""
    if not selectors.sees_whole_county(request.user):
        raise Http404
    return _queue(
        request,
        regional=selectors.is_regional_coordinator(request.user),
        preset_status=sorted(REGIONAL_STATES),
        title=_("Eskalerade ärenden"),
        url_name="deviations:escalated",
    )


# --- Actions on one report ------------------------------------------------------------------------


def _visible_deviation(request, reference: str) -> Deviation:
    return get_object_or_404(
        selectors.deviations_visible_to(request.user).select_related(
            "agreement", "category", "council", "reporting_organization"
        ),
        reference=reference,
    )


def _after_action(request, deviation: Deviation):
    """Back to the report, or to the queue if the user can no longer see it (e.g. re-routed away)."""
    if selectors.deviations_visible_to(request.user).filter(pk=deviation.pk).exists():
        return redirect("deviations:detail", deviation.reference)
    return redirect("deviations:queue")


def _transition_form(transition, deviation, request, data=None, initial=None):
    if transition.form == "reject":
        return RejectForm(
            data,
            initial=initial,
            transition=transition,
            deviation=deviation,
            visible_reports=selectors.deviations_visible_to(request.user),
        )
    if transition.form == "reroute":
        return RerouteForm(data, initial=initial, transition=transition, deviation=deviation)
    if transition.form == "request_response":
        return ResponseRequestForm(data, initial=initial, deviation=deviation, today=stockholm_today())
    return TransitionForm(data, initial=initial, transition=transition, deviation=deviation)


@login_required
def transition(request, reference: str, action: str):
    """GET: the form of one action (reason, feedback, organisations...). POST: apply it. Only actions
    the table allows this user from the current state are offered; anything else becomes a message."""
    deviation = _visible_deviation(request, reference)
    transition_ = TRANSITIONS.get(action)
    roles = selectors.roles_for(request.user, deviation)
    if transition_ is None or transition_ not in allowed_actions(deviation.status, roles):
        if request.method == "POST":
            messages.error(request, _("Åtgärden är inte tillåten för rapporten just nu."))
            return redirect("deviations:detail", deviation.reference)
        raise Http404
    form = _transition_form(
        transition_, deviation, request, request.POST if request.method == "POST" else None
    )
    if request.method == "POST" and form.USE_TEMPLATE in request.POST:
        # "Use the standard text" without JavaScript: the same form again, the text inserted, no errors.
        form = _transition_form(transition_, deviation, request, initial=form.initial_with_template())
    elif request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if transition_.form == "request_response":
                responses.request_response(
                    deviation=deviation,
                    organizations=data["organizations"],
                    actor=request.user,
                    message=data["message"],
                    due_on=data["due_on"],
                )
            else:
                transitions.apply_transition(
                    deviation=deviation,
                    action=action,
                    actor=request.user,
                    text=data["text"],
                    target_council=data.get("council"),
                    reject_reason=data.get("reason", ""),
                    duplicate_of=getattr(form, "duplicate_of", None),
                )
        except ApplicationError as exc:
            messages.error(request, exc.message)
            return redirect("deviations:detail", deviation.reference)
        messages.success(request, _("Klart: %(action)s.") % {"action": transition_.label})
        return _after_action(request, deviation)
    return render(
        request,
        "deviations/transition.html",
        {"deviation": deviation, "transition": transition_, "form": form},
    )


@login_required
@require_POST
def assign(request, reference: str):
    deviation = _visible_deviation(request, reference)
    if request.POST.get("me"):
        assignee = request.user
    else:
        form = AssignForm(request.POST, users=selectors.assignable_users(deviation))
        if not form.is_valid():
            messages.error(request, _("Välj en ledamot i samrådet."))
            return redirect("deviations:detail", deviation.reference)
        assignee = form.cleaned_data["assignee"]
    try:
        assignment.assign_deviation(deviation=deviation, assignee=assignee, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Handläggaren är ändrad."))
    return redirect("deviations:detail", deviation.reference)


@login_required
@require_POST
def note(request, reference: str, visibility: str):
    deviation = _visible_deviation(request, reference)
    if visibility not in {"intern", "rapportor"}:
        raise Http404
    form = NoteForm(request.POST, prefix=visibility)
    if not form.is_valid():
        messages.error(request, _("Anteckningen får inte vara tom."))
        return redirect("deviations:detail", deviation.reference)
    try:
        notes.add_note(
            deviation=deviation,
            actor=request.user,
            text=form.cleaned_data["text"],
            visible_to_reporter=visibility == "rapportor",
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Anteckningen är sparad."))
    return redirect(reverse("deviations:detail", args=[deviation.reference]) + "#handelser")


@login_required
@require_POST
def cancel_response(request, reference: str, pk: int):
    deviation = _visible_deviation(request, reference)
    response_request = get_object_or_404(deviation.response_requests.all(), pk=pk)
    try:
        responses.cancel_response_request(response_request=response_request, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Begäran om yttrande är återkallad."))
    return redirect("deviations:detail", deviation.reference)


def _responses_section(deviation):
    return redirect(reverse("deviations:detail", args=[deviation.reference]) + "#yttranden")


@login_required
@require_POST
def extend_response(request, reference: str, pk: int):
    deviation = _visible_deviation(request, reference)
    response_request = get_object_or_404(deviation.response_requests.all(), pk=pk)
    form = ExtendDeadlineForm(request.POST, prefix=f"rr{pk}")
    if not form.is_valid():
        messages.error(request, _("Ange ett giltigt nytt svarsdatum."))
        return _responses_section(deviation)
    try:
        responses.extend_response_deadline(
            response_request=response_request, actor=request.user, due_on=form.cleaned_data["due_on"]
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Svarstiden är förlängd och organisationen har fått besked."))
    return _responses_section(deviation)


@login_required
@require_POST
def resend_response(request, reference: str, pk: int):
    deviation = _visible_deviation(request, reference)
    response_request = get_object_or_404(deviation.response_requests.all(), pk=pk)
    try:
        responses.resend_response_link(response_request=response_request, actor=request.user)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Länken är skickad igen."))
    return _responses_section(deviation)


@login_required
def my_response_requests(request):
    """A signed-in counterpart's list: the open requests to their organisation, with their answer links."""
    if not request.user.organization_id:
        raise Http404
    page = Paginator(selectors.open_requests_to_organization(request.user.organization_id), 25).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "deviations/my_response_requests.html",
        {
            "organization": request.user.organization,
            "page_obj": page,
            "rows": [(rr, make_token(rr)) for rr in page.object_list],
            "today": stockholm_today(),
        },
    )


# --- The counterpart's answer form (no login; a signed link) ---------------------------------------


def respond(request, token: str):
    pk = read_token(token)
    if pk is None:
        raise Http404
    response_request = selectors.response_request_for_answer(pk)
    if response_request is None:
        raise Http404
    if not response_request.is_answerable:
        return render(request, "deviations/respond_invalid.html", status=410)
    form = ResponseAnswerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            responses.record_response(
                response_request=response_request,
                answered_by_name=form.cleaned_data["answered_by_name"],
                what_happened=form.cleaned_data["what_happened"],
                actions=form.cleaned_data["actions"],
            )
        except responses.ResponseLinkInvalid:
            return render(request, "deviations/respond_invalid.html", status=410)
        # Redirect after the POST: reloading the receipt must not send the answer again.
        return redirect("deviations:respond_done", token)
    return render(
        request,
        "deviations/respond.html",
        {
            "response_request": response_request,
            "deviation": response_request.deviation,
            "form": form,
            "late": response_request.is_late(stockholm_today()),
        },
    )


def respond_done(request, token: str):
    """The receipt after answering, at its own address (same signed link). A request not answered yet
    goes back to its form."""
    pk = read_token(token)
    if pk is None:
        raise Http404
    response_request = get_object_or_404(ResponseRequest.objects.select_related("deviation"), pk=pk)
    if response_request.answered_at is None:
        return redirect("deviations:respond", token)
    return render(request, "deviations/respond_done.html", {"response_request": response_request})


# --- Systemic issues (regional coordinators) ------------------------------------------------------


def _require_regional(request):
    if not selectors.sees_whole_county(request.user):
        raise Http404


@login_required
def systemic_list(request):
    _require_regional(request)
    issues = selectors.systemic_issues()
    state = request.GET.get("state")
    if state in SystemicIssue.State.values:
        issues = issues.filter(state=state)
    return render(
        request,
        "deviations/systemic_list.html",
        {"issues": issues, "states": SystemicIssue.State.choices, "state": state},
    )


@login_required
def systemic_detail(request, pk: int):
    _require_regional(request)
    issue = get_object_or_404(selectors.systemic_issues(), pk=pk)
    return render(request, "deviations/systemic_detail.html", _systemic_context(request, issue))


def _systemic_context(request, issue, **forms):
    return {
        "issue": issue,
        "reports": selectors.reports_of_issue(issue, user=request.user),
        "actions": issue.actions.select_related("owner"),
        "link_form": forms.get("link_form") or LinkReportForm(visible_reports=None),
        "action_form": forms.get("action_form") or SystemicActionForm(),
        "resolve_form": forms.get("resolve_form") or ResolveIssueForm(initial={"outcome": issue.outcome}),
        "state_choices": SystemicAction.State.choices,
    }


@login_required
def systemic_edit(request, pk: int | None = None):
    _require_regional(request)
    issue = get_object_or_404(SystemicIssue, pk=pk) if pk else None
    form = SystemicIssueForm(request.POST or None, instance=issue)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        issue = systemic.save_systemic_issue(
            actor=request.user,
            issue=issue,
            title=data["title"],
            description=data["description"],
            agreements=data["agreements"],
            state=data["state"],
            outcome=data["outcome"],
        )
        messages.success(request, _("Systemfrågan är sparad."))
        return redirect("deviations:systemic_detail", issue.pk)
    return render(request, "deviations/systemic_form.html", {"form": form, "issue": issue})


@login_required
@require_POST
def systemic_link(request, pk: int):
    _require_regional(request)
    issue = get_object_or_404(SystemicIssue, pk=pk)
    form = LinkReportForm(request.POST, visible_reports=selectors.deviations_visible_to(request.user))
    if not form.is_valid():
        return render(
            request, "deviations/systemic_detail.html", _systemic_context(request, issue, link_form=form)
        )
    systemic.link_to_systemic_issue(issue=issue, deviation=form.deviation, actor=request.user)
    messages.success(request, _("Rapporten %(ref)s är kopplad.") % {"ref": form.deviation.reference})
    return redirect("deviations:systemic_detail", issue.pk)


@login_required
@require_POST
def systemic_unlink(request, pk: int, reference: str):
    _require_regional(request)
    issue = get_object_or_404(SystemicIssue, pk=pk)
    deviation = get_object_or_404(issue.deviations.all(), reference=reference)
    systemic.unlink_from_systemic_issue(deviation=deviation, actor=request.user)
    messages.success(request, _("Kopplingen är borttagen."))
    return redirect("deviations:systemic_detail", issue.pk)


@login_required
@require_POST
def systemic_action_add(request, pk: int):
    _require_regional(request)
    issue = get_object_or_404(SystemicIssue, pk=pk)
    form = SystemicActionForm(request.POST)
    if not form.is_valid():
        return render(
            request, "deviations/systemic_detail.html", _systemic_context(request, issue, action_form=form)
        )
    systemic.add_systemic_action(actor=request.user, issue=issue, **form.cleaned_data)
    messages.success(request, _("Åtgärden är sparad."))
    return redirect("deviations:systemic_detail", issue.pk)


@login_required
@require_POST
def systemic_action_state(request, pk: int, action_pk: int):
    _require_regional(request)
    action = get_object_or_404(SystemicAction, pk=action_pk, issue_id=pk)
    form = SystemicActionStateForm(request.POST)
    if form.is_valid():
        systemic.set_systemic_action_state(
            action=action, actor=request.user, state=form.cleaned_data["state"]
        )
        messages.success(request, _("Åtgärdens status är ändrad."))
    return redirect("deviations:systemic_detail", pk)


@login_required
@require_POST
def systemic_resolve(request, pk: int):
    _require_regional(request)
    issue = get_object_or_404(SystemicIssue, pk=pk)
    form = ResolveIssueForm(request.POST)
    if not form.is_valid():
        return render(
            request, "deviations/systemic_detail.html", _systemic_context(request, issue, resolve_form=form)
        )
    result = systemic.resolve_systemic_issue(issue=issue, actor=request.user, **form.cleaned_data)
    messages.success(
        request,
        ngettext(
            "Systemfrågan är löst. %(closed)d rapport avslutades, %(informed)d fick återkoppling.",
            "Systemfrågan är löst. %(closed)d rapporter avslutades, %(informed)d fick återkoppling.",
            result["closed"],
        )
        % result,
    )
    return redirect("deviations:systemic_detail", issue.pk)
