"""The accessibility statement, the personal data page and the cookie statement.

Their facts come from settings (the deploying organisation, retention periods), so the pages say what
this deployment does: the retention jobs read the same settings.
"""

from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from config import ratelimits
from config.errors import Invalid
from config.forms import add_service_errors

from . import services
from .forms import AccessibilityFeedbackForm

#: DIGG's complaint form (tillsyn under lag 2018:1937).
DIGG_COMPLAINT_URL = "https://www.digg.se/tdosanmalan"
#: The Swedish supervisory authority for data protection.
IMY_URL = "https://www.imy.se"


def organisation() -> dict:
    """The deploying organisation as the legal pages name it."""
    return {
        "name": settings.ORGANIZATION_NAME,
        "number": settings.ORGANIZATION_NUMBER,
        "address": settings.ORGANIZATION_ADDRESS,
        "email": settings.ORGANIZATION_EMAIL,
        "phone": settings.ORGANIZATION_PHONE,
        "dpo_email": settings.DPO_EMAIL,
        "dpo_phone": settings.DPO_PHONE,
    }


@require_http_methods(["GET", "POST"])
def accessibility(request):
    form = AccessibilityFeedbackForm(request.POST or None, initial={"page": request.GET.get("sida", "")})
    if request.method == "POST":
        ratelimits.limit(request, action="accessibility_feedback", email=request.POST.get("email", ""))
    if request.method == "POST" and form.is_valid():
        try:
            services.send_accessibility_feedback(**form.cleaned_data)
        except Invalid as error:
            add_service_errors(form, error)
        else:
            messages.success(
                request,
                _("Tack! Dina synpunkter är skickade till %(name)s.") % {"name": settings.ORGANIZATION_NAME},
            )
            return redirect(request.path)
    return render(
        request,
        "pages/accessibility.html",
        {
            "form": form,
            "organisation": organisation(),
            "feedback_email": settings.ACCESSIBILITY_EMAIL,
            "assessed_on": settings.ACCESSIBILITY_ASSESSED_ON,
            "updated_on": settings.ACCESSIBILITY_UPDATED_ON,
            "digg_complaint_url": DIGG_COMPLAINT_URL,
        },
        status=400 if form.is_bound else 200,
    )


def privacy(request):
    return render(
        request,
        "pages/privacy.html",
        {
            "organisation": organisation(),
            "contact_retention_months": settings.CONTACT_RETENTION_MONTHS,
            "unconfirmed_retention_days": settings.UNCONFIRMED_RETENTION_DAYS,
            "confirmation_max_age_hours": settings.CONFIRMATION_MAX_AGE_HOURS,
            "session_hours": settings.SESSION_COOKIE_AGE // 3600,
            "login_log_retention_days": settings.LOGIN_LOG_RETENTION_DAYS,
            "imy_url": IMY_URL,
        },
    )


def cookies(request):
    return render(
        request,
        "pages/cookies.html",
        {
            "session_cookie": settings.SESSION_COOKIE_NAME,
            "csrf_cookie": settings.CSRF_COOKIE_NAME,
            "language_cookie": settings.LANGUAGE_COOKIE_NAME,
            "saml_cookie": getattr(settings, "SAML_SESSION_COOKIE_NAME", "saml_session"),
            "session_hours": settings.SESSION_COOKIE_AGE // 3600,
            "expires_at_browser_close": settings.SESSION_EXPIRE_AT_BROWSER_CLOSE,
        },
    )
