"""Admin for reports and their history. Built to stay fast with a million reports: no full counts, no
filters or widgets that list every report, and foreign keys through autocomplete or raw ids.

Statuses change only through ``deviations.services.transitions.apply_transition`` (which writes the
event log), so the status and timestamps are read-only here, reports are not added in admin, and events
are view-only.
"""

from django.contrib import admin
from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _

from .models import (
    AccessLog,
    Deviation,
    DeviationEvent,
    PendingNotification,
    ReferenceCounter,
    ResponseRequest,
    ResponseTemplate,
    SystemicAction,
    SystemicIssue,
)

#: Reporter contact details. Only the handling council sees them (on the report's detail page); the admin
#: never shows them, not even to superusers, and never changes them (retention erases them).
CONTACT_FIELDS = ("reporter", "reporter_name", "reporter_email", "reporter_phone")


class HandledReportsMixin:
    """Staff who are not superusers see only rows of reports their councils handle (the same scope as
    their work queue, ``selectors.deviations_handled_by``)."""

    deviation_lookup = "deviation"

    def get_queryset(self, request):
        from .selectors import deviations_handled_by

        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        handled = deviations_handled_by(request.user).values("pk")
        lookup = "pk__in" if self.deviation_lookup == "self" else f"{self.deviation_lookup}__in"
        return qs.filter(**{lookup: handled})


class EstimatedCountPaginator(Paginator):
    """Counting every row of a big table is slow on PostgreSQL; an unfiltered list uses the planner's
    estimate instead (filtered lists count exactly)."""

    ESTIMATE_ABOVE = 100_000

    @cached_property
    def count(self):
        queryset = self.object_list
        connection = connections[queryset.db]
        if not queryset.query.where:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                    [queryset.model._meta.db_table],
                )
                row = cursor.fetchone()
            if row and row[0] > self.ESTIMATE_ABOVE:
                return row[0]
        return super().count


class ReferenceSearchMixin:
    """Search by the exact reference number, through the unique index (``=reference`` in
    ``search_fields`` would compare case-insensitively and scan the table)."""

    reference_lookup = "reference"

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip().upper()
        if not term:
            return queryset, False
        return queryset.filter(**{self.reference_lookup: term}), False


class ReadOnlyAdminMixin:
    """View-only: nobody adds, changes or deletes these rows in admin."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class DeviationEventInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = DeviationEvent
    extra = 0
    fields = ["created_at", "kind", "action", "from_status", "to_status", "actor", "actor_label", "text"]
    readonly_fields = fields
    ordering = ["created_at", "id"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")


class ResponseRequestInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = ResponseRequest
    extra = 0
    fields = ["organization", "email", "requested_at", "due_on", "answered_at", "cancelled_at"]
    readonly_fields = fields
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organization")


@admin.register(Deviation)
class DeviationAdmin(HandledReportsMixin, ReferenceSearchMixin, admin.ModelAdmin):
    deviation_lookup = "self"
    list_display = [
        "reference",
        "status",
        "agreement",
        "category",
        "council",
        "municipality",
        "reported_on",
        "created_at",
    ]
    list_filter = ["status", "agreement", "category", "council__level", "council"]
    search_fields = ["=reference"]
    search_help_text = _("Sök på hela referensnumret, t.ex. SB-2026-00042.")
    ordering = ["-created_at", "-id"]
    list_select_related = ["agreement", "category", "council", "municipality"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    list_per_page = 50
    autocomplete_fields = [
        "agreement",
        "commitment",
        "category",
        "municipality",
        "district",
        "council",
        "reporting_organization",
        "counterpart_organizations",
        "assigned_to",
        "systemic_issue",
    ]
    raw_id_fields = ["duplicate_of"]
    readonly_fields = [
        "reference",
        "status",
        "reject_reason",
        "created_at",
        "submitted_at",
        "first_response_at",
        "closed_at",
        "updated_at",
        "contact_erased_at",
    ]
    inlines = [ResponseRequestInline, DeviationEventInline]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["reference", "status", "reject_reason", "duplicate_of"]}),
            (
                _("Vad och var"),
                {
                    "fields": [
                        "agreement",
                        "commitment",
                        "category",
                        "occurred_on",
                        "reported_on",
                        "municipality",
                        "district",
                        "council",
                        "reporting_organization",
                        "counterpart_organizations",
                        "sip_involved",
                        "discharge_involved",
                    ]
                },
            ),
            (
                _("Beskrivning"),
                {"fields": ["description", "consequence", "actions_taken", "suggested_improvement"]},
            ),
            (_("Handläggning"), {"fields": ["assigned_to", "systemic_issue"]}),
            (
                _("Tidpunkter"),
                {
                    "fields": [
                        "created_at",
                        "submitted_at",
                        "first_response_at",
                        "closed_at",
                        "updated_at",
                        "contact_erased_at",
                    ]
                },
            ),
        ]
        return fieldsets

    def get_exclude(self, request, obj=None):
        return CONTACT_FIELDS

    def has_add_permission(self, request):
        # Reports come in through the reporting form, which assigns the reference and writes the log.
        return False


@admin.register(DeviationEvent)
class DeviationEventAdmin(HandledReportsMixin, ReferenceSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    reference_lookup = "deviation__reference"

    list_display = ["deviation", "created_at", "kind", "action", "from_status", "to_status", "actor"]
    list_filter = ["kind", "to_status"]
    search_fields = ["=deviation__reference"]
    search_help_text = _("Sök på rapportens hela referensnummer.")
    ordering = ["-created_at", "-id"]
    list_select_related = ["deviation", "actor"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    raw_id_fields = ["deviation"]


@admin.register(ResponseRequest)
class ResponseRequestAdmin(HandledReportsMixin, admin.ModelAdmin):
    paginator = EstimatedCountPaginator
    list_display = ["deviation", "organization", "requested_at", "due_on", "answered_at", "cancelled_at"]
    list_filter = ["organization__kind", "organization"]
    search_fields = ["=deviation__reference", "organization__name", "email"]
    ordering = ["-requested_at"]
    list_select_related = ["deviation", "organization"]
    show_full_result_count = False
    raw_id_fields = ["deviation"]
    autocomplete_fields = ["organization", "requested_by"]


class SystemicActionInline(admin.TabularInline):
    model = SystemicAction
    extra = 0
    fields = ["description", "owner", "due_on", "state", "decided_on", "done_on"]
    autocomplete_fields = ["owner"]


@admin.register(SystemicIssue)
class SystemicIssueAdmin(admin.ModelAdmin):
    list_display = ["title", "state", "created_by", "created_at", "resolved_at"]
    list_filter = ["state", "agreements"]
    search_fields = ["title", "description"]
    ordering = ["-created_at"]
    list_select_related = ["created_by"]
    filter_horizontal = ["agreements"]
    readonly_fields = ["created_by", "created_at", "updated_at"]
    inlines = [SystemicActionInline]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(SystemicAction)
class SystemicActionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "issue", "owner", "due_on", "state", "done_on"]
    list_filter = ["state"]
    search_fields = ["description", "issue__title", "owner__name"]
    ordering = ["due_on", "pk"]
    list_select_related = ["issue", "owner"]
    autocomplete_fields = ["issue", "owner"]


@admin.register(ReferenceCounter)
class ReferenceCounterAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """View-only: reference numbers are handed out by ``deviations.services.routing.next_reference``."""

    list_display = ["year", "last"]
    ordering = ["-year"]


@admin.register(AccessLog)
class AccessLogAdmin(HandledReportsMixin, admin.ModelAdmin):
    """Read-only: who opened which report and when. Rows are written by ``services.access.record_access``."""

    list_display = ["at", "user", "deviation"]
    list_filter = ["at", "deviation__council"]
    search_fields = ["deviation__reference", "user__username"]
    date_hierarchy = "at"
    list_select_related = ["user", "deviation"]
    list_per_page = 100
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ResponseTemplate)
class ResponseTemplateAdmin(admin.ModelAdmin):
    """Standard texts coordinators insert into requests, feedback and rejection reasons."""

    list_display = ["title", "purpose", "agreement", "category", "order", "active"]
    list_filter = ["purpose", "active", "agreement"]
    list_editable = ["order", "active"]
    search_fields = ["title", "text_sv", "text_en"]
    autocomplete_fields = ["agreement", "category"]
    list_select_related = ["agreement", "category"]
    fields = ["title", "purpose", "agreement", "category", "text_sv", "text_en", "order", "active"]


@admin.register(PendingNotification)
class PendingNotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What waits for the daily digests (and what went out in the last 30 days): view only."""

    list_display = ["user", "subject", "created_at", "sent_at"]
    list_filter = [("sent_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user"]
    search_fields = ["user__username", "subject"]
    ordering = ["-created_at", "-pk"]
