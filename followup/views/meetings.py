"""Council meetings: the list, recording a meeting (date, attendees, minutes), the minutes page with
the decisions taken at the meeting, and the meeting's pack (page and PDF). Members of the council,
regional coordinators and superusers read; the council's coordinators write."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from config.db_routing import replica_reads
from config.errors import ApplicationError, NotAllowed

from .. import meeting_pack as packs
from .. import services
from ..forms import CouncilMeetingForm, MeetingDecisionForm
from .meeting_pack import pack_pdf


def _council(request, pk: int):
    """A council whose meetings the user may read (404 otherwise, so existence does not leak)."""
    return get_object_or_404(packs.councils_for_packs(request.user), pk=pk)


def _meeting(request, pk: int, meeting_pk: int):
    council = _council(request, pk)
    meeting = get_object_or_404(packs.meetings_of(council), pk=meeting_pk)
    meeting.council = council
    return council, meeting


def _add_service_errors(form, error: ApplicationError) -> None:
    """A service's refusal on ``form``: its field errors on those fields, else its message on the form."""
    for field, message in error.errors.items() or [(None, error.message)]:
        form.add_error(field if field in form.fields else None, message)


def _minutes_page(request, council, meeting, *, form=None, status=200):
    """The minutes page; coordinators get the decisions form, its proposals from the meeting's pack."""
    may_keep = packs.may_keep_meetings(request.user, council)
    if may_keep and packs.meeting_held(meeting):
        pack = packs.pack_for_meeting(meeting)
        previous = pack.previous_meeting if pack.previous_recorded else None
        form = form or _decision_form(council, pack)
    else:
        previous = packs.previous_meeting_date(council, meeting.held_on)
    return render(
        request,
        "followup/meeting.html",
        {
            "council": council,
            "meeting": meeting,
            "may_keep": may_keep,
            "previous_meeting": previous,
            "decision_form": form,
        },
        status=status,
    )


@login_required
@require_GET
def meeting_list(request, pk: int):
    council = _council(request, pk)
    return render(
        request,
        "followup/meetings.html",
        {
            "council": council,
            "meetings": packs.meetings_of(council).select_related("created_by")[:200],
            "may_keep": packs.may_keep_meetings(request.user, council),
        },
    )


@login_required
def meeting_edit(request, pk: int, meeting_pk: int | None = None):
    """Record a meeting, or change one. Coordinators of the council only (404 for everyone else)."""
    if meeting_pk is None:
        council, meeting = _council(request, pk), None
    else:
        council, meeting = _meeting(request, pk, meeting_pk)
    if not packs.may_keep_meetings(request.user, council):
        raise Http404
    form = CouncilMeetingForm(request.POST or None, instance=meeting)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.save_meeting(
                actor=request.user, council=council, meeting=meeting, **form.cleaned_data
            )
        except ApplicationError as exc:
            _add_service_errors(form, exc)
        else:
            messages.success(request, _("Mötet är sparat."))
            return redirect("followup:meeting", council.pk, meeting.pk)
    return render(
        request,
        "followup/meeting_form.html",
        {"council": council, "meeting": meeting, "form": form},
        status=400 if form.errors else 200,
    )


def _decision_form(council, pack, data=None):
    proposed = [
        (
            d.reference,
            " · ".join((d.reference, group["category"], f"{d.reported_on:%Y-%m-%d}", d.get_status_display())),
        )
        for group in pack.proposed_escalations
        for d in group["reports"]
    ]
    return MeetingDecisionForm(data, actions=services.decision_actions(council), proposed=proposed)


@login_required
@require_GET
def meeting_detail(request, pk: int, meeting_pk: int):
    """The minutes page: the meeting, the decisions form (coordinators) and links to the pack."""
    council, meeting = _meeting(request, pk, meeting_pk)
    return _minutes_page(request, council, meeting)


@login_required
@require_POST
def meeting_decisions(request, pk: int, meeting_pk: int):
    """Apply the decisions taken at the meeting; each report's outcome is listed."""
    council, meeting = _meeting(request, pk, meeting_pk)
    if not packs.may_keep_meetings(request.user, council):
        raise Http404
    form = _decision_form(council, packs.pack_for_meeting(meeting), request.POST)
    if not form.is_valid():
        return _minutes_page(request, council, meeting, form=form, status=400)
    try:
        results = services.apply_meeting_decisions(
            meeting=meeting,
            actor=request.user,
            action=form.cleaned_data["action"],
            references=form.cleaned_data["chosen"],
            text=form.cleaned_data["text"],
        )
    except NotAllowed:
        raise
    except ApplicationError as exc:
        _add_service_errors(form, exc)
        return _minutes_page(request, council, meeting, form=form, status=exc.status)
    applied = [r.reference for r in results if r.applied]
    label = services.decision_actions(council)[form.cleaned_data["action"]]
    if applied:
        messages.success(
            request,
            ngettext(
                "%(action)s: %(n)d rapport (%(refs)s).",
                "%(action)s: %(n)d rapporter (%(refs)s).",
                len(applied),
            )
            % {"action": label, "n": len(applied), "refs": ", ".join(applied)},
        )
    for result in results:
        if not result.applied:
            messages.error(
                request,
                _("%(ref)s: inte utfört. %(reason)s") % {"ref": result.reference, "reason": result.message},
            )
    return redirect("followup:meeting", council.pk, meeting.pk)


@login_required
@require_GET
@replica_reads
def meeting_pack_page(request, pk: int, meeting_pk: int):
    council, meeting = _meeting(request, pk, meeting_pk)
    return render(
        request,
        "followup/meeting_pack_for_meeting.html",
        {"council": council, "meeting": meeting, "pack": packs.pack_for_meeting(meeting)},
    )


@login_required
@require_GET
@replica_reads
def meeting_pack_pdf(request, pk: int, meeting_pk: int):
    _council_, meeting = _meeting(request, pk, meeting_pk)
    return pack_pdf(request, packs.pack_for_meeting(meeting))
