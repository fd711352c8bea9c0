"""Follow-up (uppföljning) per agreement: the page, the regional council's analysis, exports and the PDF.

Every view resolves the same GET selection (``FollowUpForm``) and calls the same selector; the page,
the CSV/XLSX files and the PDF are three renderings of one ``FollowUpStatistics``.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config.db_routing import replica_reads
from config.errors import Invalid
from config.forms import add_service_errors

from .. import charts, exports, selectors, services
from ..forms import AnalysisForm, FollowUpForm
from ..pdf import pdf_response


def _selection(request) -> FollowUpForm:
    """The bound selection form. Users with no follow-up scope at all get 404."""
    options = selectors.scope_options(request.user)
    if not options["county"] and not options["councils"]:
        raise Http404
    # Parameters left out of the query (e.g. a shared link naming only agreement and year) take the
    # same defaults as a page opened without parameters.
    data = request.GET.dict()
    if not {"agreement", "period_type", "year", "scope", "basis"} <= data.keys():
        data = {**FollowUpForm.initial_data(options=options), **data}
    return FollowUpForm(data, options=options)


def _statistics(form: FollowUpForm) -> selectors.FollowUpStatistics:
    data = form.cleaned_data
    return selectors.followup_statistics(
        agreement=data["agreement"],
        period=data["period"],
        scope=data["scope_obj"],
        basis=data["basis"],
        masked=not form.options["regional"],
    )


def chart_context(stats: selectors.FollowUpStatistics) -> dict:
    month_rows = [{**row, "short_label": dateformat.format(row["month"], "M Y")} for row in stats.by_month]
    return {
        "trend_chart": charts.column_chart(
            rows=month_rows,
            chart_id="chart-trend",
            title=_("Antal rapporter per månad"),
            description=_("Stapeldiagram. Samma siffror finns i tabellen Per månad."),
        ),
        "category_chart": charts.bar_chart(
            rows=stats.by_category,
            chart_id="chart-category",
            title=_("Antal rapporter per kategori"),
            description=_("Liggande stapeldiagram. Samma siffror finns i tabellen Per kategori."),
        ),
    }


def _page_context(request, form: FollowUpForm, analysis_form: AnalysisForm | None = None) -> dict:
    # Regional level (regional coordinators, superusers) = may write the analysis, sees unmasked figures.
    context = {"form": form, "may_write_analysis": form.options["regional"]}
    if form.is_valid():
        stats = _statistics(form)
        versions = selectors.analysis_versions(agreement=stats.agreement, period=stats.period)
        current = versions[0] if versions else None
        if context["may_write_analysis"] and analysis_form is None:
            analysis_form = AnalysisForm(
                initial={
                    "analysis": current.analysis if current else "",
                    "recommendations": current.recommendations if current else "",
                    "followup_areas": current.followup_areas if current else "",
                }
            )
        context.update(
            stats=stats,
            query_string=form.query_string(),
            analysis=current,
            analysis_versions=versions,
            analysis_form=analysis_form,
            **chart_context(stats),
        )
    return context


@login_required
@require_GET
@replica_reads
def followup(request):
    form = _selection(request)
    status = 200 if form.is_valid() else 400
    return render(request, "followup/followup.html", _page_context(request, form), status=status)


@login_required
@require_POST
def save_analysis(request):
    """Save a new version of the regional council's analysis for the selected agreement and period."""
    if not selectors.may_write_analysis(request.user):
        raise Http404
    form = _selection(request)
    if not form.is_valid():
        return render(request, "followup/followup.html", _page_context(request, form), status=400)
    analysis_form = AnalysisForm(request.POST)
    if analysis_form.is_valid():
        try:
            services.save_analysis(
                agreement=form.cleaned_data["agreement"],
                period=form.cleaned_data["period"],
                author=request.user,
                **analysis_form.cleaned_data,
            )
        except Invalid as exc:
            add_service_errors(analysis_form, exc)
    if analysis_form.errors:
        return render(
            request, "followup/followup.html", _page_context(request, form, analysis_form), status=400
        )
    messages.success(request, _("Analysen är sparad som en ny version."))
    return redirect(f"{reverse('followup:followup')}?{form.query_string()}#analys")


EXPORTS = {
    ("statistik", "csv"): lambda stats, qs: exports.statistics_csv(stats),
    ("statistik", "xlsx"): lambda stats, qs: exports.statistics_xlsx(stats),
    ("rapporter", "csv"): exports.reports_csv,
    ("rapporter", "xlsx"): exports.reports_xlsx,
}


@login_required
@require_GET
@replica_reads
def export(request, what: str, fmt: str):
    """Statistics or the underlying reports (no reporter contact data) as CSV or XLSX."""
    handler = EXPORTS.get((what, fmt))
    if handler is None:
        raise Http404
    form = _selection(request)
    if not form.is_valid():
        return render(request, "followup/followup.html", _page_context(request, form), status=400)
    data = form.cleaned_data
    if what == "rapporter":
        # The report rows need only the selection (for the file name), not the page's figures: the
        # statistics are a dozen aggregates over the period, seconds at a million reports.
        stats = selectors.FollowUpStatistics(
            agreement=data["agreement"],
            period=data["period"],
            scope=data["scope_obj"],
            basis=data["basis"],
            masked=not form.options["regional"],
            today=timezone.localdate(),
        )
    else:
        stats = _statistics(form)
    qs = selectors.followup_reports(
        agreement=data["agreement"], period=data["period"], scope=data["scope_obj"], basis=data["basis"]
    )
    return handler(stats, qs)


@login_required
@require_GET
@replica_reads
def document(request):
    """The follow-up document (PDF) for the selected agreement and period, rendered in the request."""
    form = _selection(request)
    if not form.is_valid():
        return render(request, "followup/followup.html", _page_context(request, form), status=400)
    context = _page_context(request, form)
    stats = context["stats"]
    context["sections"] = exports.statistics_sections(stats)
    return pdf_response(
        template="followup/followup_pdf.html",
        context=context,
        filename=exports.filename(stats, "dokument", "pdf"),
        request=request,
    )
