"""Deviation reports (samverkansbrister), their immutable event log, response requests to
counterpart organisations (yttranden) and systemic issues (systemfrågor)."""

import uuid

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import MD5
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from config.personal_data import validate_no_identity_number, validate_query_without_identity_number

from . import search
from .workflow import FINAL_STATES, OPEN_STATES, TRANSITIONS, RejectReason, Status

OPEN_STATUS_LIST = sorted(OPEN_STATES)


class YesNoUnknown(models.TextChoices):
    YES = "yes", _("Ja")
    NO = "no", _("Nej")
    UNKNOWN = "unknown", _("Vet inte")


class Severity(models.TextChoices):
    """How serious the consequence was for the person, as the reporter judges it (``SEVERITY_HELP``)."""

    NONE = "none", _("Ingen eller liten")
    MODERATE = "moderate", _("Måttlig")
    SERIOUS = "serious", _("Allvarlig")
    VERY_SERIOUS = "very_serious", _("Mycket allvarlig")
    UNKNOWN = "unknown", _("Vet inte")


SEVERITY_HELP = _(
    "Ingen eller liten: personen märkte inte av bristen, eller bara en kort stund. "
    "Måttlig: personen fick vänta på vård eller stöd, eller fick berätta sin historia igen, men utan "
    "bestående följd. "
    "Allvarlig: personen blev utan vård, stöd eller boende en tid, eller mådde sämre. "
    "Mycket allvarlig: personens liv, hälsa eller boende var i fara, till exempel vid självskada, akut "
    "försämring eller utan tak över huvudet."
)


class ReferenceCounter(models.Model):
    """The last reference number handed out per year; incremented under a row lock."""

    year = models.PositiveSmallIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("referensräknare")
        verbose_name_plural = pgettext_lazy("plural", "referensräknare")

    def __str__(self):
        return f"{self.year}: {self.last}"


def state_label(instance) -> str:
    """``get_state_display()`` from the model's ``State`` enum. Django's own builds a dict of every
    choice's translated label on each call (12 µs, against 3 here; the follow-up shows 30 issues with
    their actions). A value outside the choices is shown as it is, as Django's shows it."""
    try:
        return str(instance.State(instance.state).label)
    except ValueError:
        return instance.state


class SystemicIssue(models.Model):
    """A systemic issue (systemfråga): related reports grouped for a decision at regional level."""

    class State(models.TextChoices):
        OPEN = "open", _("Öppen")
        IN_PROGRESS = "in_progress", _("Pågår")
        RESOLVED = "resolved", _("Löst")

    title = models.CharField(_("rubrik"), max_length=200, validators=[validate_no_identity_number])
    description = models.TextField(_("beskrivning"), validators=[validate_no_identity_number])
    agreements = models.ManyToManyField(
        "agreements.Agreement", related_name="systemic_issues", verbose_name=_("överenskommelser")
    )
    state = models.CharField(
        _("status"), max_length=12, choices=State.choices, default=State.OPEN, db_index=True
    )
    outcome = models.TextField(_("resultat"), blank=True, validators=[validate_no_identity_number])
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
        indexes = [
            # The report page's choice of issue (forms_triage._issues_of_agreement): the unresolved issues
            # changed last, walked in order until 50 of the report's agreement are found, instead of
            # sorting every unresolved issue of the agreement on every report page (10M: 3.0 -> ~0.3 ms).
            models.Index(
                fields=["-updated_at", "-id"],
                name="systemicissue_open_changed_idx",
                condition=~models.Q(state="resolved"),
            ),
        ]

    get_state_display = state_label

    def __str__(self):
        return self.title


class SystemicActionQuerySet(models.QuerySet):
    def overdue(self, today):
        """THE definition of an overdue action: not done and past its due date on ``today`` (a Swedish
        calendar date: ``dates.stockholm_today``)."""
        return self.exclude(state=SystemicAction.State.DONE).filter(due_on__lt=today)


class SystemicAction(models.Model):
    """An action decided for a systemic issue, owned by an organisation, with a due date."""

    class State(models.TextChoices):
        PLANNED = "planned", _("Planerad")
        IN_PROGRESS = "in_progress", _("Pågår")
        DONE = "done", _("Genomförd")

    issue = models.ForeignKey(
        SystemicIssue, on_delete=models.CASCADE, related_name="actions", verbose_name=_("systemfråga")
    )
    description = models.TextField(_("åtgärd"), validators=[validate_no_identity_number])
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

    objects = SystemicActionQuerySet.as_manager()

    get_state_display = state_label

    class Meta:
        verbose_name = _("beslutad åtgärd")
        verbose_name_plural = _("beslutade åtgärder")
        ordering = ["due_on", "pk"]

    def __str__(self):
        return self.description[:80]

    def is_overdue(self, today) -> bool:
        """``SystemicActionQuerySet.overdue`` for one loaded row."""
        return self.state != self.State.DONE and self.due_on < today


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

    description = models.TextField(_("vad hände"), validators=[validate_no_identity_number])
    consequence = models.TextField(_("konsekvens för individen"), validators=[validate_no_identity_number])
    actions_taken = models.TextField(
        _("åtgärder som redan vidtagits"), blank=True, validators=[validate_no_identity_number]
    )
    suggested_improvement = models.TextField(
        _("förslag till förbättring"), blank=True, validators=[validate_no_identity_number]
    )
    severity = models.CharField(
        _("hur allvarlig var följden för personen"),
        max_length=14,
        choices=Severity.choices,
        blank=True,
        help_text=SEVERITY_HELP,
    )
    contributing_factors = models.ManyToManyField(
        "agreements.ContributingFactor",
        blank=True,
        related_name="deviations",
        verbose_name=_("bidragande faktorer"),
        help_text=_("Sätts av samrådet vid bedömningen."),
    )
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
    reporter_name = models.CharField(
        _("rapportörens namn"), max_length=150, blank=True, validators=[validate_no_identity_number]
    )
    reporter_email = models.EmailField(
        _("rapportörens e-post"), blank=True, validators=[validate_no_identity_number]
    )
    reporter_phone = models.CharField(
        _("rapportörens telefon"), max_length=40, blank=True, validators=[validate_no_identity_number]
    )
    contact_erased_at = models.DateTimeField(_("kontaktuppgifter raderade"), null=True, blank=True)
    #: Which status link is valid (``tokens.status_token``): raised when the reporter's address is
    #: corrected, so a link that went to a mistyped address stops working. Filled by PostgreSQL when a
    #: row is written without it (the bench's COPY).
    status_link_version = models.PositiveSmallIntegerField(
        _("statuslänkens version"), default=0, db_default=0, editable=False
    )

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
    # Summaries of the report's response requests, kept by services.response_summaries.sync_response_summaries
    # (every write of a request calls it) so the queue filters and sorts on them with an index and keyset
    # pagination: the earliest due date of the open requests, and when the latest answer came in.
    response_due_on = models.DateField(
        _("yttrande senast"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("Tidigaste svarsdatum bland de öppna begärandena om yttrande."),
    )
    response_received_at = models.DateTimeField(
        _("yttrande inkommet"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("När det senaste yttrandet kom in."),
    )
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
            # A queue filtered to finished reports (closed, rejected, or both: PostgreSQL proves either
            # filter implies the condition): newest first without stepping over the newer open ones, which
            # the index above cannot do for two statuses at once (1M reports with 20,000 newer open ones:
            # 10.6 -> 0.14 ms for the page statement).
            models.Index(
                fields=["-created_at", "-id"],
                name="deviation_final_created_idx",
                condition=models.Q(status__in=sorted(FINAL_STATES)),
            ),
            # The queue's default list, the open reports, newest first: a page deep in it (older open
            # reports lie among many finished ones) stepped over every finished report in between
            # (2,625 rows for a page 200,000 reports down at 1M, 0.9 ms; more as reports pile up);
            # here it reads its 26 rows (0.18 ms).
            models.Index(
                fields=["-created_at", "-id"],
                name="deviation_open_created_idx",
                condition=models.Q(status__in=OPEN_STATUS_LIST),
            ),
            # Duplicate protection (services.reporting._same_report): the same description filed
            # recently. Without it the lookup walks every report filed nationwide within the window.
            models.Index(MD5("description"), "created_at", name="deviation_duplicate_idx"),
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
            # Queue sorts and filters on the response summaries (selectors.keyset_page walks the rows
            # that have one in this order, then those without by id): only reports with a request.
            models.Index(
                fields=["response_due_on", "id"],
                name="deviation_response_due_idx",
                condition=models.Q(response_due_on__isnull=False),
            ),
            # Answers: of open reports only (the default queue, the start page's "answers" tile); most
            # answered reports are closed, and a sort of closed ones is bounded by one council's.
            models.Index(
                fields=["response_received_at", "id"],
                name="deviation_response_recv_idx",
                condition=models.Q(response_received_at__isnull=False, status__in=OPEN_STATUS_LIST),
            ),
            # Search: the texts (search.py); category and commitment are matched by id.
            GinIndex(fields=["search_document"], name="deviation_search_idx"),
        ]

    def __str__(self):
        return self.reference

    @property
    def has_contact_details(self) -> bool:
        """Whether any of the reporter's contact details is still held (``CONTACT_DETAIL_FIELDS``)."""
        return any(getattr(self, name) for name in CONTACT_DETAIL_FIELDS)

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

    @staticmethod
    def response_overdue_condition(today) -> models.Q:
        """Reports with an overdue response request on ``today``, from their summary: the earliest due
        date of the open requests is past exactly when one of them is overdue
        (``ResponseRequestQuerySet.overdue_condition``). Uses the summary's partial index."""
        return models.Q(response_due_on__lt=today)


#: Labels of the ``action`` of events other than transitions (transitions use their table's label).
EVENT_ACTION_LABELS = {
    "assign": _("Tilldelad"),
    "unassign": _("Tilldelning borttagen"),
    "link": _("Kopplad till systemfråga"),
    "move": _("Flyttad till en annan systemfråga"),
    "unlink": _("Kopplad bort från systemfråga"),
    "cancel_response_request": _("Begäran om yttrande återkallad"),
    "correct": _("Uppgifter rättade i administrationen"),
    "redact": _("Text maskerad"),
    "erase_contact": _("Kontaktuppgifter raderade"),
    "correct_contact": _("Kontaktuppgifter rättade"),
}

#: The text fields of an event that redaction may rewrite (``DeviationEventQuerySet.redact``).
REDACTABLE_EVENT_FIELDS = ("text", "actor_label")


class DeviationEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Deviation events are immutable.")

    def delete(self):
        raise TypeError("Deviation events are immutable.")

    def redact(self, *, pk: int, field: str, text: str) -> int:
        """THE one change an event allows: its ``field`` (one of ``REDACTABLE_EVENT_FIELDS``) replaced
        by ``text``, the same text with a passage replaced by the redaction marker. Only
        ``deviations.services.redaction`` calls it, which checks who may and writes a REDACTION event
        of its own; every other update or delete of events raises ``TypeError``."""
        if field not in REDACTABLE_EVENT_FIELDS:
            raise TypeError(f"Event field {field!r} cannot be redacted.")
        return models.QuerySet.update(self.filter(pk=pk), **{field: text})


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
        CORRECTION = "correction", _("Uppgifter rättade")
        REDACTION = "redaction", _("Text maskerad")
        FACTORS = "factors", _("Bidragande faktorer")

    class Visibility(models.TextChoices):
        INTERNAL = "internal", _("Intern")
        REPORTER = "reporter", _("Synlig för rapportören")

    # Indexed by event_deviation_created_idx, which starts with it (a second index only cost writes).
    deviation = models.ForeignKey(
        Deviation, on_delete=models.PROTECT, related_name="events", verbose_name=_("rapport"), db_index=False
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
        validators=[validate_no_identity_number],
    )
    created_at = models.DateTimeField(_("tidpunkt"), default=timezone.now, editable=False)
    kind = models.CharField(_("typ"), max_length=20, choices=Kind.choices)
    action = models.CharField(_("åtgärd"), max_length=40, blank=True)
    from_status = models.CharField(_("från status"), max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(_("till status"), max_length=20, choices=Status.choices, blank=True)
    # What changed besides the status. Read only through the report's events (event_deviation_created_idx),
    # so no index of their own: deleting a council or a user (rare, in admin) scans for them once.
    from_council = models.ForeignKey(
        "councils.Council",
        on_delete=models.PROTECT,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("från samråd"),
    )
    to_council = models.ForeignKey(
        "councils.Council",
        on_delete=models.PROTECT,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("till samråd"),
    )
    from_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("från handläggare"),
    )
    to_assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        db_index=False,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("till handläggare"),
    )
    #: Structured facts of the change, never free text written by people: the rejection reason and the
    #: duplicate's reference, the systemic issue linked or left, which fields were corrected or
    #: redacted (never the removed text). Keys are documented where they are written
    #: (``services.transitions``, ``services.systemic``, ``services.redaction``).
    details = models.JSONField(_("detaljer"), default=dict, blank=True)
    text = models.TextField(_("text"), blank=True, validators=[validate_no_identity_number])
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

    @property
    def action_label(self) -> str:
        """What happened, for the timeline: the transition's label, or the kind of other events."""
        if self.kind == self.Kind.TRANSITION and self.action in TRANSITIONS:
            return str(TRANSITIONS[self.action].label)
        return str(EVENT_ACTION_LABELS.get(self.action) or self.get_kind_display())

    @property
    def from_assignee_name(self) -> str:
        return _person(self.from_assignee) if self.from_assignee_id else ""

    @property
    def to_assignee_name(self) -> str:
        return _person(self.to_assignee) if self.to_assignee_id else ""

    @property
    def reject_reason_label(self) -> str:
        return _reject_reason_label(self.details.get("reject_reason", ""))

    @property
    def cleared_reject_reason_label(self) -> str:
        return _reject_reason_label(self.details.get("cleared_reject_reason", ""))

    @property
    def redacted_field_labels(self) -> list[str]:
        """Which texts a REDACTION event (or a correction of the contact details) changed, named for people
        ("Rapport: Vad hände")."""
        return [
            redactable_field_label(item.get("object", ""), item.get("field", ""))
            for item in self.details.get("fields", [])
        ]

    @property
    def corrections(self) -> list[dict]:
        """A CORRECTION event's changes as ``{"label", "from", "to"}``."""
        return [
            {
                "label": capfirst(Deviation._meta.get_field(item["field"]).verbose_name),
                "from": item.get("from", ""),
                "to": item.get("to", ""),
            }
            for item in self.details.get("changes", [])
        ]


def _person(user) -> str:
    return user.get_full_name() or user.username


def _reject_reason_label(reason: str) -> str:
    return str(RejectReason(reason).label) if reason in RejectReason.values else reason


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

    def answerable(self):
        """Open requests of reports still being handled: what gives a counterpart access to a report
        and what its link, its list and the reminders offer (``ResponseRequest.is_answerable``). Closing
        or rejecting a report withdraws its open requests (``services.transitions``); a request left
        open on an ended report before that rule stays counted as unanswered but answers no more."""
        return self.open().exclude(deviation__status__in=FINAL_STATES)

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
        db_index=False,  # indexed by responsereq_org_idx, which starts with it
    )
    email = models.EmailField(_("skickad till"), validators=[validate_no_identity_number])
    message = models.TextField(_("meddelande"), blank=True, validators=[validate_no_identity_number])
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
    answered_by_name = models.CharField(
        _("besvarad av"), max_length=150, blank=True, validators=[validate_no_identity_number]
    )
    answer_what_happened = models.TextField(
        _("vad hände enligt er"), blank=True, validators=[validate_no_identity_number]
    )
    answer_actions = models.TextField(
        _("åtgärder vidtagna eller planerade"), blank=True, validators=[validate_no_identity_number]
    )
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
        """Whether the counterpart's signed link still takes an answer: while the request is open and its
        report is not closed or rejected, also after the due date (the answer is then marked late,
        ``answered_late``). ``ResponseRequestQuerySet.answerable`` is the same rule for a queryset."""
        return self.is_open and self.deviation.status not in FINAL_STATES

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

    title = models.CharField(_("rubrik"), max_length=120, validators=[validate_no_identity_number])
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
    text_sv = models.TextField(
        _("text på svenska"),
        help_text=_("Skriv inga personuppgifter."),
        validators=[validate_no_identity_number],
    )
    text_en = models.TextField(_("text på engelska"), blank=True, validators=[validate_no_identity_number])
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
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("användare"),
        db_index=False,  # accesslog_user_at_idx starts with it
    )
    deviation = models.ForeignKey(
        Deviation,
        on_delete=models.PROTECT,
        related_name="access_logs",
        verbose_name=_("rapport"),
        db_index=False,  # accesslog_deviation_at_idx starts with it
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


#: Every stored text people wrote about a report that may be redacted (``services.redaction``): per kind
#: of object, its model, the label of the kind and its text fields. A new text field of these models
#: belongs here (tests/deviations/test_redaction.py fails otherwise).
REDACTABLE_FIELDS = {
    "deviation": (
        Deviation,
        _("Rapport"),
        ("description", "consequence", "actions_taken", "suggested_improvement"),
    ),
    "event": (DeviationEvent, _("Händelse"), REDACTABLE_EVENT_FIELDS),
    "response": (
        ResponseRequest,
        _("Yttrande"),
        ("message", "answered_by_name", "answer_what_happened", "answer_actions"),
    ),
}


#: The reporter's contact details on a report: erased, never redacted, at their retention or on request
#: (``services.retention``, ``services.contacts``), which a REDACTION event records as ``erase_contact``;
#: corrected on request (a CORRECTION event, ``correct_contact``). The events name the fields only.
CONTACT_DETAIL_FIELDS = ("reporter_name", "reporter_email", "reporter_phone")


def redactable_field_label(kind: str, field: str) -> str:
    """E.g. "Rapport: Vad hände" (or "Rapport: Rapportörens e-post", erased); the raw names for a kind or
    field no longer known."""
    known = REDACTABLE_FIELDS.get(kind, (None, None, ()))[2]
    if field not in known and not (kind == "deviation" and field in CONTACT_DETAIL_FIELDS):
        return f"{kind}.{field}"
    model, label, _fields = REDACTABLE_FIELDS[kind]
    return f"{label}: {capfirst(model._meta.get_field(field).verbose_name)}"


class FollowUpCells(models.Model):
    """The columns the follow-up's summary and its pending changes share (``deviations.summary``): plain
    ids instead of foreign keys, since the rows are derived from the reports, never edited."""

    agreement_pk = models.PositiveIntegerField()
    basis = models.CharField(max_length=12)
    month = models.DateField()
    council_pk = models.PositiveIntegerField()
    municipality_pk = models.PositiveIntegerField()
    measure = models.CharField(max_length=24)
    #: In the "C" collation: compared byte by byte (the index and the rebuild's sorts are cheaper), and the
    #: keys that start alike are one range of the index under any database collation (a pair's open
    #: requests, "reporting:organisation:due date").
    key = models.CharField(max_length=64, blank=True, db_collation="C")
    n = models.BigIntegerField(default=0)
    seconds = models.BigIntegerField(default=0)

    class Meta:
        abstract = True


class FollowUpSummary(FollowUpCells):
    """Derived data: what the follow-up counts, per agreement, date basis, span of months, place, measure
    and key (``deviations.summary`` says what each measure is, keeps the rows current and rebuilds them).
    Plain ids instead of foreign keys: the rows are rebuilt from the reports, never edited.
    ``municipality_pk = council_pk = 0`` is the whole county; ``council_pk = 0`` alone, a report no
    council handles. Each report counts in three spans: its month (``months`` = 1), quarter (3) and
    calendar year (12), each starting on ``month``."""

    months = models.PositiveSmallIntegerField(default=1)

    class Meta:
        verbose_name = _("uppföljningssammanställning")
        verbose_name_plural = _("uppföljningssammanställningar")
        constraints = [
            # The one index, and every read's (``followup.selectors.read_summary``): equality on the place
            # (a list of places for a council), the span and its starts, the basis, the measures. Covering
            # (the counts included): the reads are index-only scans. The fixed-width columns first: each
            # comparison finds a column after a variable-width one by walking the index tuple from its
            # start, which took half the CPU of the index's build while ``basis`` came second (at 1M
            # reports the build took 55 s, 30 s in this order; bench/RESULTS.md, 2026-12-03 late night).
            models.UniqueConstraint(
                fields=[
                    "agreement_pk",
                    "municipality_pk",
                    "council_pk",
                    "months",
                    "month",
                    "basis",
                    "measure",
                    "key",
                ],
                include=["n", "seconds"],
                name="followupsummary_unique_cell",
            ),
            models.CheckConstraint(condition=models.Q(months__in=(1, 3, 12)), name="followupsummary_months"),
        ]

    def __str__(self):
        return (
            f"{self.agreement_pk} {self.basis} {self.month:%Y-%m}+{self.months} {self.measure}={self.key}: "
            f"{self.n}"
        )


class FollowUpPending(FollowUpCells):
    """Derived data: changes to the follow-up's summary not yet added to it. Every change to a report adds
    what it changes here as place rows (``deviations.summary``: an INSERT, which concurrent writers never
    wait for, instead of updating 144–252 shared summary rows); the follow-up reads these with the
    summary, and the worker moves them into it every few seconds (``summary.fold``). Same columns as the
    summary's month rows of one place (``months`` = 1, no county rows: both are derived when read)."""

    class Meta:
        verbose_name = _("ej inräknad ändring i uppföljningen")
        verbose_name_plural = _("ej inräknade ändringar i uppföljningen")
        # The follow-up reads one agreement and date basis (a handful of rows unless the worker is away).
        indexes = [models.Index(fields=["agreement_pk", "basis"], name="followuppending_read")]

    def __str__(self):
        return f"{self.agreement_pk} {self.basis} {self.month:%Y-%m} {self.measure}={self.key}: {self.n:+d}"


class SavedFilter(models.Model):
    """A queue filter saved under a name: for its owner, or shared with one of the owner's councils
    (its members see it; the owner and the council's coordinators may delete it)."""

    class Queue(models.TextChoices):
        MAIN = "queue", _("Ärenden")
        ESCALATED = "escalated", _("Eskalerade ärenden")

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saved_filters",
        verbose_name=_("ägare"),
        db_index=False,  # savedfilter_owner_queue_name starts with it
    )
    council = models.ForeignKey(
        "councils.Council",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="saved_filters",
        verbose_name=_("delat med samråd"),
    )
    name = models.CharField(_("namn"), max_length=100, validators=[validate_no_identity_number])
    queue = models.CharField(_("kö"), max_length=12, choices=Queue.choices, default=Queue.MAIN)
    #: The queue's query string without the page cursor (``after``/``before``).
    query = models.CharField(
        _("filtervillkor"), max_length=2000, blank=True, validators=[validate_query_without_identity_number]
    )
    created_at = models.DateTimeField(_("skapad"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("sparat filter")
        verbose_name_plural = _("sparade filter")
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "queue", "name"], name="savedfilter_owner_queue_name"),
        ]

    def __str__(self):
        return self.name
