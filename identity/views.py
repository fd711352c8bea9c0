"""Login (password, then a code for users with two-step verification) and the two-step settings."""

import base64
import time

import django_otp
import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, get_user_model
from django.contrib.auth import login as auth_login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from config import ratelimits

from . import mfa, services, views_sso
from .forms import TokenForm

#: The user who gave the right password and still owes a code: {"user", "backend", "at"}.
PENDING_SESSION_KEY = "identity_pending_login"
#: Seconds between the password and the code before the password must be given again.
PENDING_MAX_AGE = 300


def safe_next(request) -> str:
    target = mfa.next_url(request)
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse(settings.LOGIN_REDIRECT_URL)


class LoginView(auth_views.LoginView):
    """Django's login form (django-axes counts failures), followed by the code step for users who
    have an authenticator app. Refuses passwords when ``LOCAL_LOGIN_ENABLED`` is off."""

    def get_context_data(self, **kwargs):
        # Federated logins return here; the language prefix also tells a refusal page the language.
        sso_next = self.get_redirect_url() or reverse(settings.LOGIN_REDIRECT_URL)
        return {
            **super().get_context_data(**kwargs),
            "local_login_enabled": settings.LOCAL_LOGIN_ENABLED,
            "identity_providers": views_sso.identity_providers(self.request, sso_next),
            "sso_next": sso_next,
        }

    def render_to_response(self, context, **response_kwargs):
        response = super().render_to_response(context, **response_kwargs)
        return views_sso.allow_forms_to_identity_providers(self.request, response)

    def post(self, request, *args, **kwargs):
        if not settings.LOCAL_LOGIN_ENABLED:
            return self.render_to_response(self.get_context_data(), status=403)
        if ratelimits.password_login_blocked(request):
            # The login page again, with the reason and the organisations' logins, which still work.
            return self.render_to_response(self.get_context_data(password_login_blocked=True), status=429)
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        # A password that was tried and refused (not a form sent with a field left empty).
        if all(form.data.get(field) for field in ("username", "password")):
            ratelimits.count_failed_login(self.request)
        return super().form_invalid(form)

    def form_valid(self, form):
        user = form.get_user()
        if not mfa.has_device(user):
            return super().form_valid(form)
        self.request.session[PENDING_SESSION_KEY] = {
            "user": user.pk,
            "backend": user.backend,
            "at": time.time(),
        }
        query = urlencode({REDIRECT_FIELD_NAME: self.get_redirect_url() or ""})
        return redirect(f"{reverse('identity:verify')}?{query}")


def _pending_user(request):
    pending = request.session.get(PENDING_SESSION_KEY)
    if not pending or time.time() - pending["at"] > PENDING_MAX_AGE:
        return None, None
    user = get_user_model().objects.filter(pk=pending["user"], is_active=True).first()
    return user, pending["backend"]


@require_http_methods(["GET", "POST"])
def verify(request):
    """Enter a code: the second step of a password login, or for a signed-in user whose session
    must be verified (superusers and staff)."""
    if request.user.is_authenticated:
        if mfa.is_verified(request):
            return redirect(safe_next(request))
        user, backend = request.user, None
    else:
        user, backend = _pending_user(request)
        if user is None:
            messages.info(
                request, _("Logga in igen: det tog för lång tid eller så har du inte angett lösenordet.")
            )
            return redirect("login")
    device = mfa.confirmed_device(user)
    if device is None:
        query = urlencode({REDIRECT_FIELD_NAME: safe_next(request)})
        return redirect(f"{reverse('identity:two_factor')}?{query}")
    form = TokenForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        if backend is not None:
            del request.session[PENDING_SESSION_KEY]
            auth_login(request, user, backend=backend)
        django_otp.login(request, device)
        return redirect(safe_next(request))
    return render(
        request,
        "identity/verify.html",
        {"form": form, "next": mfa.next_url(request)},
        status=400 if form.is_bound else 200,
    )


def qr_code_data_uri(text: str) -> str:
    """An SVG QR code as a data: URI for an <img> (allowed by the CSP's img-src; no PIL needed)."""
    svg = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2).to_string()
    return "data:image/svg+xml;base64," + base64.b64encode(svg).decode()


def manual_key(device) -> str:
    """The device's key in base32, in groups of four, for typing into an app without a camera."""
    key = base64.b32encode(device.bin_key).decode()
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request):
    """Two-step verification on the profile: set up an authenticator app (QR code or key, then a code
    proves it works), or see that it is on and turn it off."""
    device = mfa.confirmed_device(request.user)
    if device is not None:
        return render(
            request,
            "identity/two_factor.html",
            {"enabled": True, "form": TokenForm(device=device), "required": mfa.is_required(request.user)},
        )
    pending = services.pending_totp_device(user=request.user)
    form = TokenForm(request.POST or None, device=pending)
    if request.method == "POST" and form.is_valid():
        services.confirm_totp_device(device=pending)
        django_otp.login(request, pending)
        messages.success(
            request, _("Tvåstegsverifiering är påslagen. Nästa gång du loggar in frågar vi efter en kod.")
        )
        return redirect(safe_next(request) if mfa.next_url(request) else reverse("account:profile"))
    return render(
        request,
        "identity/two_factor.html",
        {
            "enabled": False,
            "form": form,
            "qr_code": qr_code_data_uri(pending.config_url),
            "manual_key": manual_key(pending),
            "required": mfa.is_required(request.user),
            "next": mfa.next_url(request),
        },
        status=400 if form.is_bound else 200,
    )


@login_required
@require_POST
def two_factor_disable(request):
    """Turn two-step verification off; a current code is needed. Superusers and staff are sent
    straight back to set up a new app (the middleware lets them nowhere else)."""
    device = mfa.confirmed_device(request.user)
    if device is None:
        return redirect("identity:two_factor")
    form = TokenForm(request.POST, device=device)
    if not form.is_valid():
        return render(
            request,
            "identity/two_factor.html",
            {"enabled": True, "form": form, "required": mfa.is_required(request.user)},
            status=400,
        )
    services.remove_totp_devices(user=request.user)
    messages.success(request, _("Tvåstegsverifiering är avstängd."))
    return redirect("identity:two_factor" if mfa.is_required(request.user) else "account:profile")
