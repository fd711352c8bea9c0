"""Deviation reports (samverkansbrister), their immutable event log, response requests to
counterpart organisations (yttranden) and systemic issues (systemfrågor)."""

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from . import search
from .workflow import RejectReason, Status


class YesNoUnknown(models.TextChoices):
    YES = "yes", _("Ja")
    NO = "no", _("Nej")
    UNKNOWN = "unknown", _("Vet inte")


class ReferenceCounter(models.Model):
    """The last reference number handed out per year; incremented under a row lock."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("referensräknare")
        verbose_name_plural = pgettext_lazy("plural", "referensräknare")

    def __str__(self):
        return f"{self.year}: {self.last}"


class SystemicIssue(models.Model):
    """A systemic issue (systemfråga): related reports grouped for a decision at regional level."""

    class State(models.TextChoices):
        OPEN = "open", _("Öppen")
        IN_PROGRESS = "in_progress", _("Pågår")
        RESOLVED = "resolved", _("Löst")

    title = models.CharField(_("rubrik"), max_length=200)
    description = models.TextField(_("beskrivning"))
    agreements = models.ManyToManyField(
        "agreements.Agreement", related_name="systemic_issues", verbose_name=_("överenskommelser")
    )
    state = models.CharField(
        _("status"), max_length=12, choices=State.choices, default=State.OPEN, db_index=True
    )
    outcome = models.TextField(_("resultat"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("skapad av")
    )
    created_at = models.DateTimeField(_("skapad"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("uppdaterad"), auto_now=True)
    resolved_at = models.DateTimeField(_("löst"), null=True, blank=True)

    class Meta:
        verbose_name = _("systemfråga")
        verbose_name_plural = _("systemfrågor")
        ordering = ["-created_at"]

    def __str__(self):
        return self.title


class SystemicAction(models.Model):
    """An action decided for a systemic issue, owned by an organisation, with a due date."""

    class State(models.TextChoices):
        PLANNED = "planned", _("Planerad")
        IN_PROGRESS = "in_progress", _("Pågår")
        DONE = "done", _("Genomförd")

    issue = models.ForeignKey(
        SystemicIssue, on_delete=models.CASCADE, related_name="actions", verbose_name=_("systemfråga")
    )
    description = models.TextField(_("åtgärd"))
    owner = models.ForeignKey(
        "agreements.Organization",
        on_delete=models.PROTECT,
        related_name="systemic_actions",
        verbose_name=_("ansvarig"),
    )
    due_on = models.DateField(_("klart senast"))
    state = models.CharField(_("status"), max_length=12, choices=State.choices, default=State.PLANNED)
    decided_on = models.DateField(_("beslutad"), default=timezone.localdate)
    done_on = models.DateField(_("genomförd"), null=True, blank=True)

    class Meta:
        verbose_name = _("beslutad åtgärd")
        verbose_name_plural = _("beslutade åtgärder")
        ordering = ["due_on", "pk"]

    def __str__(self):
        return self.description[:80]


#: Columns the follow-up (agreements/selectors.followup_statistics) reads from an agreement's reports
#: in a period, carried in the period indexes so those reads never touch the table.
FOLLOWUP_COLUMNS = [
    "id",
    "status",
    "category",
    "commitment",
    "council",
    "municipality",
    "reporting_organization",
    "systemic_issue",
    "sip_involved",
    "discharge_involved",
    "submitted_at",
    "first_response_at",
    "closed_at",
]


class DeviationManager(models.Manager):
    def get_queryset(self):
        # The search document is for the database's searches only: a page never reads it.
        return super().get_queryset().defer("search_document")


class Deviation(models.Model):
    """One reported collaboration deviation. Never identifies the person it concerns."""

    reference = models.CharField(_("referensnummer"), max_length=20, unique=True, editable=False)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default=Status.UNCONFIRMED)

    agreement = models.ForeignKey(
        "agreements.Agreement",
        on_delete=models.PROTECT,
        db_index=False,  # deviation_agr_reported_idx starts with it
        related_name="deviations",
        verbose_name=_("överenskommelse"),
    )
    commitment = models.ForeignKey(
        "agreements.Commitment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deviations",
        verbose_name=_("åtagande"),
    )
    category = models.ForeignKey(
        "agreements.DeviationCategory",
        on_delete=models.PROTECT,
        db_index=False,  # deviation_cat_occurred_idx starts with it
        related_name="deviations",
        verbose_name=_("kategori"),
    )
    occurred_on = models.DateField(_("datum då bristen inträffade"))
    reported_on = models.DateField(
        _("rapporteringsdatum"),
        default=timezone.localdate,
        help_text=_("Datum (svensk tid) då rapporten lämnades."),
    )
    municipality = models.ForeignKey(
        "councils.Municipality", on_delete=models.PROTECT, related_name="deviations", verbose_name=_("kommun")
    )
    district = models.ForeignKey(
        "councils.District",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deviations",
        verbose_name=_("stadsdel"),
    )
    council = models.ForeignKey(
        "councils.Council",
        on_delete=models.PROTECT,
        db_index=False,  # deviation_council_status_idx starts with it
        null=True,
        blank=True,
        related_name="deviations",
        verbose_name=_("samråd"),
        help_text=_("Samrådet som handlägger rapporten; sätts vid routning."),
    )
    reporting_organization = models.ForeignKey(
        "agreements.Organization",
        on_delete=models.PROTECT,
        related_name="reported_deviations",
        verbose_name=_("rapporterande organisation"),
    )
    counterpart_organizations = models.ManyToManyField(
        "agreements.Organization", related_name="counterpart_deviations", verbose_name=_("motpart(er)")
    )

    description = models.TextField(_("vad hände"))
    consequence = models.TextField(_("konsekvens för individen"))
    actions_taken = models.TextField(_("åtgärder som redan vidtagits"), blank=True)
    suggested_improvement = models.TextField(_("förslag till förbättring"), blank=True)
    sip_involved = models.CharField(
        _("gällde det en SIP"), max_length=8, choices=YesNoUnknown.choices, default=YesNoUnknown.UNKNOWN
    )
    discharge_involved = models.CharField(
        _("gällde det utskrivning från slutenvård"),
        max_length=8,
        choices=YesNoUnknown.choices,
        default=YesNoUnknown.UNKNOWN,
    )

    # Reporter contact: only for feedback, erased after the retention period.
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reported_deviations",
        verbose_name=_("rapportör (konto)"),
    )
    reporter_name = models.CharField(_("rapportörens namn"), max_length=150, blank=True)
    reporter_email = models.EmailField(_("rapportörens e-post"), blank=True)
    reporter_phone = models.CharField(_("rapportörens telefon"), max_length=40, blank=True)
    contact_erased_at = models.DateTimeField(_("kontaktuppgifter raderade"), null=True, blank=True)

    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        db_index=False,  # deviation_assignee_idx starts with it
        null=True,
        blank=True,
        related_name="assigned_deviations",
        verbose_name=_("handläggare"),
    )
    systemic_issue = models.ForeignKey(
        SystemicIssue,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="deviations",
        verbose_name=_("systemfråga"),
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("dubblett av"),
    )
    reject_reason = models.CharField(
        _("avvisningsorsak"), max_length=20, choices=RejectReason.choices, blank=True
    )

    # Double clicks and resubmits carry the same key and create one report.
    idempotency_key = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)

    created_at = models.DateTimeField(_("skapad"), default=timezone.now, editable=False)
    submitted_at = models.DateTimeField(_("inkommen"), null=True, blank=True, editable=False)
    first_response_at = models.DateTimeField(_("första åtgärd"), null=True, blank=True, editable=False)
    updated_at = models.DateTimeField(_("uppdaterad"), auto_now=True)
    closed_at = models.DateTimeField(_("avslutad"), null=True, blank=True, editable=False)
    # The texts as a Swedish tsvector, kept by PostgreSQL (deviations/search.py); never loaded by default.
    search_document = models.GeneratedField(
        expression=search.document(), output_field=SearchVectorField(), db_persist=True, editable=False
    )

    objects = DeviationManager()

    class Meta:
        verbose_name = _("samverkansbrist")
        verbose_name_plural = _("samverkansbrister")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(occurred_on__lte=models.F("reported_on")),
                name="deviation_occurred_not_after_reported",
                violation_error_message=_(
                    "Datumet då bristen inträffade kan inte ligga efter rapporteringsdatumet."
                ),
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="deviation_status_valid"
            ),
            models.CheckConstraint(
                condition=models.Q(closed_at__isnull=True) | models.Q(closed_at__gte=models.F("created_at")),
                name="deviation_closed_after_created",
            ),
        ]
        indexes = [
            # Queues: newest first, by status and council; keyset pagination on (created_at, id).
            models.Index(fields=["-created_at", "-id"], name="deviation_created_idx"),
            models.Index(fields=["status", "-created_at", "-id"], name="deviation_status_created_idx"),
            models.Index(
                fields=["council", "status", "-created_at", "-id"], name="deviation_council_status_idx"
            ),
            # Follow-up: an agreement over a period, by reported or occurred date. Covering: the
            # follow-up's passes over a period read only these index entries (index-only scans), not
            # the ~8,000 table pages an agreement-year of a million reports is spread over
            # (agreements/selectors.py; PostgreSQL only, other databases ignore ``include``).
            models.Index(
                fields=["agreement", "reported_on"],
                include=FOLLOWUP_COLUMNS,
                name="deviation_agr_reported_idx",
            ),
            models.Index(
                fields=["agreement", "occurred_on"],
                include=FOLLOWUP_COLUMNS,
                name="deviation_agr_occurred_idx",
            ),
            # Similar reports: the nearest occurrences in the same category (selectors.similar_deviations).
            models.Index(fields=["category", "occurred_on"], name="deviation_cat_occurred_idx"),
            models.Index(fields=["assigned_to", "status"], name="deviation_assignee_idx"),
            # Search: the texts (search.py); category and commitment are matched by id.
            GinIndex(fields=["search_document"], name="deviation_search_idx"),
        ]

    def __str__(self):
        return self.reference

    def clean(self):
        errors = {}
        if self.occurred_on and self.reported_on and self.occurred_on > self.reported_on:
            errors["occurred_on"] = _("Datumet kan inte ligga i framtiden.")
        if (
            self.district_id
            and self.municipality_id
            and self.district.municipality_id != self.municipality_id
        ):
            errors["district"] = _("Stadsdelen hör inte till den valda kommunen.")
        if self.commitment_id and self.agreement_id and self.commitment.agreement_id != self.agreement_id:
            errors["commitment"] = _("Åtagandet hör inte till den valda överenskommelsen.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self) -> bool:
        from .workflow import OPEN_STATES

        return self.status in OPEN_STATES


class DeviationEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Deviation events are immutable.")

    def delete(self):
        raise TypeError("Deviation events are immutable.")


class DeviationEvent(models.Model):
    """An immutable log row: every transition, note, response and assignment of a report."""

    class Kind(models.TextChoices):
        TRANSITION = "transition", _("Statusändring")
        NOTE = "note", _("Anteckning")
        ASSIGNMENT = "assignment", _("Tilldelning")
        RESPONSE_REQUESTED = "response_requested", _("Yttrande begärt")
        RESPONSE_RECEIVED = "response_received", _("Yttrande inkommet")
        RESPONSE_OVERDUE = "response_overdue", _("Yttrande försenat")
        LINKED = "linked", _("Kopplad till systemfråga")
        FEEDBACK = "feedback", _("Återkoppling")

    class Visibility(models.TextChoices):
        INTERNAL = "internal", _("Intern")
        REPORTER = "reporter", _("Synlig för rapportören")

    deviation = models.ForeignKey(
        Deviation, on_delete=models.PROTECT, related_name="events", verbose_name=_("rapport")
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("utförd av"),
    )
    actor_label = models.CharField(
        _("utförd av (beskrivning)"),
        max_length=200,
        blank=True,
        help_text=_("För händelser utan inloggad användare."),
    )
    created_at = models.DateTimeField(_("tidpunkt"), default=timezone.now, editable=False)
    kind = models.CharField(_("typ"), max_length=20, choices=Kind.choices)
    action = models.CharField(_("åtgärd"), max_length=40, blank=True)
    from_status = models.CharField(_("från status"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("till status"), max_length=20, choices=Status.choices, blank=True)
    text = models.TextField(_("text"), blank=True)
    visibility = models.CharField(
        _("synlighet"), max_length=10, choices=Visibility.choices, default=Visibility.INTERNAL
    )

    objects = DeviationEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("händelse")
        verbose_name_plural = _("händelser")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["deviation", "created_at"], name="event_deviation_created_idx"),
            # Follow-up: which reports were escalated or resolved locally (agreements/selectors.py).
            models.Index(
                fields=["action", "deviation"],
                name="event_handling_idx",
                condition=models.Q(kind="transition", action__in=["escalate", "resolve_locally"]),
            ),
        ]

    def __str__(self):
        return f"{self.deviation_id} {self.kind} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise TypeError("Deviation events are immutable.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Deviation events are immutable.")


#: THE definition of an open response request: neither answered nor withdrawn. ``ResponseRequest.is_open``
#: is the same rule for one loaded row.
OPEN_RESPONSE_REQUEST = models.Q(answered_at__isnull=True, cancelled_at__isnull=True)


class ResponseRequestQuerySet(models.QuerySet):
    """The business predicates of response requests, written once (selectors, filters, the follow-up
    and the meeting pack all use these)."""

    @staticmethod
    def overdue_condition(today) -> models.Q:
        """Open and past its due date on ``today`` (a Swedish calendar date: ``dates.stockholm_today``).
        A ``Q`` for aggregates and ``Exists`` subqueries; ``.overdue(today)`` filters with it."""
        return OPEN_RESPONSE_REQUEST & models.Q(due_on__lt=today)

    def open(self):
        return self.filter(OPEN_RESPONSE_REQUEST)

    def overdue(self, today):
        return self.filter(self.overdue_condition(today))


class ResponseRequest(models.Model):
    """A request to a counterpart organisation for a response (yttrande), answered through a signed link."""

    deviation = models.ForeignKey(
        Deviation, on_delete=models.PROTECT, related_name="response_requests", verbose_name=_("rapport")
    )
    organization = models.ForeignKey(
        "agreements.Organization",
        on_delete=models.PROTECT,
        related_name="response_requests",
        verbose_name=_("organisation"),
    )
    email = models.EmailField(_("skickad till"))
    message = models.TextField(_("meddelande"), blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("begärd av")
    )
    requested_at = models.DateTimeField(_("begärd"), default=timezone.now)
    due_on = models.DateField(_("svar senast"))
    answered_at = models.DateTimeField(_("besvarad"), null=True, blank=True)
    answered_late = models.BooleanField(
        _("besvarad efter svarsdatum"),
        default=False,
        help_text=_("Yttrandet kom in efter svarsdatumet och togs emot som sent."),
    )
    answered_by_name = models.CharField(_("besvarad av"), max_length=150, blank=True)
    answer_what_happened = models.TextField(_("vad hände enligt er"), blank=True)
    answer_actions = models.TextField(_("åtgärder vidtagna eller planerade"), blank=True)
    reminder_sent_at = models.DateTimeField(_("påminnelse skickad"), null=True, blank=True)
    overdue_marked_at = models.DateTimeField(_("markerad som försenad"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("återkallad"), null=True, blank=True)

    objects = ResponseRequestQuerySet.as_manager()

    class Meta:
        verbose_name = _("begäran om yttrande")
        verbose_name_plural = _("begäran om yttranden")
        ordering = ["-requested_at"]
        indexes = [
            models.Index(
                fields=["due_on"],
                name="responsereq_open_due_idx",
                condition=OPEN_RESPONSE_REQUEST,
            ),
            models.Index(fields=["organization", "answered_at"], name="responsereq_org_idx"),
        ]

    def __str__(self):
        return f"{self.deviation} → {self.organization}"

    @property
    def is_open(self) -> bool:
        return self.answered_at is None and self.cancelled_at is None

    @property
    def is_answerable(self) -> bool:
        """Whether the counterpart's signed link still takes an answer: while the request is open, also
        after the due date (the answer is then marked late, ``answered_late``)."""
        return self.is_open

    def is_late(self, today) -> bool:
        """Open and past its due date on ``today``: an answer now is late (``overdue_condition`` for a
        queryset)."""
        return self.is_open and today > self.due_on


class ResponseTemplateQuerySet(models.QuerySet):
    def for_report(self, *, purpose: str, deviation: Deviation):
        """The active standard texts of ``purpose`` that fit the report: for its agreement (or any)
        and its category (or any), in the admins' order."""
        return self.filter(
            models.Q(agreement__isnull=True) | models.Q(agreement_id=deviation.agreement_id),
            models.Q(category__isnull=True) | models.Q(category_id=deviation.category_id),
            active=True,
            purpose=purpose,
        ).order_by("order", "title", "pk")


class ResponseTemplate(models.Model):
    """A standard text (mall) maintained by administrators, which coordinators insert into requests for
    a response, feedback to the reporter and reasons for a rejection. Never sent by itself."""

    class Purpose(models.TextChoices):
        REQUEST = "request", _("Begäran om yttrande")
        FEEDBACK = "feedback", _("Återkoppling till rapportören")
        REJECTION = "rejection", _("Skäl för avvisning")

    title = models.CharField(_("rubrik"), max_length=120)
    purpose = models.CharField(_("används för"), max_length=12, choices=Purpose.choices)
    agreement = models.ForeignKey(
        "agreements.Agreement",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("överenskommelse"),
        help_text=_("Tomt: gäller alla överenskommelser."),
    )
    category = models.ForeignKey(
        "agreements.DeviationCategory",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kategori"),
        help_text=_("Tomt: gäller alla kategorier."),
    )
    text_sv = models.TextField(_("text på svenska"), help_text=_("Skriv inga personuppgifter."))
    text_en = models.TextField(_("text på engelska"), blank=True)
    order = models.PositiveSmallIntegerField(_("ordning"), default=0)
    active = models.BooleanField(_("aktiv"), default=True)

    objects = ResponseTemplateQuerySet.as_manager()

    class Meta:
        verbose_name = _("standardtext")
        verbose_name_plural = _("standardtexter")
        ordering = ["purpose", "order", "title"]

    def __str__(self):
        return self.title


class PendingNotification(models.Model):
    """A hand-off notification kept for a user who chose one daily digest instead of immediate e-mails
    (``User.notification_mode``); ``services.digests.send_digests`` sends and marks them. Holds the
    subject line (a reference number, never report text) and the link, nothing else."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="pending_notifications",
        verbose_name=_("mottagare"),
    )
    subject = models.CharField(_("ämne"), max_length=300)
    link = models.CharField(_("länk"), max_length=500)
    created_at = models.DateTimeField(_("skapad"), default=timezone.now)
    sent_at = models.DateTimeField(_("skickad i sammanfattning"), null=True, blank=True)

    class Meta:
        verbose_name = _("avisering i väntan på sammanfattning")
        verbose_name_plural = _("aviseringar i väntan på sammanfattning")
        ordering = ["created_at", "pk"]
        indexes = [
            models.Index(
                fields=["user", "created_at"],
                name="pendingnotif_unsent_idx",
                condition=models.Q(sent_at__isnull=True),
            ),
            models.Index(fields=["sent_at"], name="pendingnotif_sent_idx"),
        ]

    def __str__(self):
        return self.subject


class AccessLog(models.Model):
    """Who opened which report's detail page, and when. Written by ``services.access.record_access``;
    kept, never edited, read by administrators in the admin."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("användare")
    )
    deviation = models.ForeignKey(
        Deviation, on_delete=models.PROTECT, related_name="access_logs", verbose_name=_("rapport")
    )
    at = models.DateTimeField(_("tidpunkt"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("åtkomstlogg")
        verbose_name_plural = pgettext_lazy("plural", "åtkomstlogg")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["deviation", "-at"], name="accesslog_deviation_at_idx"),
            models.Index(fields=["user", "-at"], name="accesslog_user_at_idx"),
        ]

    def __str__(self):
        return f"{self.user_id} → {self.deviation_id} {self.at:%Y-%m-%d %H:%M}"
