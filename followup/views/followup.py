"""Follow-up (uppföljning) per agreement: the page, the written analysis, the document (PDF, Word) and
the exports.

Every view resolves the same GET selection (``FollowUpForm``) and calls the same selector; the page,
the PDF and the Word file render one ``followup.document.Document`` built from one
``FollowUpStatistics``, and the CSV/XLSX files its tables.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import dateformat, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from config import spreadsheets
from config.db_routing import replica_reads
from config.errors import Invalid
from config.forms import add_service_errors
from config.render_cache import form_cache_key

from .. import charts, document, exports, selectors, services, word
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


def _analysis_forms(request, stats, form_data=None):
    """The analysis versions of the selection's scope, the current one, and the form for a new version
    when the user may write this scope's analysis."""
    versions = selectors.analysis_versions(agreement=stats.agreement, period=stats.period, scope=stats.scope)
    current = versions[0] if versions else None
    commitments = [row["commitment"] for row in stats.commitments if row["commitment"] is not None]
    analysis_form = None
    if selectors.may_write_analysis(request.user, stats.scope):
        analysis_form = AnalysisForm(
            form_data,
            commitments=commitments,
            initial=AnalysisForm.initial_from(
                current, commitments, proposed_hindering=document.proposed_hindering_factors(stats)
            ),
        )
    return versions, current, analysis_form


def _page_context(request, form: FollowUpForm, analysis_data=None) -> dict:
    # The two forms' HTML is cached under a key made of their whole content (config/render_cache.py):
    # crispy's templates cost a fifth of the page's CPU.
    context = {"form": form, "selection_cache_key": form_cache_key(form)}
    if form.is_valid():
        stats = _statistics(form)
        versions, current, analysis_form = _analysis_forms(request, stats, analysis_data)
        charts = chart_context(stats)
        context.update(
            stats=stats,
            query_string=form.query_string(),
            analysis=current,
            analysis_versions=versions,
            analysis_form=analysis_form,
            analysis_cache_key=form_cache_key(analysis_form) if analysis_form is not None else None,
            may_write_analysis=analysis_form is not None,
            document=document.build_document(stats, current, charts=charts),
            **charts,
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
    """Save a new version of the written analysis for the selected agreement, period and scope."""
    form = _selection(request)
    if not form.is_valid():
        if not selectors.sees_county(request.user):
            raise Http404
        return render(request, "followup/followup.html", _page_context(request, form), status=400)
    scope = form.cleaned_data["scope_obj"]
    if not selectors.may_write_analysis(request.user, scope):
        raise Http404
    context = _page_context(request, form, analysis_data=request.POST)
    analysis_form = context["analysis_form"]
    if not analysis_form.is_valid():
        return render(request, "followup/followup.html", context, status=400)
    try:
        services.save_analysis(
            agreement=form.cleaned_data["agreement"],
            period=form.cleaned_data["period"],
            scope=scope,
            author=request.user,
            **analysis_form.service_arguments(),
        )
    except Invalid as exc:
        add_service_errors(analysis_form, exc)
        return render(request, "followup/followup.html", context, status=400)
    messages.success(request, _("Analysen är sparad som en ny version."))
    return redirect(f"{reverse('followup:followup')}?{form.query_string()}#analys-form")


EXPORTS = {
    ("statistik", "csv"): lambda stats, qs, dialect: exports.statistics_csv(stats, dialect=dialect),
    ("statistik", "xlsx"): lambda stats, qs, dialect: exports.statistics_xlsx(stats),
    ("rapporter", "csv"): lambda stats, qs, dialect: exports.reports_csv(stats, qs, dialect=dialect),
    ("rapporter", "xlsx"): lambda stats, qs, dialect: exports.reports_xlsx(stats, qs),
}


@login_required
@require_GET
@replica_reads
def export(request, what: str, fmt: str):
    """Statistics or the underlying reports (no reporter contact data) as CSV or XLSX. CSV comes in the
    Swedish dialect (";" and decimal comma, what Excel with Swedish settings reads) unless
    ``dialect=int`` asks for the international one ("," and decimal point)."""
    handler = EXPORTS.get((what, fmt))
    if handler is None:
        raise Http404
    form = _selection(request)
    if not form.is_valid():
        return render(request, "followup/followup.html", _page_context(request, form), status=400)
    data = form.cleaned_data
    if what == "rapporter":
        # The report rows need only the selection (for the file name), not the page's figures.
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
    dialect = spreadsheets.INTERNATIONAL if request.GET.get("dialect") == "int" else spreadsheets.SWEDISH
    return handler(stats, qs, dialect)


def _document(request, form: FollowUpForm, *, charts: bool):
    stats = _statistics(form)
    _versions, current, _form = _analysis_forms(request, stats)
    return stats, document.build_document(stats, current, charts=chart_context(stats) if charts else None)


@login_required
@require_GET
@replica_reads
def document_pdf(request):
    """The follow-up document as a tagged PDF (PDF/UA), rendered in the request."""
    form = _selection(request)
    if not form.is_valid():
        return render(request, "followup/followup.html", _page_context(request, form), status=400)
    stats, doc = _document(request, form, charts=True)
    return pdf_response(
        template="followup/followup_pdf.html",
        context={"stats": stats, "document": doc},
        filename=exports.filename(stats, "dokument", "pdf"),
        request=request,
    )


@login_required
@require_GET
@replica_reads
def document_docx(request):
    """The same document as a Word file, to finish in Word: real headings, tables as Word tables."""
    form = _selection(request)
    if not form.is_valid():
        return render(request, "followup/followup.html", _page_context(request, form), status=400)
    stats, doc = _document(request, form, charts=False)
    return word.docx_response(doc, filename=exports.filename(stats, "dokument", "docx"))
