"""The admin site: staff only (as Django's), and only in a session with two-step verification."""

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.urls import reverse

from . import mfa


class AdminSite(admin.AdminSite):
    def has_permission(self, request):
        return super().has_permission(request) and mfa.is_verified(request)

    def login(self, request, extra_context=None):
        """One login for the whole service: the site's login page (password and code, or an identity
        provider), then back to the admin."""
        return redirect_to_login(request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index"))
