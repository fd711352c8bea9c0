"""Two-step verification policy: who must use it and whether this session has it.

A session is *verified* when the user entered a code from a confirmed TOTP device in it (django-otp
keeps the device id in the session, ``OTPMiddleware`` sets ``request.user.is_verified()``), or when
the user signed in through an identity provider that asserted a multi-factor assurance level
(``mark_verified_by_idp``, called by the federated login).
"""

from django.contrib.auth import REDIRECT_FIELD_NAME
from django_otp import user_has_device
from django_otp.plugins.otp_totp.models import TOTPDevice

#: Session key set when an identity provider vouched for multi-factor authentication.
IDP_MFA_SESSION_KEY = "identity_mfa_by_idp"


def is_required(user) -> bool:
    """Mandatory for superusers and staff (everyone who may enter the admin); optional for the rest."""
    return user.is_authenticated and (user.is_superuser or user.is_staff)


def is_verified(request) -> bool:
    user = request.user
    if not user.is_authenticated:
        return False
    if getattr(user, "is_verified", None) and user.is_verified():
        return True
    return bool(request.session.get(IDP_MFA_SESSION_KEY))


def mark_verified_by_idp(request) -> None:
    request.session[IDP_MFA_SESSION_KEY] = True


def has_device(user) -> bool:
    return user_has_device(user, confirmed=True)


def confirmed_device(user) -> TOTPDevice | None:
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def next_url(request) -> str:
    return request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME) or ""
