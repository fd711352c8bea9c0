"""Triage pages: transitions, assignment, notes, response requests and the public answer form, and
systemic issues (the queues are in ``views/queues.py``). Views translate HTTP to selector/service calls;
the rules live there."""

from functools import partial

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from config import ratelimits
from config.errors import ApplicationError, Invalid
from config.forms import add_service_errors
from config.middleware import token_page
from deviations import selectors
from deviations.dates import stockholm_today
from deviations.forms_triage import (
    AssignForm,
    ContactDetailsForm,
    EraseContactForm,
    ExtendDeadlineForm,
    FactorsForm,
    LinkReportForm,
    LinkToIssueForm,
    NoteForm,
    RedactForm,
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
from deviations.services import (
    assignment,
    contacts,
    factors,
    notes,
    redaction,
    responses,
    systemic,
    transitions,
)
from deviations.views.common import errors_as_messages, render_detail
from deviations.workflow import TRANSITIONS, allowed_actions

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
                requests = responses.request_response(
                    deviation=deviation,
                    organizations=data["organizations"],
                    actor=request.user,
                    message=data["message"],
                    due_on=data["due_on"],
                )
                done = _("Begäran om yttrande är skickad till %(organizations)s, svar senast %(due)s.") % {
                    "organizations": ", ".join(r.organization.name for r in requests),
                    "due": requests[0].due_on.isoformat(),
                }
            else:
                changed = transitions.apply_transition(
                    deviation=deviation,
                    action=action,
                    actor=request.user,
                    text=data["text"],
                    target_council=data.get("council"),
                    reject_reason=data.get("reason", ""),
                    duplicate_of=getattr(form, "duplicate_of", None),
                )
                done = _transition_done(transition_, changed)
        except ApplicationError as exc:
            if not exc.errors:
                messages.error(request, exc.message)
                return redirect("deviations:detail", deviation.reference)
            add_service_errors(form, exc)  # e.g. an identity number in the text, shown on its field
        else:
            messages.success(request, done)
            return _after_action(request, deviation)
    return render(
        request,
        "deviations/transition.html",
        {"deviation": deviation, "transition": transition_, "form": form},
    )


def _transition_done(transition_, deviation) -> str:
    """What a transition did, for the message after it: the report's new status, or its new council."""
    if transition_.action == "reroute":
        return _("Rapporten är flyttad till %(council)s.") % {"council": deviation.council}
    return _("%(action)s: rapporten har nu status ”%(status)s”.") % {
        "action": transition_.label,
        "status": deviation.get_status_display(),
    }


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
def set_factors(request, reference: str):
    """Tag the report with contributing factors (triage); the service decides who may."""
    deviation = _visible_deviation(request, reference)
    form = FactorsForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Välj bland faktorerna i listan."))
        return redirect("deviations:detail", deviation.reference)
    try:
        factors.set_contributing_factors(
            deviation=deviation, factors=form.cleaned_data["factors"], actor=request.user
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("De bidragande faktorerna är sparade."))
    return redirect(f"{reverse('deviations:detail', args=[deviation.reference])}#faktorer")


@login_required
@require_POST
def note(request, reference: str, visibility: str):
    deviation = _visible_deviation(request, reference)
    if visibility not in {"intern", "rapportor"}:
        raise Http404
    form = NoteForm(request.POST, prefix=visibility)
    # A refused note: the page again, the note kept in its form with the error on the field and in the
    # form's error summary, which takes the focus (app.js), so it is seen and announced.
    refused = partial(
        render_detail,
        request,
        deviation.reference,
        **{"internal_note_form" if visibility == "intern" else "reporter_note_form": form},
    )
    if not form.is_valid():
        return refused()
    try:
        notes.add_note(
            deviation=deviation,
            actor=request.user,
            text=form.cleaned_data["text"],
            visible_to_reporter=visibility == "rapportor",
        )
    except ApplicationError as exc:
        if exc.errors:
            add_service_errors(form, exc)
            return refused()
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


@login_required
def redact(request, reference: str):
    """GET: the form to remove a passage from the report's texts (every text, or one chosen). POST:
    remove it. Coordinators of the handling council and regional coordinators only; 404 for others."""
    deviation = _visible_deviation(request, reference)
    if not selectors.may_redact(request.user, deviation):
        raise Http404
    form = RedactForm(request.POST or None, texts=selectors.stored_texts(deviation))
    if request.method == "POST" and form.is_valid():
        try:
            redaction.redact_passage(deviation=deviation, actor=request.user, **form.cleaned_data)
        except Invalid as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Texten är borttagen och ersatt med en markering."))
            return redirect(reverse("deviations:detail", args=[deviation.reference]) + "#handelser")
    return render(request, "deviations/redact.html", {"deviation": deviation, "form": form})


@login_required
def erase_contact(request, reference: str):
    """GET: the form to erase the reporter's contact details before their retention. POST: erase them.
    Those who may redact only (404 for others); a report with nothing left to erase goes back to its
    page with a message."""
    deviation = _visible_deviation(request, reference)
    if not selectors.may_redact(request.user, deviation):
        raise Http404
    detail = reverse("deviations:detail", args=[deviation.reference])
    form = EraseContactForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _contact_change(
            request,
            form,
            lambda: contacts.erase_contact_details(
                deviation=deviation, actor=request.user, **form.cleaned_data
            ),
            done=_("Rapportörens kontaktuppgifter är raderade."),
            detail=detail,
        )
        if done:
            return done
    elif not deviation.has_contact_details:
        messages.info(request, _("Rapporten har inga kontaktuppgifter att radera."))
        return redirect(detail)
    return render(request, "deviations/erase_contact.html", {"deviation": deviation, "form": form})


@login_required
def correct_contact(request, reference: str):
    """GET: the reporter's contact details in a form. POST: correct them. Those who may redact only (404
    for others); erased details cannot be corrected (back to the report with a message)."""
    deviation = _visible_deviation(request, reference)
    if not selectors.may_redact(request.user, deviation):
        raise Http404
    detail = reverse("deviations:detail", args=[deviation.reference])
    if deviation.contact_erased_at is not None:
        messages.info(request, _("Kontaktuppgifterna är raderade och kan inte rättas."))
        return redirect(detail)
    form = ContactDetailsForm(request.POST or None, instance=deviation)
    if request.method == "POST" and form.is_valid():
        values = {name: form.cleaned_data[name] for name in form.Meta.fields}
        done = _contact_change(
            request,
            form,
            lambda: contacts.correct_contact_details(
                deviation=deviation, actor=request.user, reason=form.cleaned_data["reason"], **values
            ),
            done=lambda event: CORRECTED[event.details.get("status_link")],
            detail=detail,
        )
        if done:
            return done
    return render(request, "deviations/correct_contact.html", {"deviation": deviation, "form": form})


#: What the correction page says once done, by what became of the status link.
CORRECTED = {
    None: gettext_lazy("Rapportörens kontaktuppgifter är rättade."),
    "renewed": gettext_lazy(
        "Rapportörens kontaktuppgifter är rättade. En ny länk till rapportens status har skickats till "
        "rapportören; den tidigare länken gäller inte längre."
    ),
    "revoked": gettext_lazy(
        "Rapportörens kontaktuppgifter är rättade. Den tidigare länken till rapportens status gäller inte "
        "längre; det finns ingen adress att skicka en ny till."
    ),
}


def _contact_change(request, form, change, *, done, detail: str):
    """Run ``change()`` (a service call) for a valid ``form``: its refusals by field go on the form (None:
    the page shows it again); another refusal goes back to the report as a message; success to the
    report's history with ``done`` (a message, or a function of the change's event giving one)."""
    try:
        event = change()
    except Invalid as exc:
        add_service_errors(form, exc)
        return None
    except ApplicationError as exc:
        messages.error(request, exc.message)
        return redirect(detail)
    messages.success(request, done(event) if callable(done) else done)
    return redirect(detail + "#handelser")


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


#: The page for a link that was altered, cut short or names nothing (the same as the reporter's links).
LINK_INVALID = "deviations/reporting/link_invalid.html"


@token_page
def respond(request, token: str):
    pk = read_token(token)
    response_request = None if pk is None else selectors.response_request_for_answer(pk)
    if response_request is None:
        return render(request, LINK_INVALID, status=404)
    if not response_request.is_answerable:
        return render(request, "deviations/respond_invalid.html", status=410)
    if request.method == "POST":
        ratelimits.limit(request, action="respond", email=response_request.email)
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
        except Invalid as exc:
            add_service_errors(form, exc)
        else:
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


@token_page
def respond_done(request, token: str):
    """The receipt after answering, at its own address (same signed link). A request not answered yet
    goes back to its form."""
    pk = read_token(token)
    response_request = (
        None if pk is None else ResponseRequest.objects.select_related("deviation").filter(pk=pk).first()
    )
    if response_request is None:
        return render(request, LINK_INVALID, status=404)
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
    # "atgarder=forsenade": the issues with actions past their date (the start page's tile).
    overdue_only = request.GET.get("atgarder") == "forsenade"
    if overdue_only:
        issues = issues.filter(overdue_actions__gt=0)
    page = selectors.keyset_page(
        issues,
        sort="-created",
        after=request.GET.get("after"),
        before=request.GET.get("before"),
        size=selectors.SYSTEMIC_PAGE_SIZE,
    )
    keep = request.GET.copy()
    for name in ("after", "before"):
        keep.pop(name, None)
    return render(
        request,
        "deviations/systemic_list.html",
        {
            "issues": page,
            "page": page,
            "query_string": keep.urlencode(),
            "states": SystemicIssue.State.choices,
            "state": state,
            "overdue_only": overdue_only,
        },
    )


@login_required
def systemic_detail(request, pk: int):
    _require_regional(request)
    issue = get_object_or_404(selectors.systemic_issues(), pk=pk)
    return render(request, "deviations/systemic_detail.html", _systemic_context(request, issue))


def _systemic_context(request, issue, **forms):
    today = stockholm_today()
    actions = list(issue.actions.select_related("owner"))
    for action in actions:
        action.overdue = action.is_overdue(today)
    return {
        "issue": issue,
        "reports": selectors.reports_of_issue(issue, user=request.user),
        "actions": actions,
        "link_form": forms.get("link_form") or LinkReportForm(visible_reports=None),
        "action_form": forms.get("action_form") or SystemicActionForm(today=today),
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
        try:
            saved = systemic.save_systemic_issue(
                actor=request.user,
                issue=issue,
                title=data["title"],
                description=data["description"],
                agreements=data["agreements"],
                state=data["state"],
                outcome=data["outcome"],
            )
        except Invalid as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Systemfrågan är sparad."))
            return redirect("deviations:systemic_detail", saved.pk)
    return render(request, "deviations/systemic_form.html", {"form": form, "issue": issue})


def _link_or_confirm(request, *, issue, deviation, back: str):
    """Link ``deviation`` to ``issue``, or first ask to confirm what the link would change (a move
    from another issue, an agreement that is not the issue's)."""
    if deviation.systemic_issue_id == issue.pk:
        messages.info(request, _("Rapporten är redan kopplad till systemfrågan."))
        return redirect(back)
    warnings = systemic.link_warnings(issue=issue, deviation=deviation)
    if warnings and request.POST.get("confirm") != "1":
        return render(
            request,
            "deviations/systemic_link_confirm.html",
            {
                "issue": issue,
                "deviation": deviation,
                "warnings": warnings,
                "post": request.POST,
                "back": back,
            },
        )
    try:
        systemic.link_to_systemic_issue(issue=issue, deviation=deviation, actor=request.user, move=True)
    except ApplicationError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Rapporten %(ref)s är kopplad till ”%(title)s”.")
            % {"ref": deviation.reference, "title": issue.title},
        )
    return redirect(back)


@login_required
@require_POST
def systemic_link(request, pk: int):
    _require_regional(request)
    issue = get_object_or_404(SystemicIssue, pk=pk)
    form = LinkReportForm(
        request.POST,
        visible_reports=selectors.deviations_visible_to(request.user).select_related(
            "systemic_issue", "agreement"
        ),
    )
    if not form.is_valid():
        return render(
            request, "deviations/systemic_detail.html", _systemic_context(request, issue, link_form=form)
        )
    return _link_or_confirm(
        request,
        issue=issue,
        deviation=form.deviation,
        back=reverse("deviations:systemic_detail", args=[issue.pk]),
    )


@login_required
@require_POST
def report_systemic_link(request, reference: str):
    """Link the report to a systemic issue from its own detail page (regional level)."""
    _require_regional(request)
    deviation = get_object_or_404(
        selectors.deviations_visible_to(request.user).select_related("systemic_issue", "agreement"),
        reference=reference,
    )
    back = reverse("deviations:detail", args=[deviation.reference])
    form = LinkToIssueForm(request.POST)
    if not form.is_valid():
        errors_as_messages(request, form)
        return redirect(back)
    return _link_or_confirm(request, issue=form.cleaned_data["issue"], deviation=deviation, back=back)


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
    form = SystemicActionForm(request.POST, today=stockholm_today())
    if form.is_valid():
        try:
            systemic.add_systemic_action(actor=request.user, issue=issue, **form.cleaned_data)
        except Invalid as exc:
            add_service_errors(form, exc)
    if form.errors:
        return render(
            request, "deviations/systemic_detail.html", _systemic_context(request, issue, action_form=form)
        )
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
    result = None
    if form.is_valid():
        try:
            result = systemic.resolve_systemic_issue(issue=issue, actor=request.user, **form.cleaned_data)
        except Invalid as exc:
            add_service_errors(form, exc)
    if result is None:
        return render(
            request, "deviations/systemic_detail.html", _systemic_context(request, issue, resolve_form=form)
        )
    messages.success(
        request,
        ngettext(
            "Systemfrågan är löst. %(closed)d rapport avslutades, %(informed)d fick återkoppling.",
            "Systemfrågan är löst. %(closed)d rapporter avslutades, %(informed)d fick återkoppling.",
            result.closed,
        )
        % {"closed": result.closed, "informed": result.informed},
    )
    for reference, why in result.still_open:
        messages.warning(
            request,
            _("%(ref)s är fortfarande öppen och fick ingen återkoppling: %(why)s")
            % {"ref": reference, "why": why},
        )
    return redirect("deviations:systemic_detail", issue.pk)
