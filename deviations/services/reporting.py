"""The reporter's journey: the rules a new report must meet, filing it and confirming it."""

import logging
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from config.errors import Invalid

from .. import pii, selectors, summary, tokens
from ..emails import absolute_url, queue_email
from ..models import Deviation, Severity
from ..workflow import Role, Status
from .routing import UNCONFIRMED_REFERENCE_PREFIX
from .transitions import site_language_text, transition_held

logger = logging.getLogger(__name__)

#: Free-text fields scanned by the personal-data guard.
TEXT_FIELDS = ("description", "consequence", "actions_taken", "suggested_improvement")
_MODEL_FIELDS = (
    "agreement",
    "commitment",
    "category",
    "occurred_on",
    "municipality",
    "district",
    "reporting_organization",
    *TEXT_FIELDS,
    "severity",
    "sip_involved",
    "discharge_involved",
    "reporter_name",
    "reporter_email",
    "reporter_phone",
)


def _label(field: str) -> str:
    return capfirst(Deviation._meta.get_field(field).verbose_name)


def personal_data_errors(data: dict) -> dict[str, str]:
    """Errors for free-text fields holding a personnummer or samordningsnummer. The message names the
    field but never contains the number."""
    errors = {}
    for field in TEXT_FIELDS:
        if pii.contains_identity_number(data.get(field) or ""):
            errors[field] = _(
                "Fältet ”%(field)s” verkar innehålla ett personnummer eller samordningsnummer. En rapport "
                "får inte gå att koppla till en enskild person: ta bort numret och skicka igen. "
                "Ingenting har sparats."
            ) % {"field": _label(field)}
    return errors


def _in_agreement(category, agreement) -> bool:
    # Prefetched on the instance: the form's check and the service's check share one query.
    prefetch_related_objects([category], "agreements")
    return any(a.pk == agreement.pk for a in category.agreements.all())


def _has_active_districts(municipality) -> bool:
    prefetch_related_objects([municipality], "districts")
    return any(district.active for district in municipality.districts.all())


def report_errors(data: dict, *, reporter=None, today=None) -> dict[str, str]:
    """Every business rule a new report must meet, as ``{field: message}``. Fields missing from
    ``data`` (already refused by the form) are skipped. Used by the form and by ``submit_deviation``."""
    today = today or timezone.localdate()
    errors = personal_data_errors(data)
    if data.get("severity") not in (None, "", *Severity.values):
        errors["severity"] = _("Välj en av nivåerna.")
    agreement = data.get("agreement")
    occurred_on = data.get("occurred_on")
    if occurred_on and occurred_on > today:
        errors["occurred_on"] = _("Datumet kan inte ligga i framtiden.")
    if agreement and occurred_on and not agreement.is_valid_on(occurred_on):
        errors["agreement"] = _(
            "Överenskommelsen ”%(agreement)s” gällde inte %(date)s. Välj en överenskommelse som gällde "
            "när bristen inträffade."
        ) % {"agreement": agreement, "date": occurred_on.isoformat()}
    commitment = data.get("commitment")
    if agreement and commitment and (commitment.agreement_id != agreement.pk or not commitment.active):
        errors["commitment"] = _("Åtagandet hör inte till den valda överenskommelsen.")
    category = data.get("category")
    if agreement and category and (not category.active or not _in_agreement(category, agreement)):
        errors["category"] = _("Kategorin hör inte till den valda överenskommelsen.")
    municipality, district = data.get("municipality"), data.get("district")
    if municipality:
        if district is not None and (district.municipality_id != municipality.pk or not district.active):
            errors["district"] = _("Stadsdelen hör inte till den valda kommunen.")
        elif district is None and _has_active_districts(municipality):
            errors["district"] = _("Välj stadsdel: %(municipality)s är indelad i stadsdelar.") % {
                "municipality": municipality
            }
    own = data.get("reporting_organization")
    if own and not own.active:
        errors["reporting_organization"] = _("Organisationen är inte längre aktiv.")
    counterparts = list(data.get("counterpart_organizations") or [])
    if "counterpart_organizations" in data:
        if not counterparts:
            errors["counterpart_organizations"] = _("Välj minst en motpart.")
        elif not all(organization.active for organization in counterparts):
            errors["counterpart_organizations"] = _("En av motparterna är inte längre aktiv.")
        elif own and {o.pk for o in counterparts} == {own.pk}:
            errors["counterpart_organizations"] = _(
                "Motparten kan inte enbart vara din egen organisation. Välj den organisation som "
                "samverkan brast med."
            )
    email = data.get("reporter_email")
    if reporter is None and email and not selectors.email_domain_is_registered(email):
        errors["reporter_email"] = _(
            "Använd din e-postadress i tjänsten. Bara adresser hos anslutna organisationer godtas, och "
            "domänen ”%(domain)s” finns inte registrerad. Logga in om du har ett konto."
        ) % {"domain": email.rpartition("@")[2]}
    return errors


def submit_deviation(*, data: dict, idempotency_key, reporter=None) -> tuple[Deviation, bool]:
    """File a report; returns ``(deviation, created)``.

    The same ``idempotency_key`` always gives the same report (double clicks, resubmits), created once.
    Without an account the report waits, unconfirmed, for the reporter to follow the e-mailed link;
    a signed-in ``reporter`` is confirmed (and routed) in the same transaction.
    Raises ``Invalid`` (its ``errors`` by field) if a rule in ``report_errors`` is broken; nothing is
    stored then.
    """
    try:
        return _submit_deviation(data=data, idempotency_key=idempotency_key, reporter=reporter)
    except IntegrityError:
        # A concurrent request with the same key won the race (its transaction, or savepoint when
        # called inside one, is rolled back, with the reference number it took): answer with its report.
        existing = Deviation.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False


@transaction.atomic
def _submit_deviation(*, data: dict, idempotency_key, reporter) -> tuple[Deviation, bool]:
    existing = Deviation.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    errors = report_errors(data, reporter=reporter)
    if errors:
        raise Invalid(" ".join(errors.values()), errors=errors)
    fields = {name: data.get(name) for name in _MODEL_FIELDS}
    for name in (*TEXT_FIELDS, "severity", "reporter_name", "reporter_email", "reporter_phone"):
        fields[name] = (fields[name] or "").strip()
    deviation = Deviation(
        reference=f"{UNCONFIRMED_REFERENCE_PREFIX}{uuid.UUID(str(idempotency_key)).hex[:18]}",
        status=Status.UNCONFIRMED,
        idempotency_key=idempotency_key,
        reporter=reporter,
        **fields,
    )
    with summary.tracking() as tracker:
        tracker.add(deviation)  # new: counted once confirmed, with its counterparts
        if reporter is not None:
            # Confirmed before it is first saved: one INSERT of the routed, numbered report.
            deviation = _confirm(deviation=deviation, actor=reporter)
        else:
            deviation.save(force_insert=True)
        deviation.counterpart_organizations.add(*data["counterpart_organizations"])
    if reporter is None:
        queue_email(
            template="confirm_report",
            to=[deviation.reporter_email],
            context={
                "deviation": deviation,
                "agreement": deviation.agreement,
                "category": deviation.category,
                "link": absolute_url(
                    reverse("deviations:confirm", args=[tokens.confirmation_token(deviation)])
                ),
                "max_age_hours": settings.CONFIRMATION_MAX_AGE_HOURS,
            },
            language=get_language() or settings.LANGUAGE_CODE,
        )
    logger.info("deviation %s submitted (confirmed: %s)", deviation.pk, reporter is not None)
    return deviation, True


@transaction.atomic
def confirm_deviation(*, deviation: Deviation, actor=None, actor_label: str = "") -> Deviation:
    """Confirm a report (the reporter proved the e-mail address, or is signed in): it becomes submitted,
    gets its reference number and is routed; the council is told and the reporter gets a receipt with
    the private status link. Raises ``Conflict`` if it is already confirmed."""
    deviation = Deviation.objects.select_for_update().get(pk=deviation.pk)
    return _confirm(deviation=deviation, actor=actor, actor_label=actor_label)


def _confirm(*, deviation: Deviation, actor=None, actor_label: str = "") -> Deviation:
    """``confirm_deviation`` for a report the caller holds (locked, or not saved yet)."""
    deviation = transition_held(
        deviation=deviation,
        action="confirm",
        actor=actor,
        roles={Role.REPORTER},
        actor_label=actor_label or site_language_text(gettext_noop("Rapportören")),
    )
    queue_email(
        template="receipt",
        to=[deviation.reporter_email],
        context={
            "deviation": deviation,
            "agreement": deviation.agreement,
            "category": deviation.category,
            "status_link": absolute_url(reverse("deviations:status", args=[tokens.status_token(deviation)])),
        },
        language=get_language() or settings.LANGUAGE_CODE,
    )
    return deviation
