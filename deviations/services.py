"""Writes: every way a report can change is a function here. Keyword-only, one transaction each."""

import calendar
import datetime
import logging
import uuid
from collections.abc import Iterable
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q, prefetch_related_objects
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from councils.models import Council, CouncilMembership

from . import pii, selectors, tokens
from .emails import absolute_url, queue_email
from .models import (
    AccessLog,
    Deviation,
    DeviationEvent,
    ReferenceCounter,
    ResponseRequest,
    SystemicAction,
    SystemicIssue,
)
from .selectors import is_regional_coordinator, open_response_requests, roles_for
from .workflow import FINAL_STATES, HANDLERS, TRANSITIONS, Role, Status, Transition

logger = logging.getLogger(__name__)


class TransitionNotAllowed(Exception):
    """The action is not allowed from the report's state, or not for this person."""


# --- Reference numbers ---------------------------------------------------------------------------


def next_reference(*, year: int) -> str:
    """Hand out the next ``SB-<year>-<nnnnn>`` number in one statement (the year's row is created or
    incremented). Must run inside a transaction: the counter row stays locked until commit, so
    concurrent submissions get distinct, gap-free numbers; keep it the last statement before the
    report is saved, as it serialises the submissions of the year until their commit."""
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError("next_reference() must run inside a transaction.")
    quote, meta = connection.ops.quote_name, ReferenceCounter._meta
    table, year_column, last = (
        quote(meta.db_table),
        quote(meta.get_field("year").column),
        quote(meta.get_field("last").column),
    )
    # Only quoted names from the model's metadata are formatted in; the year is a parameter.
    sql = (
        f"INSERT INTO {table} ({year_column}, {last}) VALUES (%s, 1) "  # noqa: S608
        f"ON CONFLICT ({year_column}) DO UPDATE SET {last} = {table}.{last} + 1 RETURNING {last}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [year])
        (number,) = cursor.fetchone()
    return f"SB-{year}-{number:05d}"


# --- Routing -------------------------------------------------------------------------------------


def council_for_place(*, municipality_id: int, district_id: int | None = None) -> Council | None:
    """The council a report from this place belongs to: the active local council covering the district
    (or, failing that, the whole municipality); otherwise the regional council. The lowest id wins
    within each of the three.

    One hand-written query: it runs on every filing, and the same query built by the ORM (``Case``,
    ``Exists``) costs several times more CPU to compile than to run."""
    councils = Council._meta.db_table
    by_district = Council.districts.through._meta.db_table
    by_municipality = Council.municipalities.through._meta.db_table
    sql = f"""
        SELECT * FROM (
            SELECT c.*, CASE
                WHEN c.level = %s AND c.id IN (SELECT council_id FROM {by_district} WHERE district_id = %s)
                    THEN 0
                WHEN c.level = %s AND c.id IN (
                    SELECT council_id FROM {by_municipality} WHERE municipality_id = %s
                ) THEN 1
                WHEN c.level = %s THEN 2
            END AS route_rank
            FROM {councils} c
            WHERE c.active
        ) ranked
        WHERE route_rank IS NOT NULL
        ORDER BY route_rank, id
        LIMIT 1
    """  # noqa: S608 - table names from the models' metadata; values are parameters
    local, regional = Council.Level.LOCAL, Council.Level.REGIONAL
    params = [local, district_id, local, municipality_id, regional]
    return next(iter(Council.objects.raw(sql, params)), None)


# --- The state machine ---------------------------------------------------------------------------


def site_language_text(message: str, params: dict | None = None) -> str:
    """``message`` (marked with ``gettext_noop``) in the site's language, ``LANGUAGE_CODE``, whatever the
    language of the request: texts saved in the event log are read later by council staff and must not
    depend on the language of whoever caused them."""
    with translation.override(settings.LANGUAGE_CODE):
        text = _(message)
    return text % params if params else text


def _event(*, deviation, actor=None, actor_label="", **fields) -> DeviationEvent:
    return DeviationEvent.objects.create(
        deviation=deviation,
        actor=actor if actor and actor.is_authenticated else None,
        actor_label=actor_label,
        **fields,
    )


@transaction.atomic
def apply_transition(*, deviation: Deviation, action: str, actor, **options) -> Deviation:
    """Apply one transition of ``deviation.workflow.TRANSITIONS``: check the state and the actor's role,
    update the report, write the immutable event and queue the notifications.

    ``options`` are those of ``_transition``: ``text``, ``roles`` (computed from ``actor`` unless given;
    only token-verified flows such as the reporter's confirmation link pass them), ``actor_label``,
    ``target_council``, ``reject_reason``, ``duplicate_of``.
    """
    if action not in TRANSITIONS:
        raise TransitionNotAllowed(_("Okänd åtgärd."))
    deviation = Deviation.objects.select_for_update().get(pk=deviation.pk)
    return _transition(deviation=deviation, action=action, actor=actor, **options)


def _transition(
    *,
    deviation: Deviation,
    action: str,
    actor,
    text: str = "",
    roles: set[Role] | None = None,
    actor_label: str = "",
    target_council: Council | None = None,
    reject_reason: str = "",
    duplicate_of: Deviation | None = None,
) -> Deviation:
    """``apply_transition`` for a report the caller holds in its transaction: locked by
    ``apply_transition``, or not saved yet (``submit_deviation``; then saving it inserts it)."""
    transition: Transition | None = TRANSITIONS.get(action)
    if transition is None:
        raise TransitionNotAllowed(_("Okänd åtgärd."))
    if roles is None:
        roles = roles_for(actor, deviation)
    if deviation.status not in transition.source:
        raise TransitionNotAllowed(
            _("Åtgärden ”%(action)s” går inte att utföra när rapporten har status ”%(status)s”.")
            % {"action": transition.label, "status": deviation.get_status_display()}
        )
    if not transition.roles & set(roles):
        raise TransitionNotAllowed(
            _("Du har inte behörighet att utföra åtgärden ”%(action)s”.") % {"action": transition.label}
        )
    text = (text or "").strip()
    if transition.needs_text and not text:
        raise TransitionNotAllowed(_("%(label)s måste fyllas i.") % {"label": transition.text_label})

    now = timezone.now()
    from_status = deviation.status
    _apply_side_effects(
        deviation,
        transition,
        now=now,
        target_council=target_council,
        reject_reason=reject_reason,
        duplicate_of=duplicate_of,
    )
    if transition.target is not None:
        deviation.status = transition.target
    deviation.save()
    _event(
        deviation=deviation,
        actor=actor,
        actor_label=actor_label,
        kind=DeviationEvent.Kind.TRANSITION,
        action=action,
        from_status=from_status,
        to_status=deviation.status,
        text=text,
        visibility=(
            DeviationEvent.Visibility.REPORTER
            if transition.text_visible_to_reporter
            else DeviationEvent.Visibility.INTERNAL
        ),
        created_at=now,
    )
    logger.info("deviation %s: %s (%s -> %s)", deviation.reference, action, from_status, deviation.status)
    from . import notifications

    notifications.after_transition(deviation=deviation, action=action, from_status=from_status)
    return deviation


def _apply_side_effects(
    deviation: Deviation, transition: Transition, *, now, target_council, reject_reason, duplicate_of
):
    action = transition.action
    if action == "confirm":
        deviation.submitted_at = now
        deviation.reported_on = timezone.localdate(now)
        deviation.council = council_for_place(
            municipality_id=deviation.municipality_id, district_id=deviation.district_id
        )
        if deviation.reference.startswith(UNCONFIRMED_REFERENCE_PREFIX):
            # Numbers are handed out on confirmation, so purged drafts leave no gaps. This locks the
            # counter row until commit: keep it the last query before the report is saved.
            deviation.reference = next_reference(year=deviation.reported_on.year)
    elif action == "reroute":
        if target_council is None or target_council.pk == deviation.council_id:
            raise TransitionNotAllowed(_("Välj ett annat samråd att flytta rapporten till."))
        if not target_council.active:
            raise TransitionNotAllowed(_("Samrådet är inte aktivt."))
        deviation.council = target_council
        deviation.assigned_to = None
    elif action == "close":
        deviation.closed_at = now
    elif action == "reject":
        deviation.closed_at = now
        deviation.reject_reason = reject_reason
        if duplicate_of is not None:
            if duplicate_of.pk == deviation.pk:
                raise TransitionNotAllowed(_("En rapport kan inte vara dubblett av sig själv."))
            deviation.duplicate_of = duplicate_of
    elif action == "reopen":
        deviation.closed_at = None
        deviation.reject_reason = ""
        deviation.duplicate_of = None
    if deviation.first_response_at is None and action not in {"confirm", "reroute"}:
        deviation.first_response_at = now


# --- Access log and retention --------------------------------------------------------------------


def record_access(*, user, deviation: Deviation) -> AccessLog:
    """Note that ``user`` opened ``deviation``'s detail page (kept for audits, read in the admin)."""
    return AccessLog.objects.create(user=user, deviation=deviation)


def months_before(moment: datetime.datetime, months: int) -> datetime.datetime:
    """The same wall-clock moment ``months`` calendar months earlier; a day the earlier month lacks
    (e.g. the 31st) becomes that month's last day."""
    month_index = moment.year * 12 + (moment.month - 1) - months
    year, month = divmod(month_index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


@transaction.atomic
def erase_reporter_contacts(*, now: datetime.datetime | None = None, months: int | None = None) -> int:
    """Remove the reporter's name, e-mail and phone from reports closed or rejected more than
    ``months`` (default ``settings.CONTACT_RETENTION_MONTHS``) months ago, and stamp
    ``contact_erased_at``. Idempotent: reports already erased are left alone. Returns how many
    reports were erased."""
    now = now or timezone.now()
    months = settings.CONTACT_RETENTION_MONTHS if months is None else months
    cutoff = months_before(timezone.localtime(now), months)
    count = Deviation.objects.filter(
        status__in=FINAL_STATES, closed_at__lt=cutoff, contact_erased_at__isnull=True
    ).update(reporter_name="", reporter_email="", reporter_phone="", contact_erased_at=now, updated_at=now)
    logger.info("erased reporter contact details from %d closed reports (retention %d months)", count, months)
    return count


# --- The reporter journey ------------------------------------------------------------------------

#: Unconfirmed reports carry a provisional reference; the real number is handed out on confirmation.
UNCONFIRMED_REFERENCE_PREFIX = "U-"

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
    Raises ``ValidationError`` if a rule in ``report_errors`` is broken; nothing is stored then.
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
        raise ValidationError(errors)
    fields = {name: data.get(name) for name in _MODEL_FIELDS}
    for name in (*TEXT_FIELDS, "reporter_name", "reporter_email", "reporter_phone"):
        fields[name] = (fields[name] or "").strip()
    deviation = Deviation(
        reference=f"{UNCONFIRMED_REFERENCE_PREFIX}{uuid.UUID(str(idempotency_key)).hex[:18]}",
        status=Status.UNCONFIRMED,
        idempotency_key=idempotency_key,
        reporter=reporter,
        **fields,
    )
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
    the private status link. Raises ``TransitionNotAllowed`` if it is already confirmed."""
    deviation = Deviation.objects.select_for_update().get(pk=deviation.pk)
    return _confirm(deviation=deviation, actor=actor, actor_label=actor_label)


def _confirm(*, deviation: Deviation, actor=None, actor_label: str = "") -> Deviation:
    """``confirm_deviation`` for a report the caller holds (locked, or not saved yet)."""
    deviation = _transition(
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


# --- Assignment and notes ------------------------------------------------------------------------


def _require_handler(actor, deviation: Deviation) -> set[Role]:
    roles = roles_for(actor, deviation)
    if not roles & HANDLERS:
        raise TransitionNotAllowed(_("Du har inte behörighet att handlägga rapporten."))
    return roles


def assignable_users(deviation: Deviation):
    """Council members a report may be assigned to: members of its council and, for reports at
    regional level, the regional council's members."""
    from councils.models import User

    scope = Q(council_id=deviation.council_id)
    if deviation.status in {Status.ESCALATED, Status.REGIONAL_ANALYSIS}:
        scope |= Q(council__level=Council.Level.REGIONAL)
    memberships = CouncilMembership.objects.filter(scope, council__active=True)
    return (
        User.objects.filter(is_active=True, pk__in=memberships.values("user_id"))
        .only("username", "first_name", "last_name")
        .order_by("first_name", "last_name", "username")
    )


@transaction.atomic
def assign_deviation(*, deviation: Deviation, assignee, actor) -> Deviation:
    """Assign a report to a council member (``assignee=None`` removes the assignment)."""
    deviation = (
        Deviation.objects.select_for_update(of=("self",)).select_related("council").get(pk=deviation.pk)
    )
    _require_handler(actor, deviation)
    if assignee is not None and not assignable_users(deviation).filter(pk=assignee.pk).exists():
        raise TransitionNotAllowed(_("Rapporten kan bara tilldelas en ledamot i samrådet."))
    if (assignee.pk if assignee else None) == deviation.assigned_to_id:
        return deviation
    deviation.assigned_to = assignee
    deviation.save(update_fields=["assigned_to", "updated_at"])
    _event(
        deviation=deviation,
        actor=actor,
        kind=DeviationEvent.Kind.ASSIGNMENT,
        action="assign" if assignee else "unassign",
        text=(assignee.get_full_name() or assignee.username) if assignee else "",
    )
    return deviation


def purge_unconfirmed(*, now=None) -> int:
    """Delete reports never confirmed within ``settings.UNCONFIRMED_RETENTION_DAYS``; returns how many."""
    cutoff = (now or timezone.now()) - datetime.timedelta(days=settings.UNCONFIRMED_RETENTION_DAYS)
    with transaction.atomic():
        _total, per_model = Deviation.objects.filter(
            status=Status.UNCONFIRMED, created_at__lt=cutoff
        ).delete()
    return per_model.get(Deviation._meta.label, 0)


@transaction.atomic
def add_note(*, deviation: Deviation, actor, text: str, visible_to_reporter: bool = False) -> DeviationEvent:
    """An internal note, or a note the reporter sees on their status page."""
    _require_handler(actor, deviation)
    text = (text or "").strip()
    if not text:
        raise TransitionNotAllowed(_("Anteckningen får inte vara tom."))
    event = _event(
        deviation=deviation,
        actor=actor,
        kind=DeviationEvent.Kind.NOTE,
        text=text,
        visibility=(
            DeviationEvent.Visibility.REPORTER if visible_to_reporter else DeviationEvent.Visibility.INTERNAL
        ),
    )
    if visible_to_reporter:
        from . import notifications

        notifications.feedback_given(deviation=deviation)
    return event


# --- Responses from counterpart organisations (yttranden) -----------------------------------------

#: Response deadlines and overdue marks follow the Swedish calendar whatever TIME_ZONE says.
STOCKHOLM = ZoneInfo("Europe/Stockholm")


def stockholm_today(now: datetime.datetime | None = None) -> datetime.date:
    return timezone.localtime(now or timezone.now(), STOCKHOLM).date()


@transaction.atomic
def request_response(
    *,
    deviation: Deviation,
    organizations: Iterable,
    actor,
    message: str = "",
    due_on: datetime.date | None = None,
) -> list[ResponseRequest]:
    """Ask one or more organisations for a response: the ``request_response`` transition, one
    ResponseRequest per organisation, and an e-mail with a signed answer link to each contact address."""
    organizations = list(dict.fromkeys(organizations))
    if not organizations:
        raise TransitionNotAllowed(_("Välj minst en organisation."))
    missing = [o.name for o in organizations if not o.contact_email]
    if missing:
        raise TransitionNotAllowed(
            _("Kontaktadress för yttranden saknas för: %(names)s.") % {"names": ", ".join(missing)}
        )
    today = stockholm_today()
    due_on = due_on or today + datetime.timedelta(days=settings.RESPONSE_DEADLINE_DAYS)
    if due_on <= today:
        raise TransitionNotAllowed(_("Svarsdatumet måste ligga i framtiden."))
    already_asked = set(
        open_response_requests()
        .filter(deviation=deviation, organization__in=organizations)
        .values_list("organization__name", flat=True)
    )
    if already_asked:
        raise TransitionNotAllowed(
            _("Yttrande är redan begärt från: %(names)s.") % {"names": ", ".join(sorted(already_asked))}
        )
    deviation = apply_transition(
        deviation=deviation,
        action="request_response",
        actor=actor,
        text=", ".join(o.name for o in organizations),
    )
    now = timezone.now()
    requests = [
        ResponseRequest.objects.create(
            deviation=deviation,
            organization=organization,
            email=organization.contact_email,
            message=(message or "").strip(),
            requested_by=actor,
            requested_at=now,
            due_on=due_on,
        )
        for organization in organizations
    ]
    for response_request in requests:
        _event(
            deviation=deviation,
            actor=actor,
            kind=DeviationEvent.Kind.RESPONSE_REQUESTED,
            text=site_language_text(
                gettext_noop("%(org)s, svar senast %(due)s"),
                {"org": response_request.organization.name, "due": due_on.isoformat()},
            ),
            created_at=now,
        )
    from . import notifications

    for response_request in requests:
        notifications.response_requested(response_request=response_request)
    return requests


@transaction.atomic
def cancel_response_request(*, response_request: ResponseRequest, actor) -> ResponseRequest:
    """Withdraw an unanswered request: its link stops working and the organisation's staff lose
    access to the report."""
    response_request = (
        ResponseRequest.objects.select_for_update(of=("self",))
        .select_related("deviation", "organization")
        .get(pk=response_request.pk)
    )
    _require_handler(actor, response_request.deviation)
    if not response_request.is_open:
        raise TransitionNotAllowed(_("Begäran är redan besvarad eller återkallad."))
    response_request.cancelled_at = timezone.now()
    response_request.save(update_fields=["cancelled_at"])
    _event(
        deviation=response_request.deviation,
        actor=actor,
        kind=DeviationEvent.Kind.NOTE,
        action="cancel_response_request",
        text=site_language_text(
            gettext_noop("Begäran om yttrande från %(org)s återkallad."),
            {"org": response_request.organization.name},
        ),
    )
    return response_request


class ResponseLinkInvalid(Exception):
    """The answer link was already used, withdrawn or is past its due date."""


def response_request_for_answer(pk: int) -> ResponseRequest:
    """The request a link points at, if it may still be answered; raises ResponseLinkInvalid."""
    response_request = (
        ResponseRequest.objects.select_related(
            "deviation__agreement", "deviation__category", "deviation__municipality", "organization"
        )
        .filter(pk=pk)
        .first()
    )
    if response_request is None:
        raise ResponseRequest.DoesNotExist
    if not response_request.is_open or stockholm_today() > response_request.due_on:
        raise ResponseLinkInvalid
    return response_request


@transaction.atomic
def record_response(
    *, response_request: ResponseRequest, answered_by_name: str, what_happened: str, actions: str
) -> ResponseRequest:
    """Store the counterpart's answer (once), log it on the report and tell the coordinators."""
    response_request = ResponseRequest.objects.select_for_update().get(pk=response_request.pk)
    if not response_request.is_open or stockholm_today() > response_request.due_on:
        raise ResponseLinkInvalid
    if not (what_happened or "").strip() and not (actions or "").strip():
        raise TransitionNotAllowed(_("Skriv vad som hände eller vilka åtgärder som vidtagits."))
    now = timezone.now()
    response_request.answered_at = now
    response_request.answered_by_name = (answered_by_name or "").strip()[:150]
    response_request.answer_what_happened = (what_happened or "").strip()
    response_request.answer_actions = (actions or "").strip()
    response_request.save()
    deviation = response_request.deviation
    _event(
        deviation=deviation,
        actor_label=f"{response_request.organization.name} ({response_request.answered_by_name})"[:200],
        kind=DeviationEvent.Kind.RESPONSE_RECEIVED,
        text=response_request.organization.name,
        created_at=now,
    )
    Deviation.objects.filter(pk=deviation.pk).update(updated_at=now)
    from . import notifications

    notifications.response_received(response_request=response_request)
    return response_request


def response_reminder_days() -> int:
    return getattr(settings, "RESPONSE_REMINDER_DAYS", 7)


def send_response_reminders(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The daily run: remind organisations ``RESPONSE_REMINDER_DAYS`` before the due date (once per
    request) and mark requests past their due date as overdue (once). Safe to run twice, or twice at
    the same time: each row is claimed with a conditional UPDATE before anything is sent."""
    from . import notifications

    now = now or timezone.now()
    today = stockholm_today(now)
    reminded = overdue = 0
    pending = open_response_requests()
    due_soon = pending.filter(
        reminder_sent_at__isnull=True,
        due_on__gte=today,
        due_on__lte=today + datetime.timedelta(days=response_reminder_days()),
    )
    for pk in due_soon.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            if not ResponseRequest.objects.filter(pk=pk, reminder_sent_at__isnull=True).update(
                reminder_sent_at=now
            ):
                continue
            response_request = ResponseRequest.objects.select_related("deviation", "organization").get(pk=pk)
            notifications.response_reminder(response_request=response_request)
            reminded += 1
    past_due = pending.filter(overdue_marked_at__isnull=True, due_on__lt=today)
    for pk in past_due.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            if not ResponseRequest.objects.filter(pk=pk, overdue_marked_at__isnull=True).update(
                overdue_marked_at=now
            ):
                continue
            response_request = ResponseRequest.objects.select_related(
                "deviation__council", "organization", "requested_by"
            ).get(pk=pk)
            _event(
                deviation=response_request.deviation,
                actor_label="system",
                kind=DeviationEvent.Kind.RESPONSE_OVERDUE,
                text=site_language_text(
                    gettext_noop("%(org)s, svar senast %(due)s"),
                    {"org": response_request.organization.name, "due": response_request.due_on.isoformat()},
                ),
                created_at=now,
            )
            notifications.response_overdue(response_request=response_request)
            overdue += 1
    logger.info("response reminders: %d reminded, %d marked overdue", reminded, overdue)
    return {"reminded": reminded, "overdue": overdue}


# --- Systemic issues (systemfrågor) ---------------------------------------------------------------


def _require_regional(actor) -> None:
    if not (actor.is_authenticated and (actor.is_superuser or is_regional_coordinator(actor))):
        raise TransitionNotAllowed(_("Endast regionala samordnare kan hantera systemfrågor."))


@transaction.atomic
def save_systemic_issue(
    *,
    actor,
    title: str,
    description: str,
    agreements: Iterable,
    state: str = SystemicIssue.State.OPEN,
    outcome: str = "",
    issue: SystemicIssue | None = None,
) -> SystemicIssue:
    """Create a systemic issue, or update one (``issue``)."""
    _require_regional(actor)
    if issue is None:
        issue = SystemicIssue(created_by=actor)
    issue.title = title.strip()
    issue.description = description.strip()
    issue.outcome = (outcome or "").strip()
    if state == SystemicIssue.State.RESOLVED and issue.resolved_at is None:
        issue.resolved_at = timezone.now()
    elif state != SystemicIssue.State.RESOLVED:
        issue.resolved_at = None
    issue.state = state
    issue.save()
    issue.agreements.set(agreements)
    return issue


@transaction.atomic
def add_systemic_action(
    *, issue: SystemicIssue, actor, description: str, owner, due_on: datetime.date
) -> SystemicAction:
    _require_regional(actor)
    return SystemicAction.objects.create(
        issue=issue, description=description.strip(), owner=owner, due_on=due_on
    )


@transaction.atomic
def set_systemic_action_state(*, action: SystemicAction, actor, state: str) -> SystemicAction:
    _require_regional(actor)
    action.state = state
    action.done_on = stockholm_today() if state == SystemicAction.State.DONE else None
    action.save(update_fields=["state", "done_on"])
    return action


@transaction.atomic
def link_to_systemic_issue(*, issue: SystemicIssue, deviation: Deviation, actor) -> Deviation:
    """Group a report under a systemic issue (moving it from another issue if needed)."""
    _require_regional(actor)
    deviation = Deviation.objects.select_for_update().get(pk=deviation.pk)
    if deviation.status == Status.UNCONFIRMED:
        raise TransitionNotAllowed(_("Rapporten finns inte."))
    if deviation.systemic_issue_id == issue.pk:
        return deviation
    deviation.systemic_issue = issue
    deviation.save(update_fields=["systemic_issue", "updated_at"])
    _event(deviation=deviation, actor=actor, kind=DeviationEvent.Kind.LINKED, action="link", text=issue.title)
    return deviation


@transaction.atomic
def unlink_from_systemic_issue(*, deviation: Deviation, actor) -> Deviation:
    _require_regional(actor)
    deviation = (
        Deviation.objects.select_for_update(of=("self",))
        .select_related("systemic_issue")
        .get(pk=deviation.pk)
    )
    if deviation.systemic_issue is None:
        return deviation
    title = deviation.systemic_issue.title
    deviation.systemic_issue = None
    deviation.save(update_fields=["systemic_issue", "updated_at"])
    _event(deviation=deviation, actor=actor, kind=DeviationEvent.Kind.LINKED, action="unlink", text=title)
    return deviation


@transaction.atomic
def resolve_systemic_issue(
    *, issue: SystemicIssue, actor, outcome: str, feedback: str = "", close_open_reports: bool = False
) -> dict[str, int]:
    """Mark an issue resolved with its outcome. With ``feedback``, every linked report gets it: open
    reports that may be closed are closed with it (``close_open_reports``); the others get a FEEDBACK
    event visible to the reporter and an e-mail."""
    _require_regional(actor)
    outcome = (outcome or "").strip()
    if not outcome:
        raise TransitionNotAllowed(_("Beskriv resultatet."))
    issue.state = SystemicIssue.State.RESOLVED
    issue.outcome = outcome
    issue.resolved_at = issue.resolved_at or timezone.now()
    issue.save(update_fields=["state", "outcome", "resolved_at", "updated_at"])
    closed = informed = 0
    feedback = (feedback or "").strip()
    if not feedback:
        return {"closed": 0, "informed": 0}
    from . import notifications

    for deviation in issue.deviations.exclude(status=Status.UNCONFIRMED).order_by("pk").iterator():
        if close_open_reports and "close" in {
            t.action for t in _allowed_for(deviation=deviation, actor=actor)
        }:
            apply_transition(deviation=deviation, action="close", actor=actor, text=feedback)
            closed += 1
            continue
        _event(
            deviation=deviation,
            actor=actor,
            kind=DeviationEvent.Kind.FEEDBACK,
            text=feedback,
            visibility=DeviationEvent.Visibility.REPORTER,
        )
        notifications.feedback_given(deviation=deviation)
        informed += 1
    return {"closed": closed, "informed": informed}


def _allowed_for(*, deviation: Deviation, actor):
    from .workflow import allowed_actions

    return allowed_actions(deviation.status, roles_for(actor, deviation))
