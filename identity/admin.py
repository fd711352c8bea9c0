"""Admins may see who has two-step verification and remove a lost app; never see or copy the key.

django-otp's own TOTP admin shows each device's secret key and its QR code, which would let an
administrator clone a user's second factor: it is replaced by a read-only list."""

import django_otp.plugins.otp_totp.admin  # noqa: F401  (registers first, so it can be replaced here)
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from .models import OrganizationIdentifier, SamlIdentity, SamlIdentityProvider

admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    list_display = ["user", "name", "confirmed", "created_at", "last_used_at"]
    list_filter = ["confirmed"]
    search_fields = ["user__username", "user__email"]
    fields = ["user", "name", "confirmed", "created_at", "last_used_at", "throttling_failure_count"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(OrganizationIdentifier)
class OrganizationIdentifierAdmin(admin.ModelAdmin):
    """Organisation numbers and HSA-ids that identity providers assert, so a federated login finds
    the user's organisation (identity/claims.py)."""

    list_display = ["value", "kind", "organization"]
    list_filter = ["kind"]
    search_fields = ["value", "organization__name"]
    autocomplete_fields = ["organization"]


@admin.register(SamlIdentityProvider)
class SamlIdentityProviderAdmin(admin.ModelAdmin):
    """SAML 2.0 identity providers from their metadata (identity/saml.py); those in settings come on top."""

    list_display = ["name", "entity_id", "active"]
    list_filter = ["active"]
    search_fields = ["name", "entity_id"]
    filter_horizontal = ["organizations"]
    fieldsets = [
        (None, {"fields": ["name", "entity_id", "active"]}),
        (
            _("Metadata och signatur"),
            {"fields": ["metadata_url", "metadata_signing_certificate", "metadata_xml"]},
        ),
        (
            _("Vem identitetsleverantören får logga in"),
            {"fields": ["email_domains", "organizations"]},
        ),
    ]


@admin.register(SamlIdentity)
class SamlIdentityAdmin(admin.ModelAdmin):
    """Which account each persistent NameID at a SAML IdP signs in. Made by the first login; an admin
    may remove one (e.g. when an e-mail address has passed to another person), never edit it."""

    list_display = ["user", "idp_entity_id", "created_at"]
    list_filter = ["idp_entity_id"]
    search_fields = ["user__username", "user__email"]
    fields = ["user", "idp_entity_id", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
