"""The reporter's journey: the rules a new report must meet, filing it and confirming it."""

import datetime
import hashlib
import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Min, prefetch_related_objects
from django.db.models.functions import MD5
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from agreements.models import Agreement, domain_of
from config.compiled import CompiledRead
from config.db import GENERIC_PLAN_SETTINGS, planner_settings
from config.errors import Conflict, Invalid
from config.personal_data import identity_number_errors

from .. import reference, selectors, summary
from ..models import Deviation, Severity
from ..notifications import mails_together, queue_email
from ..workflow import Role, Status
from .routing import UNCONFIRMED_REFERENCE_PREFIX
from .transitions import site_language_text, transition_held

logger = logging.getLogger(__name__)

#: The report's free-text fields (also scanned for names by the form's warning).
TEXT_FIELDS = ("description", "consequence", "actions_taken", "suggested_improvement")
#: Every text the reporter writes, scanned by the personal-data guard.
GUARDED_FIELDS = (*TEXT_FIELDS, "reporter_name", "reporter_email", "reporter_phone")
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


#: The answer to the form's first question that sends the reporter to the BUS process instead.
CONCERNS_CHILD = "yes"
#: A second report with the same content from the same reporter within this time is the first one
#: again (the browser's Back button and "Skicka" once more), not a new report.
DUPLICATE_WINDOW = datetime.timedelta(minutes=30)


def belongs_to_bus(data: dict) -> bool:
    """Whether the reporter answered that the deviation concerns a person under 18: such reports are
    handled in the BUS process (``settings.BUS_URL``), never here."""
    return data.get("concerns_child") == CONCERNS_CHILD


def _label(field: str) -> str:
    return capfirst(Deviation._meta.get_field(field).verbose_name)


def personal_data_errors(data: dict) -> dict[str, str]:
    """Errors for the reporter's texts holding a personnummer or samordningsnummer
    (``config.personal_data``). The message names the field but never contains the number."""
    return identity_number_errors(
        {field: data.get(field) for field in GUARDED_FIELDS},
        labels={field: _label(field) for field in GUARDED_FIELDS},
    )


def _in_agreement(category, agreement) -> bool:
    # Prefetched on the instance: the form's check and the service's check share one query.
    prefetch_related_objects([category], "agreements")
    return any(a.pk == agreement.pk for a in category.agreements.all())


def _has_active_districts(municipality) -> bool:
    prefetch_related_objects([municipality], "districts")
    return any(district.active for district in municipality.districts.all())


def report_errors(data: Mapping, *, reporter=None, today=None) -> dict[str, str]:
    """Every business rule a new report must meet, as ``{field: message}``. Fields missing from
    ``data`` (already refused by the form) are skipped. Used by the form and by ``submit_deviation``."""
    today = today or timezone.localdate()
    errors = personal_data_errors(data)
    if belongs_to_bus(data):
        errors["concerns_child"] = _(
            "Brister i samverkan kring barn och unga under 18 år rapporteras i BUS-processen, inte här. "
            "Ingenting har sparats."
        )
    if data.get("severity") not in (None, "", *Severity.values):
        errors["severity"] = _("Välj en av nivåerna.")
    agreement = data.get("agreement")
    occurred_on = data.get("occurred_on")
    if occurred_on and occurred_on > today:
        errors["occurred_on"] = _("Datumet kan inte ligga i framtiden.")
    elif occurred_on and not (agreement and agreement.is_valid_on(occurred_on)):
        # Only when the choice does not fit the date: the happy path costs no query.
        no_agreement = _no_agreement_message(occurred_on)
        if no_agreement:
            errors["occurred_on"] = no_agreement
    if agreement and occurred_on and "occurred_on" not in errors and not agreement.is_valid_on(occurred_on):
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
    errors.update(_address_errors(data, reporter=reporter))
    return errors


#: What ``submit_deviation`` reads from a report's data besides ``_MODEL_FIELDS``; a ``CheckedReport``
#: holds all of them (a form that refused one of them never produces one).
_REQUIRED_FIELDS = (
    "agreement",
    "category",
    "occurred_on",
    "municipality",
    "reporting_organization",
    "counterpart_organizations",
    "description",
    "consequence",
    "reporter_email",
)
_SEAL = object()


@dataclass(frozen=True, eq=False)
class CheckedReport:
    """A new report's data that ``check_report`` found to meet every rule of ``report_errors``, for
    ``reporter`` on ``today``. ``submit_deviation`` files it without checking the rules again (the form
    checked them in the same request); only ``check_report`` makes one, and it keeps its own copy of the
    data, so what was checked is what is filed."""

    data: MappingProxyType
    reporter_id: int | None
    today: datetime.date
    seal: object = field(repr=False)
    #: The reference data (``deviations.reference.current()``) the data's choices were found in, if known:
    #: the filing routes by the same snapshot instead of reading the version again.
    reference_data: object = field(default=None, repr=False)

    def __post_init__(self):
        if self.seal is not _SEAL:
            raise TypeError("A CheckedReport is made by check_report() only.")

    def holds_for(self, *, reporter, today: datetime.date) -> bool:
        """Whether the check applies to filing for ``reporter`` on ``today``."""
        return self.reporter_id == (reporter.pk if reporter is not None else None) and self.today == today


def check_report(
    data: dict, *, reporter=None, today=None, reference_data=None
) -> tuple[dict[str, str], CheckedReport | None]:
    """``report_errors`` for ``data``, and when there are none and every field the filing needs is
    there, the ``CheckedReport`` that ``submit_deviation`` accepts without checking again.
    ``reference_data``: the ``deviations.reference.current()`` the data's choices came from (the form's),
    which the filing then routes by."""
    today = today or timezone.localdate()
    errors = report_errors(data, reporter=reporter, today=today)
    if errors or any(data.get(name) in (None, "") for name in _REQUIRED_FIELDS):
        return errors, None
    counterparts = tuple(data["counterpart_organizations"])
    checked = CheckedReport(
        data=MappingProxyType({**data, "counterpart_organizations": counterparts}),
        reporter_id=reporter.pk if reporter is not None else None,
        today=today,
        seal=_SEAL,
        reference_data=reference_data,
    )
    return errors, checked


def _address_errors(data: dict, *, reporter) -> dict[str, str]:
    """Without an account, the address must be at a domain registered on an organisation. And every
    address of the reporter (the one on the report, and a signed-in reporter's account address) must be
    at a domain of the organisation reported from: the statistics per organisation pair count what
    each organisation's own staff reported. One query."""
    email = data.get("reporter_email") or ""
    own = data.get("reporting_organization")
    if reporter is None:
        if not email:
            return {}
        registered_by = selectors.organizations_with_email_domain(email)
        if not registered_by:
            return {
                "reporter_email": _(
                    "Använd din e-postadress i tjänsten. Bara adresser hos anslutna organisationer "
                    "godtas, och domänen ”%(domain)s” finns inte registrerad. Logga in om du har ett konto."
                )
                % {"domain": email.rpartition("@")[2]}
            }
        foreign = [] if own is None or own.pk in registered_by else [domain_of(email)]
    else:
        addresses = [a for a in (email, reporter.email) if a]
        if own is None or not addresses:
            return {}
        # Prefetched on the instance: the form's check and the service's check share one query.
        prefetch_related_objects([own], "email_domains")
        own_domains = {registered.domain.lower() for registered in own.email_domains.all()}
        foreign = [domain_of(a) for a in addresses if domain_of(a) not in own_domains]
    if not foreign:
        return {}
    return {
        "reporting_organization": _(
            "E-postadresser på domänen ”%(domain)s” hör inte till %(organization)s. Välj den "
            "organisation du arbetar i och rapporterar från, med din e-postadress där."
        )
        % {"domain": foreign[0], "organization": own}
    }


def _no_agreement_message(date: datetime.date) -> str:
    """Why nothing can be reported for ``date`` when no agreement was in force then; "" if one was."""
    if Agreement.objects.valid_on(date).exists():
        return ""
    first = Agreement.objects.filter(active=True).aggregate(first=Min("valid_from"))["first"]
    if first is None or date > first:
        return _("Ingen av överenskommelserna gällde %(date)s. Kontrollera datumet.") % {
            "date": date.isoformat()
        }
    return _(
        "Ingen av överenskommelserna gällde %(date)s: den tidigaste började gälla %(first)s. Kontrollera "
        "datumet."
    ) % {"date": date.isoformat(), "first": first.isoformat()}


def submit_deviation(*, data: dict | CheckedReport, idempotency_key, reporter=None) -> tuple[Deviation, bool]:
    """File a report; returns ``(deviation, created)``.

    The same ``idempotency_key`` always gives the same report (double clicks, resubmits), created once;
    so does the same content from the same reporter within ``DUPLICATE_WINDOW`` (the form sent again
    after going back in the browser, which may carry a new key).
    Without an account the report waits, unconfirmed, for the reporter to follow the e-mailed link;
    a signed-in ``reporter`` is confirmed (and routed) in the same transaction.
    Raises ``Invalid`` (its ``errors`` by field) if a rule in ``report_errors`` is broken; nothing is
    stored then. ``data`` is checked against the rules here, unless it is a ``CheckedReport`` that
    ``check_report`` made for the same ``reporter`` today (the form's check in the same request).
    """
    try:
        return _submit_deviation(data=data, idempotency_key=idempotency_key, reporter=reporter)
    except IntegrityError:
        # A concurrent request with the same key won the race (its transaction, or savepoint when
        # called inside one, is rolled back, with the reference number it took): answer with its report.
        existing = _report_with_key(idempotency_key)
        if existing is None:
            raise
        return existing, False


@transaction.atomic
def _submit_deviation(*, data: dict | CheckedReport, idempotency_key, reporter) -> tuple[Deviation, bool]:
    existing = _report_with_key(idempotency_key)
    if existing is not None:
        return existing, False
    today = timezone.localdate()
    checked = isinstance(data, CheckedReport) and data.holds_for(reporter=reporter, today=today)
    snapshot = data.reference_data if checked else None
    if isinstance(data, CheckedReport):
        data = data.data
    if not checked:
        errors = report_errors(data, reporter=reporter)
        if errors:
            raise Invalid(" ".join(errors.values()), errors=errors)
    # Planned for its values: its generic plan may walk every report of the reporter's category and day
    # instead of the description's index (78 ms against 0.1 on the bench, where the generated
    # descriptions repeat).
    existing = _same_report(data, reporter=reporter)
    if existing is not None:
        return existing, False
    # The rest of the transaction finds and writes rows by key: its prepared statements keep their
    # generic plans instead of being planned for every report (the summary's pending rows included,
    # which then need no setting of their own).
    with planner_settings(GENERIC_PLAN_SETTINGS), reference.pinned(snapshot):
        return _file(data, idempotency_key=idempotency_key, reporter=reporter), True


def _file(data: dict, *, idempotency_key, reporter) -> Deviation:
    """Save the new report: routed and numbered at once for a signed-in ``reporter``, else unconfirmed."""
    fields = {name: data.get(name) for name in _MODEL_FIELDS}
    for name in (*GUARDED_FIELDS, "severity"):
        fields[name] = (fields[name] or "").strip()
    deviation = Deviation(
        reference=f"{UNCONFIRMED_REFERENCE_PREFIX}{uuid.UUID(str(idempotency_key)).hex[:18]}",
        status=Status.UNCONFIRMED,
        idempotency_key=idempotency_key,
        reporter=reporter,
        **fields,
    )
    # The receipt and the new-report mail of a signed-in reporter's report: one task row.
    with mails_together(), summary.tracking() as tracker:
        tracker.add(deviation)  # new: counted once confirmed, with its counterparts
        if reporter is not None:
            # Confirmed before it is first saved: one INSERT of the routed, numbered report.
            deviation = _confirm(deviation=deviation, actor=reporter)
        else:
            deviation.save(force_insert=True)
        deviation.counterpart_organizations.add(*data["counterpart_organizations"])
    if reporter is None:
        queue_email(template="confirm_report", deviation=deviation, language=_language())
    logger.info("deviation %s submitted (confirmed: %s)", deviation.pk, reporter is not None)
    return deviation


def resend_confirmation(*, deviation: Deviation) -> None:
    """Send the reporter a new confirmation link (the first mail was lost, or its link expired). Raises
    ``Conflict`` if the report is no longer waiting for one."""
    if deviation.status != Status.UNCONFIRMED:
        raise Conflict(_("Rapporten är redan bekräftad."))
    with transaction.atomic():
        queue_email(template="confirm_report", deviation=deviation, language=_language())
    logger.info("deviation %s: confirmation link sent again", deviation.pk)


def _found(rows: list[tuple]) -> Deviation | None:
    """The report of the first of ``rows`` (its primary key), read whole only when there is one: the
    lookups of a filing find none almost always."""
    return Deviation.objects.get(pk=rows[0][0]) if rows else None


def _pk(value):
    return getattr(value, "pk", value)


#: The report filed with an idempotency key, compiled once per process (on every filing; compiling it
#: cost the ORM more Python than PostgreSQL spends on it).
_WITH_KEY = CompiledRead(
    Deviation,
    lambda key: Deviation.objects.filter(idempotency_key=key).order_by("pk").values_list("pk")[:1],
    uuid.UUID,
)


def _report_with_key(idempotency_key) -> Deviation | None:
    return _found(_WITH_KEY.read(uuid.UUID(str(idempotency_key))))


def _same_content(
    digest, since, agreement, category, occurred_on, municipality, organization, text, consequence
):
    """Reports with this content filed since ``since`` (``digest``: the md5 of the description ``text``)."""
    # Looked up by the index's expression (deviation_duplicate_idx), then compared in full.
    return Deviation.objects.alias(description_md5=MD5("description")).filter(
        description_md5=digest,
        created_at__gte=since,
        agreement_id=agreement,
        category_id=category,
        occurred_on=occurred_on,
        municipality_id=municipality,
        reporting_organization_id=organization,
        description=text,
        consequence=consequence,
    )


_CONTENT = (str, datetime.datetime, int, int, datetime.date, int, int, str, str)
#: The same content lately from the same signed-in reporter, or from the same address without an
#: account: compiled once per process (~1 ms of the ORM's Python per filing).
_SAME_REPORT = {
    True: CompiledRead(
        Deviation,
        lambda *values: (
            _same_content(*values[:-1])
            .filter(reporter_id=values[-1])
            .order_by("created_at", "pk")
            .values_list("pk")[:1]
        ),
        *_CONTENT,
        int,
    ),
    False: CompiledRead(
        Deviation,
        lambda *values: (
            _same_content(*values[:-1])
            .filter(reporter__isnull=True, reporter_email__iexact=values[-1])
            .order_by("created_at", "pk")
            .values_list("pk")[:1]
        ),
        *_CONTENT,
        str,
    ),
}


def _same_report(data: dict, *, reporter) -> Deviation | None:
    """The report this reporter filed with the same content within ``DUPLICATE_WINDOW``, if any."""
    description = (data["description"] or "").strip()
    content = (
        hashlib.md5(description.encode(), usedforsecurity=False).hexdigest(),
        timezone.now() - DUPLICATE_WINDOW,
        _pk(data["agreement"]),
        _pk(data["category"]),
        data["occurred_on"],
        _pk(data["municipality"]),
        _pk(data["reporting_organization"]),
        description,
        (data["consequence"] or "").strip(),
    )
    signed_in = reporter is not None
    who = reporter.pk if signed_in else (data["reporter_email"] or "").strip()
    return _found(_SAME_REPORT[signed_in].read(*content, who))


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
    queue_email(template="receipt", deviation=deviation, language=_language())
    return deviation


def _language() -> str:
    """The reporter's mails are in the language of the page they used."""
    return get_language() or settings.LANGUAGE_CODE
