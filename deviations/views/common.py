"""Pages shared by every role: the start page and a report's detail page."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from config.db import KEY_LOOKUP_PLANNER_SETTINGS, planner_settings
from config.render_cache import content_key
from deviations import queues, selectors
from deviations.dates import stockholm_today
from deviations.forms_triage import AssignForm, EraseContactForm, LinkToIssueForm, NoteForm, RedactForm
from deviations.models import DeviationEvent
from deviations.services.access import record_access
from deviations.workflow import HANDLERS, allowed_actions


def errors_as_messages(request, form) -> None:
    """A form posted from another page (the queue's, the detail page's): its errors as messages there."""
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def home(request):
    """Signed-in staff land on "Att göra" (what needs them, each a count and a link to the queue listing
    exactly that); everyone else on the public start page."""
    tiles = queues.start_page_tiles(request.user, today=stockholm_today())
    if not tiles:
        return render(request, "deviations/home.html")
    return render(
        request,
        "deviations/start_staff.html",
        {"tiles": tiles, "nothing_to_do": not any(tile.count for tile in tiles)},
    )


@login_required
def detail(request, reference: str):
    """A report's detail page. Reports outside the user's scope answer 404, so existence does not leak.

    Handlers (council members, regional coordinators) see everything and the actions the state machine
    allows them; reporters and counterpart responders see the report, status changes and what is
    marked visible to the reporter."""
    with planner_settings(KEY_LOOKUP_PLANNER_SETTINGS, savepoint=True):
        return render_detail(request, reference)


def render_detail(request, reference: str, **note_forms):
    """The detail page; ``note_forms`` (``internal_note_form``, ``reporter_note_form``) replace the
    empty note forms, e.g. to show a refused note with its error on the field."""
    visible = selectors.deviations_visible_to(request.user)
    # Joined: the relations every report has, and the district and handler most reports have
    # (selectors.REPORT_PAGE_RELATIONS; the page's prepared statement keeps its plan,
    # KEY_LOOKUP_PLANNER_SETTINGS). The rare ones (duplicate of, systemic issue) are read when the page
    # shows them, a query each only when set. (Before the page kept its plans, PostgreSQL planned a join
    # of twelve tables in ~6 ms of CPU; and prefetch_related's machinery for six relations cost ~3 ms of
    # Python even when none was set.)
    deviation = selectors.visible_report(request.user, reference)
    if deviation is None:
        raise Http404
    counterparts = selectors.report_counterparts(deviation)
    record_access(user=request.user, deviation=deviation)
    roles = selectors.roles_for(request.user, deviation)
    is_handler = bool(roles & HANDLERS)
    events = selectors.report_events(deviation)
    if not is_handler:
        events = [
            event
            for event in events
            if event.visibility == DeviationEvent.Visibility.REPORTER
            or event.kind == DeviationEvent.Kind.TRANSITION
        ]
    actions = allowed_actions(deviation.status, roles)
    context = {
        "deviation": deviation,
        "roles": roles,
        "is_handler": is_handler,
        "counterparts": counterparts,
        "events": events,
        "actions": actions,
        "direct_actions": [a for a in actions if a.form == "text" and not a.needs_text],
        "form_actions": [a for a in actions if a.form != "text" or a.needs_text],
        "reporter_visibility": DeviationEvent.Visibility.REPORTER,
    }
    if is_handler:
        factor_groups, factors = selectors.contributing_factor_groups(deviation)
        context.update(
            {
                "response_requests": selectors.report_response_requests(deviation),
                "today": stockholm_today(),
                "duplicates": selectors.report_duplicates(deviation),
                "similar": selectors.similar_deviations(
                    deviation, user=request.user, visible=visible, counterparts=counterparts
                ),
                "assign_form": AssignForm(
                    users=selectors.assignable_users(deviation),
                    users_digest=selectors.assignable_users_digest(deviation),
                    initial={"assignee": deviation.assigned_to_id},
                ),
                "may_redact": selectors.may_redact(request.user, deviation, roles=roles),
                "redact_form": RedactForm(texts=()),
                "erase_contact_form": EraseContactForm(),
                "factors": factors,
                "factor_groups": factor_groups,
                # The checkboxes' HTML is the same for every report with the same factors ticked.
                "factor_groups_key": content_key("report-factor-groups", factor_groups),
                "internal_note_form": NoteForm(prefix="intern"),
                # Regional level: group the report under a systemic issue from here.
                "systemic_form": LinkToIssueForm(
                    initial={"issue": deviation.systemic_issue_id}, agreement_pk=deviation.agreement_id
                )
                if selectors.sees_whole_county(request.user)
                else None,
                "reporter_note_form": NoteForm(prefix="rapportor"),
                **note_forms,
            }
        )
    return render(request, "deviations/detail.html", context)
