"""The reporter journey: start page, the report form, e-mail confirmation, the private status page and
"Mina rapporter". Reporters without an account are identified only by signed links."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from config import ratelimits
from config.errors import Conflict, Invalid
from config.forms import add_service_errors
from config.middleware import token_page
from deviations import selectors, tokens
from deviations.forms import ReportForm
from deviations.models import Deviation
from deviations.services import reporting
from deviations.services.transitions import site_language_text
from deviations.workflow import RejectReason, Status

#: Session key remembering the report just filed in this browser (for the "sent" page).
SESSION_KEY = "deviations_last_report"
TEMPLATES = "deviations/reporting/"


def report_start(request):
    return render(
        request,
        TEMPLATES + "start.html",
        {
            "bus_url": settings.BUS_URL,
            "response_days": settings.RESPONSE_DEADLINE_DAYS,
            "retention_months": settings.CONTACT_RETENTION_MONTHS,
        },
    )


@sensitive_post_parameters(*reporting.TEXT_FIELDS, "reporter_name", "reporter_email", "reporter_phone")
@require_http_methods(["GET", "POST"])
def report_form(request):
    user = request.user if request.user.is_authenticated else None
    if request.method == "POST":
        ratelimits.limit(request, action="report", email=request.POST.get("reporter_email", ""))
    form = ReportForm(request.POST or None, user=user)
    valid = request.method == "POST" and form.is_valid()
    if form.belongs_to_bus:
        # Nothing is stored; the reporter is sent to the BUS process (report_form.js says so at once).
        return render(request, TEMPLATES + "bus.html", {"bus_url": settings.BUS_URL})
    if valid:
        try:
            deviation, created = reporting.submit_deviation(
                data=form.checked_report or form.cleaned_data,
                idempotency_key=form.cleaned_data["idempotency_key"],
                reporter=user,
            )
        except Invalid as exc:
            add_service_errors(form, exc)
        else:
            if created or _submitted_by(deviation, user=user, email=form.cleaned_data["reporter_email"]):
                if not created:
                    messages.info(
                        request,
                        _(
                            "Du har redan skickat den här rapporten, så vi har inte tagit emot den en gång "
                            "till. Här är rapporten du skickade först."
                        ),
                    )
                if user is not None:
                    # The receipt of a signed-in reporter's report is found by its reference and their
                    # account: nothing to remember in the session (no session write per filing).
                    return redirect("deviations:report_receipt", deviation.reference)
                request.session[SESSION_KEY] = deviation.pk
            return redirect("deviations:report_sent")
    return render(request, TEMPLATES + "form.html", {"form": form})


def _submitted_by(deviation: Deviation, *, user, email: str) -> bool:
    """Whether a resubmitted idempotency key is this submitter's own (then the page may show it)."""
    if user is not None:
        return deviation.reporter_id == user.pk
    return deviation.reporter_id is None and deviation.reporter_email.lower() == email.lower()


@never_cache
@require_http_methods(["GET", "POST"])
def report_sent(request):
    """After submitting: "check your e-mail" (no account) or the receipt (signed in). A POST sends the
    confirmation link again (the mail did not arrive)."""
    deviation = (
        Deviation.objects.select_related("agreement", "category", "council")
        .filter(pk=request.session.get(SESSION_KEY))
        .first()
    )
    if deviation is None:
        return redirect("deviations:report_start")
    if request.method == "POST":
        if deviation.status == Status.UNCONFIRMED:
            ratelimits.limit(request, action="resend", email=deviation.reporter_email)
            reporting.resend_confirmation(deviation=deviation)
            messages.success(request, _("Vi har skickat en ny länk. Den gäller från nu."))
        return redirect("deviations:report_sent")
    return _sent_page(request, deviation)


@never_cache
@login_required
@require_http_methods(["GET"])
def report_receipt(request, reference: str):
    """The receipt of a report the signed-in user filed (where the form sends them after filing)."""
    deviation = (
        Deviation.objects.select_related("agreement", "category", "council")
        .filter(reference=reference, reporter=request.user)
        .first()
    )
    if deviation is None:
        raise Http404
    return _sent_page(request, deviation)


def _sent_page(request, deviation: Deviation):
    context = {
        "deviation": deviation,
        "confirmed": deviation.status != Status.UNCONFIRMED,
        "confirmation_hours": settings.CONFIRMATION_MAX_AGE_HOURS,
    }
    if context["confirmed"] and request.user.is_authenticated and deviation.reporter_id == request.user.pk:
        context["status_link"] = reverse("deviations:status", args=[tokens.status_token(deviation)])
    return render(request, TEMPLATES + "sent.html", context)


@token_page
@require_http_methods(["GET", "POST"])
def confirm(request, token: str):
    """The one-time link e-mailed to reporters without an account. GET shows what is confirmed (mail
    scanners that prefetch links change nothing); POST confirms. An expired link offers a new one."""
    reports = Deviation.objects.select_related("agreement", "category")
    try:
        key = tokens.read_confirmation_token(token)
    except tokens.ExpiredToken as expired:
        deviation = reports.filter(idempotency_key=expired.key).first()
        if deviation is not None and deviation.status != Status.UNCONFIRMED:
            # An old link tells no more than that: the status link is in the receipt.
            return _already_confirmed(request, deviation, with_status_link=False)
        return render(
            request,
            TEMPLATES + "link_expired.html",
            {"token": token, "can_resend": deviation is not None},
            status=400,
        )
    except tokens.InvalidToken:
        return render(request, TEMPLATES + "link_invalid.html", status=404)
    deviation = reports.filter(idempotency_key=key).first()
    if deviation is None:  # purged, or never existed
        return render(request, TEMPLATES + "link_invalid.html", status=404)
    if deviation.status != Status.UNCONFIRMED:
        return _already_confirmed(request, deviation)
    if request.method == "POST":
        ratelimits.limit(request, action="confirm", email=deviation.reporter_email)
        try:
            deviation = reporting.confirm_deviation(
                deviation=deviation,
                actor_label=site_language_text(gettext_noop("Rapportören (bekräftad via e-post)")),
            )
        except Conflict:  # confirmed by a concurrent request
            return _already_confirmed(request, deviation)
        messages.success(
            request,
            _(
                "Tack! Rapporten %(reference)s är bekräftad och skickad till samrådet. Ett kvitto med "
                "länken till den här sidan har skickats till din e-post."
            )
            % {"reference": deviation.reference},
        )
        return redirect("deviations:status", token=tokens.status_token(deviation))
    return render(request, TEMPLATES + "confirm.html", {"deviation": deviation})


@token_page
@require_POST
def resend_confirmation(request, token: str):
    """A new confirmation link, asked for from the page of an expired one. It goes to the address on
    the report, which the page does not show."""
    try:
        key = tokens.read_confirmation_token(token)
    except tokens.ExpiredToken as expired:
        key = expired.key
    except tokens.InvalidToken:
        return render(request, TEMPLATES + "link_invalid.html", status=404)
    deviation = Deviation.objects.filter(idempotency_key=key).first()
    if deviation is None:
        return render(request, TEMPLATES + "link_invalid.html", status=404)
    if deviation.status != Status.UNCONFIRMED:
        return _already_confirmed(request, deviation, with_status_link=False)
    ratelimits.limit(request, action="resend", email=deviation.reporter_email)
    reporting.resend_confirmation(deviation=deviation)
    return render(
        request, TEMPLATES + "link_resent.html", {"confirmation_hours": settings.CONFIRMATION_MAX_AGE_HOURS}
    )


def _already_confirmed(request, deviation, *, with_status_link: bool = True):
    context = {"deviation": deviation}
    token = tokens.status_token_for_confirmation_link(deviation) if with_status_link else None
    if token:
        context["status_link"] = reverse("deviations:status", args=[token])
    return render(request, TEMPLATES + "already_confirmed.html", context)


@token_page
def status(request, token: str):
    """The reporter's private status page: no login, reached only through the signed link."""
    try:
        key, version = tokens.read_status_token(token)
    except tokens.InvalidToken:
        return render(request, TEMPLATES + "link_invalid.html", status=404)
    deviation = selectors.deviation_for_status_link(key, version)
    if deviation is None:
        return render(request, TEMPLATES + "link_invalid.html", status=404)
    context = {
        "deviation": deviation,
        "events": selectors.reporter_visible_events(deviation),
        # The texts only to the signed-in reporter: the link alone may have been forwarded.
        "show_text": request.user.is_authenticated and deviation.reporter_id == request.user.pk,
    }
    if deviation.reject_reason == RejectReason.BELONGS_TO_BUS:
        context["bus_url"] = settings.BUS_URL
    return render(request, TEMPLATES + "status.html", context)


@login_required
def my_reports(request):
    page = Paginator(selectors.reports_of(request.user), 20).get_page(request.GET.get("page"))
    # Reporters follow their reports on the status page, which shows only what is meant for them.
    reports = [
        (deviation, reverse("deviations:status", args=[tokens.status_token(deviation)]))
        for deviation in page.object_list
    ]
    return render(request, TEMPLATES + "my_reports.html", {"page_obj": page, "rows": reports})
