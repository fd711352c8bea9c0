"""Council meeting packs (mötesunderlag): a page and a PDF to send out before the meeting."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from config.db_routing import replica_reads

from .. import meeting_pack as packs
from ..forms import MeetingPackForm
from ..pdf import pdf_response


@login_required
@require_GET
def index(request):
    councils = packs.councils_for_packs(request.user).order_by("level", "name")
    return render(request, "followup/meeting_pack_index.html", {"councils": councils})


def _pack(request, pk: int):
    """Members of the council, regional coordinators and superusers only; everyone else gets 404."""
    council = get_object_or_404(packs.councils_for_packs(request.user), pk=pk)
    form = MeetingPackForm(request.GET or MeetingPackForm.initial_data())
    pack = None
    if form.is_valid():
        pack = packs.meeting_pack(
            council=council,
            meeting_date=form.cleaned_data["meeting_date"],
            previous_meeting=form.cleaned_data["previous_meeting"],
        )
    return council, form, pack


@login_required
@require_GET
@replica_reads
def meeting_pack(request, pk: int):
    council, form, pack = _pack(request, pk)
    return render(
        request,
        "followup/meeting_pack.html",
        {"council": council, "form": form, "pack": pack, "query_string": request.GET.urlencode()},
        status=200 if pack else 400,
    )


@login_required
@require_GET
@replica_reads
def meeting_pack_pdf(request, pk: int):
    council, form, pack = _pack(request, pk)
    if pack is None:
        return render(
            request,
            "followup/meeting_pack.html",
            {"council": council, "form": form, "pack": None},
            status=400,
        )
    return pdf_response(
        template="followup/meeting_pack_pdf.html",
        context={"council": council, "pack": pack},
        filename=f"motesunderlag-{council.pk}-{pack.meeting_date.isoformat()}.pdf",
        request=request,
    )
