"""The agreements (överenskommelser) reports are filed under, their commitments, the deviation
categories, and the organisations that are party to a deviation."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from config.personal_data import validate_no_identity_number


class AgreementQuerySet(models.QuerySet):
    def valid_on(self, date: datetime.date):
        """Active agreements in force on ``date``."""
        return self.filter(active=True, valid_from__lte=date).filter(
            models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=date)
        )


class Agreement(models.Model):
    class Parties(models.TextChoices):
        MUNICIPALITIES_AND_REGION = "municipalities_region", _("Kommunerna och regionen")
        MUNICIPALITIES = "municipalities", _("Endast kommunerna")

    code = models.SlugField(
        _("kod"), max_length=20, unique=True, allow_unicode=True, validators=[validate_no_identity_number]
    )
    name = models.CharField(_("namn"), max_length=200, validators=[validate_no_identity_number])
    short_name = models.CharField(
        _("kortnamn"), max_length=60, blank=True, validators=[validate_no_identity_number]
    )
    description = models.TextField(_("beskrivning"), blank=True, validators=[validate_no_identity_number])
    scope = models.TextField(
        _("vad den gäller, i klartext"),
        blank=True,
        validators=[validate_no_identity_number],
        help_text=_(
            "En eller två meningar på enkel svenska om vem och vad överenskommelsen gäller. Visas i "
            "rapportformuläret som hjälp att välja överenskommelse."
        ),
    )
    parties = models.CharField(
        _("parter"), max_length=30, choices=Parties.choices, default=Parties.MUNICIPALITIES_AND_REGION
    )
    valid_from = models.DateField(_("giltig från"))
    valid_to = models.DateField(_("giltig till"), null=True, blank=True)
    document_url = models.URLField(
        _("länk till överenskommelsen"), blank=True, validators=[validate_no_identity_number]
    )
    order = models.PositiveSmallIntegerField(_("ordning"), default=0)
    active = models.BooleanField(_("aktiv"), default=True)

    objects = AgreementQuerySet.as_manager()

    class Meta:
        verbose_name = _("överenskommelse")
        verbose_name_plural = _("överenskommelser")
        ordering = ["order", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True) | models.Q(valid_to__gte=models.F("valid_from")),
                name="agreement_valid_to_after_valid_from",
                violation_error_message=_("Slutdatum kan inte ligga före startdatum."),
            ),
        ]

    def __str__(self):
        return self.short_name or self.name

    def is_valid_on(self, date: datetime.date) -> bool:
        return self.active and self.valid_from <= date and (self.valid_to is None or date <= self.valid_to)

    @property
    def includes_region(self) -> bool:
        return self.parties == self.Parties.MUNICIPALITIES_AND_REGION


class Commitment(models.Model):
    """A numbered goal or commitment (målsättning/åtagande) of an agreement."""

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.CASCADE,
        related_name="commitments",
        verbose_name=_("överenskommelse"),
        db_index=False,  # commitment_unique_number_per_agreement starts with it
    )
    number = models.PositiveSmallIntegerField(_("nummer"))
    title = models.CharField(_("rubrik"), max_length=250, validators=[validate_no_identity_number])
    description = models.TextField(_("beskrivning"), blank=True, validators=[validate_no_identity_number])
    active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        verbose_name = _("åtagande")
        verbose_name_plural = _("åtaganden")
        ordering = ["agreement__order", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["agreement", "number"], name="commitment_unique_number_per_agreement"
            ),
        ]

    def __str__(self):
        return f"{self.number}. {self.title}"


class DeviationCategory(models.Model):
    name = models.CharField(_("namn"), max_length=150, unique=True, validators=[validate_no_identity_number])
    help_text = models.TextField(_("hjälptext"), blank=True, validators=[validate_no_identity_number])
    agreements = models.ManyToManyField(
        Agreement, related_name="categories", verbose_name=_("överenskommelser"), blank=True
    )
    order = models.PositiveSmallIntegerField(_("ordning"), default=0)
    active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        verbose_name = _("kategori")
        verbose_name_plural = _("kategorier")
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


class ContributingFactorQuerySet(models.QuerySet):
    def selectable(self):
        """Active factors whose main factor, if they have one, is active too: what a handler may tag."""
        return self.filter(active=True).filter(models.Q(parent__isnull=True) | models.Q(parent__active=True))


class ContributingFactor(models.Model):
    """A contributing factor (bidragande faktor) behind a deviation, in two levels: a main factor such as
    information transfer or unclear responsibility, and its sub-factors. Handlers tag reports with them
    during triage; the follow-up counts them and proposes the hindering factors from them."""

    parent = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="children",
        limit_choices_to={"parent__isnull": True},
        verbose_name=_("huvudfaktor"),
        help_text=_("Lämna tomt för en huvudfaktor. En underfaktor hör till en huvudfaktor (två nivåer)."),
        db_index=False,  # factor_unique_name_per_parent starts with it
    )
    name = models.CharField(_("namn"), max_length=150, validators=[validate_no_identity_number])
    help_text = models.TextField(_("hjälptext"), blank=True, validators=[validate_no_identity_number])
    order = models.PositiveSmallIntegerField(_("ordning"), default=0)
    active = models.BooleanField(_("aktiv"), default=True)

    objects = ContributingFactorQuerySet.as_manager()

    class Meta:
        verbose_name = _("bidragande faktor")
        verbose_name_plural = _("bidragande faktorer")
        ordering = ["order", "name"]
        constraints = [
            models.UniqueConstraint(fields=["parent", "name"], name="factor_unique_name_per_parent"),
            models.UniqueConstraint(
                fields=["name"], condition=models.Q(parent__isnull=True), name="factor_unique_main_name"
            ),
            models.CheckConstraint(
                condition=~models.Q(parent=models.F("pk")), name="factor_not_its_own_parent"
            ),
        ]

    def __str__(self):
        return f"{self.parent.name} – {self.name}" if self.parent_id else self.name

    @property
    def main(self) -> "ContributingFactor":
        return self.parent if self.parent_id else self

    def clean(self):
        if self.parent_id and (self.parent_id == self.pk or self.parent.parent_id):
            raise ValidationError({"parent": _("Välj en huvudfaktor: taxonomin har två nivåer.")})
        if self.parent_id and self.pk and self.children.exists():
            raise ValidationError({"parent": _("Faktorn har underfaktorer och måste vara en huvudfaktor.")})


class Organization(models.Model):
    """An organisation staff work in; its principal (huvudman) is a municipality or a region."""

    class Kind(models.TextChoices):
        SOCIAL_SERVICES = "social_services", _("Socialtjänst")
        CARE_ADMINISTRATION = "care_administration", _("Vård- och omsorgsförvaltning")
        ADDICTION_CARE = "addiction_care", _("Beroendevård")
        PSYCHIATRY = "psychiatry", _("Psykiatri")
        PRIMARY_CARE = "primary_care", _("Primärvård")
        PRIVATE_PROVIDER = "private_provider", _("Privat utförare")
        OTHER = "other", _("Annan")

    class PrincipalKind(models.TextChoices):
        MUNICIPALITY = "municipality", _("Kommun")
        REGION = "region", _("Region")

    name = models.CharField(_("namn"), max_length=200, unique=True, validators=[validate_no_identity_number])
    kind = models.CharField(_("typ"), max_length=30, choices=Kind.choices)
    principal_municipality = models.ForeignKey(
        "councils.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organizations",
        verbose_name=_("huvudman (kommun)"),
    )
    principal_region = models.ForeignKey(
        "councils.Region",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="organizations",
        verbose_name=_("huvudman (region)"),
    )
    contact_email = models.EmailField(
        _("kontaktadress för yttranden"),
        blank=True,
        help_text=_("Dit begäran om yttrande skickas, helst en funktionsbrevlåda."),
        validators=[validate_no_identity_number],
    )
    active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        verbose_name = _("organisation")
        verbose_name_plural = _("organisationer")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(principal_municipality__isnull=False, principal_region__isnull=True)
                    | models.Q(principal_municipality__isnull=True, principal_region__isnull=False)
                ),
                name="organization_exactly_one_principal",
                violation_error_message=_("Ange exakt en huvudman: en kommun eller en region."),
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def principal_kind(self) -> str:
        return self.PrincipalKind.REGION if self.principal_region_id else self.PrincipalKind.MUNICIPALITY

    @property
    def principal(self):
        return self.principal_region or self.principal_municipality

    def clean(self):
        if bool(self.principal_municipality_id) == bool(self.principal_region_id):
            raise ValidationError(_("Ange exakt en huvudman: en kommun eller en region."))


def domain_of(email: str) -> str:
    """The domain of an e-mail address, as ``EmailDomain`` stores it (lower case)."""
    return email.rpartition("@")[2].strip().lower() if "@" in (email or "") else ""


class EmailDomainQuerySet(models.QuerySet):
    def of_addresses(self, *emails: str) -> "EmailDomainQuerySet":
        """Registrations of the domains of ``emails`` (case-insensitive); ``domain_lower`` is annotated."""
        domains = {domain_of(email) for email in emails} - {""}
        return self.annotate(domain_lower=Lower("domain")).filter(domain_lower__in=domains)


class EmailDomain(models.Model):
    """An e-mail domain an organisation's staff use. Every reporter's address must be at a domain of
    the organisation they report from (``deviations.services.reporting.report_errors``), and a user's
    address at a domain of the organisation they belong to (``councils.models.User.clean``): so the
    statistics per organisation pair count what the organisations' own staff reported."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="email_domains", verbose_name=_("organisation")
    )
    domain = models.CharField(
        _("domän"),
        max_length=253,
        help_text=_("T.ex. stockholm.se eller regionstockholm.se"),
        validators=[validate_no_identity_number],
    )

    objects = EmailDomainQuerySet.as_manager()

    class Meta:
        verbose_name = _("e-postdomän")
        verbose_name_plural = _("e-postdomäner")
        ordering = ["domain"]
        constraints = [
            models.UniqueConstraint(
                Lower("domain"), "organization", name="emaildomain_unique_per_organization"
            ),
        ]
        indexes = [models.Index(Lower("domain"), name="emaildomain_domain_lower_idx")]

    def __str__(self):
        return self.domain

    def save(self, *args, **kwargs):
        self.domain = self.domain.strip().lower().lstrip("@")
        super().save(*args, **kwargs)


class FollowUpAnalysisQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise TypeError("Analysis versions are immutable; save a new version instead.")


class FollowUpAnalysis(models.Model):
    """One version of the written analysis of an agreement over a period, for one scope: the county
    (no council, no municipality), a council, a municipality, or a municipality's reports handled by one
    council. A scope's document shows only its own analysis. Immutable: every save through
    ``followup.services.save_analysis`` adds a new version; the newest is current.

    The texts follow the sections of a follow-up report (seed 003): summary, recommendations, proposed
    follow-up areas, purpose and focus areas, results and analysis per commitment (``commitment_texts``:
    ``{"<commitment id>": {"results": "...", "analysis": "..."}}``), promoting and hindering factors as
    lists, overall analysis and conclusions, references."""

    agreement = models.ForeignKey(
        Agreement,
        on_delete=models.PROTECT,
        related_name="analyses",
        verbose_name=_("överenskommelse"),
        db_index=False,  # followupanalysis_scope_idx starts with it
    )
    period_start = models.DateField(_("period från"))
    period_end = models.DateField(_("period till"))
    council = models.ForeignKey(
        "councils.Council",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("samråd"),
        help_text=_("Tomt för hela länet."),
    )
    municipality = models.ForeignKey(
        "councils.Municipality",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("kommun"),
    )
    summary = models.TextField(_("sammanfattning"), blank=True, validators=[validate_no_identity_number])
    recommendations = models.TextField(
        _("rekommendationer"), blank=True, validators=[validate_no_identity_number]
    )
    followup_areas = models.TextField(
        _("förslag till uppföljningsområden"), blank=True, validators=[validate_no_identity_number]
    )
    purpose = models.TextField(
        _("uppdrag, syfte och fokusområden"), blank=True, validators=[validate_no_identity_number]
    )
    commitment_texts = models.JSONField(_("resultat och analys per åtagande"), default=dict, blank=True)
    promoting_factors = models.JSONField(_("främjande faktorer"), default=list, blank=True)
    hindering_factors = models.JSONField(_("hindrande faktorer"), default=list, blank=True)
    analysis = models.TextField(
        _("analys och slutsatser"), blank=True, validators=[validate_no_identity_number]
    )
    references = models.TextField(_("referenser"), blank=True, validators=[validate_no_identity_number])
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("författare")
    )
    created_at = models.DateTimeField(_("sparad"), default=timezone.now, editable=False)

    objects = FollowUpAnalysisQuerySet.as_manager()

    class Meta:
        verbose_name = _("analys för uppföljning")
        verbose_name_plural = _("analyser för uppföljning")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["agreement", "period_start", "period_end", "council", "municipality", "-created_at"],
                name="followupanalysis_scope_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(period_end__gte=models.F("period_start")),
                name="followupanalysis_period_order",
            ),
        ]

    def __str__(self):
        return (
            f"{self.agreement} {self.period_start}–{self.period_end}, {self.scope_label} "
            f"({self.created_at:%Y-%m-%d %H:%M})"
        )

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise TypeError("Analysis versions are immutable; save a new version instead.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Analysis versions are immutable.")

    @property
    def scope_label(self) -> str:
        if self.municipality_id and self.council_id:
            return _("%(municipality)s, rapporter i %(council)s") % {
                "municipality": self.municipality,
                "council": self.council,
            }
        return str(self.municipality or self.council or _("Hela länet"))

    def commitment_text(self, commitment_id: int, part: str) -> str:
        return (self.commitment_texts or {}).get(str(commitment_id), {}).get(part, "")


#: The reference tables whose rows the pages show by name or offer as choices (the queue's rows and
#: filter choices, the report form's lists and what its rules read, ``deviations.reference``), each with a
#: trigger that changes the reference data's version (``reference_data_version``, migration 0008). A test
#: changes a row of each and checks that the version follows.
VERSIONED_TABLES = (
    "agreements_agreement",
    "agreements_commitment",
    "agreements_deviationcategory",
    "agreements_deviationcategory_agreements",
    "agreements_emaildomain",
    "agreements_organization",
    "councils_council",
    "councils_council_districts",
    "councils_council_municipalities",
    "councils_district",
    "councils_municipality",
    "councils_region",
)


def reference_data_version(using: str = "default") -> int | None:
    """The version of the reference data in ``VERSIONED_TABLES``, or None when unknown.

    It changes in the same transaction as any change to those tables: a statement-level trigger on each
    (insert, update, delete, truncate: the admin, ``load_reference_data``, a bulk update, SQL typed in
    psql) sets the one row of the table ``agreements_referencedataversion`` to the next value of a
    sequence, so a value is never used twice, also after a rollback. The table is the migration's own
    (no model: nothing to administer, and a test's flush leaves it, and bumps it by truncating the
    reference tables).

    Whatever is cached by this version (the queue's names and filter choices) must be read after the
    version, so it is never older than its version: a change committed in between only makes the
    cached copy newer than its key, and the next request reads the new version and misses."""
    from django.db import connections

    with connections[using].cursor() as cursor:
        cursor.execute("SELECT version FROM agreements_referencedataversion WHERE id = 1")
        row = cursor.fetchone()
    return row[0] if row else None
