"""Responses from counterpart organisations (yttranden): asking for one, withdrawing the request,
extending its deadline, re-sending its link, the answer through the signed link (also after the due
date, then marked late), and the daily reminders and overdue marks."""

import datetime
import logging
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from config.errors import Conflict, Invalid
from config.personal_data import guard_texts

from .. import notifications, summary
from ..dates import stockholm_today
from ..models import Deviation, DeviationEvent, ResponseRequest
from ..workflow import Status
from .response_summaries import sync_response_summaries
from .transitions import apply_transition, require_handler, site_language_text, transition_held, write_event

logger = logging.getLogger(__name__)


class ResponseLinkInvalid(Conflict):
    """The answer link was already used, withdrawn or is past its due date."""


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
        raise Invalid(_("Välj minst en organisation."))
    guard_texts(message=message)
    for organization in organizations:
        guard_texts(email=organization.contact_email)
    missing = [o.name for o in organizations if not o.contact_email]
    if missing:
        raise Invalid(_("Kontaktadress för yttranden saknas för: %(names)s.") % {"names": ", ".join(missing)})
    today = stockholm_today()
    due_on = due_on or today + datetime.timedelta(days=settings.RESPONSE_DEADLINE_DAYS)
    if due_on <= today:
        raise Invalid(_("Svarsdatumet måste ligga i framtiden."))
    deviation = Deviation.objects.select_for_update().get(pk=deviation.pk)
    require_handler(actor, deviation)
    already_asked = set(
        ResponseRequest.objects.open()
        .filter(deviation=deviation, organization__in=organizations)
        .values_list("organization__name", flat=True)
    )
    if already_asked:
        raise Conflict(
            _("Yttrande är redan begärt från: %(names)s.") % {"names": ", ".join(sorted(already_asked))}
        )
    # The requests first, then the transition (which refuses "awaiting response" with nothing asked);
    # a refused transition rolls them back with everything else. The follow-up summary takes the
    # report's contribution before both and adds the difference after them.
    with summary.tracking() as tracker:
        tracker.add(deviation, locked=True)
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
        deviation = transition_held(
            deviation=deviation,
            action="request_response",
            actor=actor,
            text=", ".join(o.name for o in organizations),
            at=now,
        )
        # After the transition, whose save() writes the report as it was read.
        sync_response_summaries([deviation.pk])
    for response_request in requests:
        response_request.deviation = deviation
        write_event(
            deviation=deviation,
            actor=actor,
            kind=DeviationEvent.Kind.RESPONSE_REQUESTED,
            text=site_language_text(
                gettext_noop("%(org)s, svar senast %(due)s"),
                {"org": response_request.organization.name, "due": due_on.isoformat()},
            ),
            created_at=now,
        )
    for response_request in requests:
        notifications.response_requested(response_request=response_request)
    return requests


@transaction.atomic
def cancel_response_request(*, response_request: ResponseRequest, actor) -> ResponseRequest:
    """Withdraw an unanswered request: its link stops working and the organisation's staff lose
    access to the report. When it was the last open request of a report awaiting response, the report
    goes back to triage ("resume_triage"): nothing waits for a response nobody is asked for."""
    response_request = _open_request_held(response_request, actor)
    with summary.tracking() as tracker:
        tracker.add(response_request.deviation)
        response_request.cancelled_at = timezone.now()
        response_request.save(update_fields=["cancelled_at"])
    sync_response_summaries([response_request.deviation_id])
    write_event(
        deviation=response_request.deviation,
        actor=actor,
        kind=DeviationEvent.Kind.NOTE,
        action="cancel_response_request",
        text=site_language_text(
            gettext_noop("Begäran om yttrande från %(org)s återkallad."),
            {"org": response_request.organization.name},
        ),
    )
    deviation = response_request.deviation
    if deviation.status == Status.AWAITING_RESPONSE and not deviation.response_requests.open().exists():
        apply_transition(
            deviation=deviation,
            action="resume_triage",
            actor=actor,
            text=site_language_text(gettext_noop("Ingen begäran om yttrande återstår.")),
        )
    return response_request


def _open_request_held(response_request: ResponseRequest, actor) -> ResponseRequest:
    """The request locked for this transaction, after checking that ``actor`` handles its report and
    that it is still open."""
    response_request = (
        ResponseRequest.objects.select_for_update(of=("self",))
        .select_related("deviation", "organization")
        .get(pk=response_request.pk)
    )
    require_handler(actor, response_request.deviation)
    if not response_request.is_open:
        raise Conflict(_("Begäran är redan besvarad eller återkallad."))
    return response_request


@transaction.atomic
def extend_response_deadline(
    *, response_request: ResponseRequest, actor, due_on: datetime.date
) -> ResponseRequest:
    """Give the counterpart more time: a later due date for an open request (also one already past its
    due date). The reminder and the overdue mark apply again to the new date; the counterpart is told."""
    response_request = _open_request_held(response_request, actor)
    if due_on <= stockholm_today():
        raise Invalid(_("Svarsdatumet måste ligga i framtiden."))
    if due_on <= response_request.due_on:
        raise Invalid(_("Det nya svarsdatumet måste ligga efter det nuvarande."))
    previous = response_request.due_on
    with summary.tracking() as tracker:  # "answered on time" is counted against the due date
        tracker.add(response_request.deviation)
        response_request.due_on = due_on
        response_request.reminder_sent_at = None
        response_request.overdue_marked_at = None
        response_request.save(update_fields=["due_on", "reminder_sent_at", "overdue_marked_at"])
    sync_response_summaries([response_request.deviation_id])
    write_event(
        deviation=response_request.deviation,
        actor=actor,
        kind=DeviationEvent.Kind.NOTE,
        action="extend_response_deadline",
        text=site_language_text(
            gettext_noop("Svarstiden för yttrande från %(org)s förlängd från %(old)s till %(new)s."),
            {
                "org": response_request.organization.name,
                "old": previous.isoformat(),
                "new": due_on.isoformat(),
            },
        ),
    )
    notifications.response_deadline_extended(response_request=response_request)
    return response_request


@transaction.atomic
def resend_response_link(*, response_request: ResponseRequest, actor) -> ResponseRequest:
    """Send the answer link of an open request again, to the organisation's current contact address
    (corrected in admin since, perhaps). The link stays the same."""
    response_request = _open_request_held(response_request, actor)
    contact = response_request.organization.contact_email
    if contact and contact != response_request.email:
        response_request.email = contact
        response_request.save(update_fields=["email"])
    write_event(
        deviation=response_request.deviation,
        actor=actor,
        kind=DeviationEvent.Kind.NOTE,
        action="resend_response_link",
        text=site_language_text(
            gettext_noop("Länken till begäran om yttrande skickad igen till %(org)s."),
            {"org": response_request.organization.name},
        ),
    )
    notifications.response_requested(response_request=response_request)
    return response_request


@transaction.atomic
def record_response(
    *, response_request: ResponseRequest, answered_by_name: str, what_happened: str, actions: str
) -> ResponseRequest:
    """Store the counterpart's answer (once), log it on the report and tell the coordinators. An answer
    after the due date is taken too, marked late (``answered_late``) here and in the event log."""
    response_request = ResponseRequest.objects.select_for_update().get(pk=response_request.pk)
    if not response_request.is_answerable:
        raise ResponseLinkInvalid
    if not (what_happened or "").strip() and not (actions or "").strip():
        raise Invalid(_("Skriv vad som hände eller vilka åtgärder som vidtagits."))
    guard_texts(answered_by_name=answered_by_name, what_happened=what_happened, actions=actions)
    now = timezone.now()
    deviation = response_request.deviation
    with summary.tracking() as tracker:
        tracker.add(deviation)
        response_request.answered_late = response_request.is_late(stockholm_today(now))
        response_request.answered_at = now
        response_request.answered_by_name = (answered_by_name or "").strip()[:150]
        response_request.answer_what_happened = (what_happened or "").strip()
        response_request.answer_actions = (actions or "").strip()
        response_request.save()
    sync_response_summaries([response_request.deviation_id])
    if response_request.answered_late:
        text = site_language_text(
            gettext_noop("%(org)s – sent yttrande (svar senast %(due)s)"),
            {"org": response_request.organization.name, "due": response_request.due_on.isoformat()},
        )
    else:
        text = response_request.organization.name
    write_event(
        deviation=deviation,
        actor_label=f"{response_request.organization.name} ({response_request.answered_by_name})"[:200],
        kind=DeviationEvent.Kind.RESPONSE_RECEIVED,
        action="answered_late" if response_request.answered_late else "",
        text=text,
        created_at=now,
    )
    Deviation.objects.filter(pk=deviation.pk).update(updated_at=now)
    notifications.response_received(response_request=response_request)
    return response_request


def response_reminder_days() -> int:
    return getattr(settings, "RESPONSE_REMINDER_DAYS", 7)


def send_response_reminders(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """The daily run: remind organisations ``RESPONSE_REMINDER_DAYS`` before the due date (once per
    request) and mark requests past their due date as overdue (once), telling both the handlers and
    the counterpart (whose link still takes a late answer). Safe to run twice, or twice at
    the same time: each row is claimed with a conditional UPDATE before anything is sent."""
    now = now or timezone.now()
    today = stockholm_today(now)
    reminded = overdue = 0
    pending = ResponseRequest.objects.answerable()
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
    past_due = pending.overdue(today).filter(overdue_marked_at__isnull=True)
    for pk in past_due.values_list("pk", flat=True).iterator():
        with transaction.atomic():
            if not ResponseRequest.objects.filter(pk=pk, overdue_marked_at__isnull=True).update(
                overdue_marked_at=now
            ):
                continue
            response_request = ResponseRequest.objects.select_related(
                "deviation__council", "organization", "requested_by"
            ).get(pk=pk)
            write_event(
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
            notifications.response_overdue_to_counterpart(response_request=response_request)
            overdue += 1
    logger.info("response reminders: %d reminded, %d marked overdue", reminded, overdue)
    return {"reminded": reminded, "overdue": overdue}
