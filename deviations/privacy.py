"""The register extract's sections for reports and their handling (``config.subject_access``).

Reports are found by the reporter's account or address; everything else by the account. A report the
person handled is named by its reference only: its reporter and texts are not the handler's data.
"""

from django.db.models import Case, Value, When
from django.utils.translation import gettext_lazy as _

from config.subject_access import rows_section

from .models import (
    AccessLog,
    Deviation,
    DeviationEvent,
    PendingNotification,
    ResponseRequest,
    SavedFilter,
    SystemicIssue,
)

# The address is compared case-insensitively over every report (no index: an operator's rare read).
rows_section(
    "reports_filed",
    Deviation.objects.order_by("created_at", "pk"),
    description=_(
        "Rapporter som kontot lämnade eller där adressen är rapportörens: referensnummer, status, datum, "
        "klassificering, kontaktuppgifterna (tills de raderats) och texterna som de lämnades eller "
        "maskerades."
    ),
    by_account=["reporter"],
    by_address=["reporter_email"],
    fields=[
        "reference",
        "status",
        "created_at",
        "submitted_at",
        "closed_at",
        "agreement__name",
        "category__name",
        "reporting_organization__name",
        "council__name",
        "reporter_name",
        "reporter_email",
        "reporter_phone",
        "contact_erased_at",
        "description",
        "consequence",
        "actions_taken",
        "suggested_improvement",
    ],
)
rows_section(
    "reports_assigned",
    Deviation.objects.order_by("created_at", "pk"),
    description=_("Rapporter som kontot är tilldelad handläggare för nu (referensnummer och status)."),
    by_account=["assigned_to"],
    fields=["reference", "status"],
)
rows_section(
    "report_events_by",
    DeviationEvent.objects.order_by("created_at", "pk"),
    description=_(
        "Vad kontot gjorde i rapporter, ur deras händelseloggar: när, vad, och kommentaren eller "
        "anteckningen det skrev."
    ),
    by_account=["actor"],
    fields=["deviation__reference", "created_at", "kind", "action", "text", "visibility"],
)
rows_section(
    "report_assignments",
    DeviationEvent.objects.order_by("created_at", "pk"),
    description=_(
        "Händelser som tilldelade kontot en rapport eller tog bort tilldelningen: när, och vilken."
    ),
    by_account=["from_assignee", "to_assignee"],
    fields=["deviation__reference", "created_at"],
    named=lambda subject: {
        "change": Case(
            When(to_assignee__in=subject.user_ids, then=Value("assigned")), default=Value("unassigned")
        )
    },
)
rows_section(
    "response_requests_sent",
    ResponseRequest.objects.order_by("requested_at", "pk"),
    description=_("Begäran om yttrande som kontot skickade: rapport, organisation, när."),
    by_account=["requested_by"],
    fields=["deviation__reference", "organization__name", "requested_at"],
)
rows_section(
    "response_requests_received",
    ResponseRequest.objects.order_by("requested_at", "pk"),
    description=_(
        "Begäran om yttrande som skickades till adressen: rapport, organisation, datum, och namnet som "
        "angavs i svaret."
    ),
    by_address=["email"],
    fields=[
        "deviation__reference",
        "organization__name",
        "email",
        "requested_at",
        "due_on",
        "answered_at",
        "answered_by_name",
    ],
)
rows_section(
    "digest_notifications",
    PendingNotification.objects.order_by("created_at", "pk"),
    description=_(
        "Aviseringar som sparats till kontots dagliga sammanfattning: ämne, länk, när, och när de skickades."
    ),
    by_account=["user"],
    fields=["subject", "link", "created_at", "sent_at"],
)
rows_section(
    "reports_viewed",
    AccessLog.objects.order_by("at", "pk"),
    description=_("Åtkomstloggen: vilka rapporter kontot öppnade, och när."),
    by_account=["user"],
    fields=["deviation__reference", "at"],
)
rows_section(
    "saved_filters",
    SavedFilter.objects.order_by("created_at", "pk"),
    description=_("Kontots sparade filter: namn, kö och filter."),
    by_account=["owner"],
    fields=["name", "queue", "query", "created_at"],
)
rows_section(
    "systemic_issues_created",
    SystemicIssue.objects.order_by("created_at", "pk"),
    description=_("Systemfrågor som kontot skapade: rubrik och när."),
    by_account=["created_by"],
    fields=["title", "created_at"],
)
