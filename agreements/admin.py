from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import (
    Agreement,
    Commitment,
    ContributingFactor,
    DeviationCategory,
    EmailDomain,
    FollowUpAnalysis,
    Organization,
)


class CommitmentInline(admin.TabularInline):
    model = Commitment
    extra = 0
    fields = ["number", "title", "description", "active"]


@admin.register(Agreement)
class AgreementAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "parties", "valid_from", "valid_to", "order", "active"]
    list_filter = ["active", "parties"]
    search_fields = ["code", "name", "short_name"]
    ordering = ["order", "name"]
    inlines = [CommitmentInline]


@admin.register(Commitment)
class CommitmentAdmin(admin.ModelAdmin):
    list_display = ["__str__", "agreement", "active"]
    list_filter = ["agreement", "active"]
    search_fields = ["title", "description", "agreement__code"]
    ordering = ["agreement__order", "number"]
    list_select_related = ["agreement"]
    autocomplete_fields = ["agreement"]


@admin.register(DeviationCategory)
class DeviationCategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "agreement_codes", "order", "active"]
    list_filter = ["active", "agreements"]
    search_fields = ["name", "help_text"]
    ordering = ["order", "name"]
    filter_horizontal = ["agreements"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("agreements")

    @admin.display(description=_("överenskommelser"))
    def agreement_codes(self, obj):
        return ", ".join(a.code for a in obj.agreements.all())


class SubFactorInline(admin.TabularInline):
    model = ContributingFactor
    fk_name = "parent"
    extra = 0
    fields = ["name", "help_text", "order", "active"]
    verbose_name = _("underfaktor")
    verbose_name_plural = _("underfaktorer")


@admin.register(ContributingFactor)
class ContributingFactorAdmin(admin.ModelAdmin):
    """The two-level taxonomy of contributing factors. Deactivate instead of deleting: reports keep the
    factors they were tagged with, and a main factor that is inactive hides its sub-factors."""

    list_display = ["__str__", "parent", "order", "active"]
    list_filter = ["active", ("parent", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "help_text", "parent__name"]
    ordering = ["parent__order", "parent__name", "order", "name"]
    list_select_related = ["parent"]
    inlines = [SubFactorInline]

    def get_inlines(self, request, obj):
        # Sub-factors are edited under their main factor; a sub-factor has none of its own.
        return self.inlines if obj is None or obj.parent_id is None else []


class EmailDomainInline(admin.TabularInline):
    model = EmailDomain
    extra = 1


@admin.register(Organization)
class OrganizationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "principal", "contact_email", "active"]
    list_filter = ["active", "kind", "principal_region", "principal_municipality"]
    search_fields = ["name", "email_domains__domain", "contact_email"]
    ordering = ["name"]
    list_select_related = ["principal_municipality", "principal_region"]
    autocomplete_fields = ["principal_municipality", "principal_region"]
    inlines = [EmailDomainInline]

    @admin.display(description=_("huvudman"))
    def principal(self, obj):
        return obj.principal


@admin.register(EmailDomain)
class EmailDomainAdmin(admin.ModelAdmin):
    list_display = ["domain", "organization"]
    list_filter = ["organization__kind"]
    search_fields = ["domain", "organization__name"]
    ordering = ["domain"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]


@admin.register(FollowUpAnalysis)
class FollowUpAnalysisAdmin(admin.ModelAdmin):
    """Versions of the regional council's analysis: written on the follow-up page, read-only here."""

    list_display = ["agreement", "period_start", "period_end", "scope_label", "author", "created_at"]
    list_filter = ["agreement", "council"]
    search_fields = ["summary", "analysis", "recommendations", "followup_areas"]
    date_hierarchy = "created_at"
    list_select_related = ["agreement", "author", "council", "municipality"]
    ordering = ["-created_at"]

    @admin.display(description=_("område"))
    def scope_label(self, obj):
        return obj.scope_label

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
