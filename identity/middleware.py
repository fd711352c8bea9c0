"""Send users who must use two-step verification to it before anything else."""

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode

from . import mfa

#: What an unverified user who must verify may still reach: verification and enrolment, signing out,
#: the language switch, the public information pages and the health check.
OPEN_NAMESPACES = frozenset({"identity", "pages"})
OPEN_URL_NAMES = frozenset({"login", "logout", "set_language", "healthz"})


class TwoFactorRequiredMiddleware:
    """After django-otp's ``OTPMiddleware``. A signed-in superuser or staff member whose session is
    not verified is redirected to enter a code (when they have an app) or to set one up (when they
    have none), and comes back afterwards."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if match is None or set(match.namespaces) & OPEN_NAMESPACES:
            return None
        if not match.namespaces and match.url_name in OPEN_URL_NAMES:
            return None
        user = request.user
        if not mfa.is_required(user) or mfa.is_verified(request):
            return None
        target = reverse("identity:verify" if mfa.has_device(user) else "identity:two_factor")
        return redirect(f"{target}?{urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})}")
