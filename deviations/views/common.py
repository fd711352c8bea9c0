"""Pages shared by every role: the start page and a report's detail page."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render

from deviations import selectors, services


def home(request):
    return render(request, "deviations/home.html")


@login_required
def detail(request, reference: str):
    """A report's detail page. Reports outside the user's scope answer 404, so existence does not leak."""
    deviation = get_object_or_404(
        selectors.deviations_visible_to(request.user).select_related(
            "agreement",
            "commitment",
            "category",
            "municipality",
            "district",
            "council",
            "reporting_organization",
        ),
        reference=reference,
    )
    services.record_access(user=request.user, deviation=deviation)
    context = {
        "deviation": deviation,
        "counterparts": deviation.counterpart_organizations.all(),
        "events": deviation.events.select_related("actor").order_by("created_at", "id"),
    }
    return render(request, "deviations/detail.html", context)
