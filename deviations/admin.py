"""Admin for reports and their history. Built to stay fast with a million reports: no full counts, no
filters or widgets that list every report, and foreign keys through autocomplete or raw ids.

The admin is a client of the services like any view (STYLE.md): what the state machine owns (status,
council, assignee, systemic issue, duplicate link) and the texts are read-only here and change only
through admin actions that call the services (``apply_transition``, ``assignment``, ``systemic``,
``responses``), which check who may, write the report's events and send the notifications. The
classification a person may get wrong (agreement, category, place, date...) is corrected through
``services.corrections``, which records the change on the report. Reports are not added or deleted here,
events are view-only, and URL lookups are limited to the list filters (``config.admin_lookups``), so no
one probes the reporter's contact details or the texts through crafted changelist URLs.
"""

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.db import connections
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from config.admin_lookups import FilterLookupsOnlyMixin
from config.errors import ApplicationError
from councils.models import Council

from .models import (
    AccessLog,
    Deviation,
    DeviationEvent,
    FollowUpPending,
    FollowUpSummary,
    PendingNotification,
    ReferenceCounter,
    ResponseRequest,
    ResponseTemplate,
    SavedFilter,
    SystemicAction,
    SystemicIssue,
)
from .selectors import deviations_handled_by, sees_whole_county
from .services.assignment import assign_deviation
from .services.corrections import correct_report
from .services.responses import cancel_response_request
from .services.systemic import (
    add_systemic_action,
    save_systemic_issue,
    set_systemic_action_state,
    unlink_from_systemic_issue,
)
from .services.transitions import apply_transition

#: Reporter contact details. Only the handling council sees them (on the report's detail page); the admin
#: never shows them, not even to superusers, and never changes them (retention erases them).
CONTACT_FIELDS = ("reporter", "reporter_name", "reporter_email", "reporter_phone")


class HandledReportsMixin(FilterLookupsOnlyMixin):
    """Staff who are not superusers see only rows of reports their councils handle (the same scope as
    their work queue, ``selectors.deviations_handled_by``); URL lookups only on the list filters."""

    deviation_lookup = "deviation"

    def get_queryset(self, request):
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


class EventWhatMixin:
    @admin.display(description=_("händelse"))
    def what(self, event: DeviationEvent) -> str:
        """What happened, as the report's timeline says it ("Kontaktuppgifter raderade"), not the kind
        alone ("Text maskerad") nor the action's code (``erase_contact``)."""
        return event.action_label


class DeviationEventInline(EventWhatMixin, ReadOnlyAdminMixin, admin.TabularInline):
    model = DeviationEvent
    extra = 0
    fields = ["created_at", "what", "from_status", "to_status", "actor", "actor_label", "text"]
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


class RerouteForm(forms.Form):
    """The admin action's intermediate form: where to and why (like the report page's form)."""

    council = forms.ModelChoiceField(
        label=_("Flytta till samråd"),
        queryset=Council.objects.filter(active=True, level=Council.Level.LOCAL),
    )
    text = forms.CharField(label=_("Skäl"), widget=forms.Textarea(attrs={"rows": 3}), max_length=10_000)


def _each(modeladmin, request, queryset, apply, done_message):
    """Run ``apply(obj)`` (a service call) for every selected row in its own transaction; a refusal is
    a message naming the row, never a 500, and does not stop the others."""
    done = 0
    for obj in queryset:
        try:
            apply(obj)
        except ApplicationError as exc:
            modeladmin.message_user(request, f"{obj}: {exc.message}", messages.ERROR)
        else:
            done += 1
    if done:
        modeladmin.message_user(request, done_message(done), messages.SUCCESS)


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
    #: Only the classification (``services.corrections.CORRECTABLE_FIELDS``) is edited in the form.
    autocomplete_fields = [
        "agreement",
        "commitment",
        "category",
        "municipality",
        "district",
        "reporting_organization",
    ]
    readonly_fields = [
        "reference",
        "handling_link",
        "status",
        "reject_reason",
        "duplicate_of",
        "reported_on",
        "council",
        "counterpart_organizations",
        "description",
        "consequence",
        "actions_taken",
        "suggested_improvement",
        "assigned_to",
        "systemic_issue",
        "contributing_factors",
        "created_at",
        "submitted_at",
        "first_response_at",
        "closed_at",
        "updated_at",
        "contact_erased_at",
    ]
    inlines = [ResponseRequestInline, DeviationEventInline]
    actions = ["reroute", "unassign", "unlink_from_systemic_issue"]

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["reference", "handling_link", "status", "reject_reason", "duplicate_of"]}),
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
                        "severity",
                    ]
                },
            ),
            (
                _("Beskrivning"),
                {"fields": ["description", "consequence", "actions_taken", "suggested_improvement"]},
            ),
            (_("Handläggning"), {"fields": ["assigned_to", "systemic_issue", "contributing_factors"]}),
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

    @admin.display(description=_("Handläggning"))
    def handling_link(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("deviations:detail", args=[obj.reference]),
            _(
                "Status, handläggare, samråd och texter ändras på rapportens sida eller med åtgärderna "
                "i listan."
            ),
        )

    def has_add_permission(self, request):
        # Reports come in through the reporting form, which assigns the reference and writes the log.
        return False

    def has_delete_permission(self, request, obj=None):
        # The log protects them; retention erases contact details and purges unconfirmed drafts.
        return False

    def save_model(self, request, obj, form, change):
        """Only a correction of the classification is saved here, on the report's record."""
        correct_report(
            deviation=obj,
            actor=request.user,
            values={name: form.cleaned_data[name] for name in form.changed_data},
        )

    @admin.action(description=_("Flytta till annat lokalt samråd (med skäl)"), permissions=["change"])
    def reroute(self, request, queryset):
        """An intermediate page asks for the council and the reason, then ``apply_transition``."""
        form = RerouteForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            _each(
                self,
                request,
                queryset,
                lambda deviation: apply_transition(
                    deviation=deviation,
                    action="reroute",
                    actor=request.user,
                    text=form.cleaned_data["text"],
                    target_council=form.cleaned_data["council"],
                ),
                lambda n: ngettext("%(n)d rapport flyttad.", "%(n)d rapporter flyttade.", n) % {"n": n},
            )
            return None
        return TemplateResponse(
            request,
            "admin/deviations/deviation/reroute.html",
            {
                **self.admin_site.each_context(request),
                "title": _("Flytta till annat lokalt samråd"),
                "opts": self.model._meta,
                "queryset": queryset,
                "form": form,
                "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description=_("Ta bort tilldelad handläggare"), permissions=["change"])
    def unassign(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda deviation: assign_deviation(deviation=deviation, assignee=None, actor=request.user),
            lambda n: (
                ngettext(
                    "Tilldelningen borttagen från %(n)d rapport.",
                    "Tilldelningen borttagen från %(n)d rapporter.",
                    n,
                )
                % {"n": n}
            ),
        )

    @admin.action(description=_("Koppla bort från systemfråga"), permissions=["change"])
    def unlink_from_systemic_issue(self, request, queryset):
        _each(
            self,
            request,
            queryset,
            lambda deviation: unlink_from_systemic_issue(deviation=deviation, actor=request.user),
            lambda n: (
                ngettext(
                    "%(n)d rapport bortkopplad från sin systemfråga.",
                    "%(n)d rapporter bortkopplade från sina systemfrågor.",
                    n,
                )
                % {"n": n}
            ),
        )


@admin.register(DeviationEvent)
class DeviationEventAdmin(
    EventWhatMixin, HandledReportsMixin, ReferenceSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    reference_lookup = "deviation__reference"

    list_display = ["deviation", "created_at", "what", "from_status", "to_status", "actor"]
    list_filter = ["kind", "to_status"]
    readonly_fields = ["what"]
    search_fields = ["=deviation__reference"]
    search_help_text = _("Sök på rapportens hela referensnummer.")
    ordering = ["-created_at", "-id"]
    list_select_related = ["deviation", "actor"]
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    raw_id_fields = ["deviation"]


@admin.register(ResponseRequest)
class ResponseRequestAdmin(HandledReportsMixin, admin.ModelAdmin):
    """View-only but for withdrawing a request (``services.responses``): requests are made on the
    report's page, answered through the signed link."""

    paginator = EstimatedCountPaginator
    list_display = ["deviation", "organization", "requested_at", "due_on", "answered_at", "cancelled_at"]
    list_filter = ["organization__kind", "organization"]
    search_fields = ["=deviation__reference", "organization__name", "email"]
    ordering = ["-requested_at"]
    list_select_related = ["deviation", "organization"]
    show_full_result_count = False
    actions = ["cancel"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("Återkalla begäran om yttrande"), permissions=["change"])
    def cancel(self, request, queryset):
        _each(
            self,
            request,
            queryset.select_related("deviation", "organization"),
            lambda response_request: cancel_response_request(
                response_request=response_request, actor=request.user
            ),
            lambda n: ngettext("%(n)d begäran återkallad.", "%(n)d begäranden återkallade.", n) % {"n": n},
        )


class RegionalOnlyMixin(FilterLookupsOnlyMixin):
    """Systemic issues are the regional level's (``services.systemic``): staff who do not see the whole
    county only view them."""

    def _regional(self, request) -> bool:
        return sees_whole_county(request.user)

    def has_add_permission(self, request, *args):
        return self._regional(request) and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return self._regional(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class SystemicActionInline(ReadOnlyAdminMixin, admin.TabularInline):
    """Listed with the issue; added and moved on through their own admin (``SystemicActionAdmin``)."""

    model = SystemicAction
    extra = 0
    fields = ["description", "owner", "due_on", "state", "decided_on", "done_on"]
    readonly_fields = fields
    show_change_link = True


@admin.register(SystemicIssue)
class SystemicIssueAdmin(RegionalOnlyMixin, admin.ModelAdmin):
    list_display = ["title", "state", "created_by", "created_at", "resolved_at"]
    list_filter = ["state", "agreements"]
    search_fields = ["title", "description"]
    ordering = ["-created_at"]
    list_select_related = ["created_by"]
    filter_horizontal = ["agreements"]
    readonly_fields = ["created_by", "created_at", "updated_at", "resolved_at"]
    inlines = [SystemicActionInline]

    def save_model(self, request, obj, form, change):
        """Through ``services.systemic.save_systemic_issue`` (which stamps ``resolved_at``)."""
        if not change:
            obj.created_by = request.user
        data = form.cleaned_data
        save_systemic_issue(
            actor=request.user,
            issue=obj,
            title=data["title"],
            description=data["description"],
            agreements=data["agreements"],
            state=data["state"],
            outcome=data["outcome"],
        )


@admin.register(SystemicAction)
class SystemicActionAdmin(RegionalOnlyMixin, admin.ModelAdmin):
    """Added through ``services.systemic.add_systemic_action``; afterwards only its state moves on
    (``set_systemic_action_state``), as on the systemic issue's page."""

    list_display = ["__str__", "issue", "owner", "due_on", "state", "done_on"]
    list_filter = ["state"]
    search_fields = ["description", "issue__title", "owner__name"]
    ordering = ["due_on", "pk"]
    list_select_related = ["issue", "owner"]
    autocomplete_fields = ["issue", "owner"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["state", "decided_on", "done_on"]
        return ["issue", "description", "owner", "due_on", "decided_on", "done_on"]

    def save_model(self, request, obj, form, change):
        if change:
            set_systemic_action_state(action=obj, actor=request.user, state=form.cleaned_data["state"])
            return
        data = form.cleaned_data
        created = add_systemic_action(
            issue=data["issue"],
            actor=request.user,
            description=data["description"],
            owner=data["owner"],
            due_on=data["due_on"],
        )
        obj.pk, obj.decided_on = created.pk, created.decided_on


@admin.register(ReferenceCounter)
class ReferenceCounterAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """View-only: reference numbers are handed out by ``deviations.services.routing.next_reference``."""

    list_display = ["year", "last"]
    ordering = ["-year"]


@admin.register(FollowUpPending)
class FollowUpPendingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """View-only derived data: changes the services recorded for the follow-up summary that the worker has
    not yet added to it (``deviations.summary.fold``); empty but for the last few seconds while a worker
    runs."""

    list_display = ["agreement_pk", "basis", "month", "council_pk", "municipality_pk", "measure", "key", "n"]
    list_filter = ["basis", "measure"]


@admin.register(FollowUpSummary)
class FollowUpSummaryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """View-only derived data: kept by the services (``deviations.summary``), rebuilt with
    ``manage.py rebuild_followup_summary``."""

    list_display = [
        "agreement_pk",
        "basis",
        "month",
        "months",
        "council_pk",
        "municipality_pk",
        "measure",
        "key",
        "n",
    ]
    list_filter = ["basis", "months", "measure"]
    # The unique index's order: the list reads it instead of sorting the table.
    ordering = ["agreement_pk", "basis", "municipality_pk", "council_pk", "months", "month", "measure", "key"]
    show_full_result_count = False


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


@admin.register(SavedFilter)
class SavedFilterAdmin(admin.ModelAdmin):
    list_display = ["name", "queue", "owner", "council", "created_at"]
    list_filter = ["queue"]
    search_fields = ["name", "owner__username"]
    ordering = ["name", "pk"]
    list_select_related = ["owner", "council"]
    raw_id_fields = ["owner"]


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
