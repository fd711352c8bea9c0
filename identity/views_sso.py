"""Federated login pieces outside allauth's own views."""

from allauth.socialaccount.adapter import get_adapter
from django.contrib.auth.decorators import login_not_required
from django.urls import reverse

from .refusals import refuse


@login_not_required
def login_cancelled(request):
    return refuse(request, "cancelled")


@login_not_required
def login_error(request):
    return refuse(request, "error")


def identity_providers(request) -> list[dict]:
    """The login page's buttons: every configured OpenID Connect provider (admin or settings)."""
    return [
        {"name": app.name, "url": reverse("openid_connect_login", kwargs={"provider_id": app.provider_id})}
        for app in sorted(get_adapter().list_apps(request, provider="openid_connect"), key=lambda a: a.name)
    ]
