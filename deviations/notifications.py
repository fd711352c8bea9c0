"""Who is told what after each hand-off. Mails carry references and links, never report text.

A mail is queued as a reference (``queue_email``): the message kind (its template), the report, the
response request when it is about one, and the language. The worker (``tasks.send_email``) looks
them up and composes the mail when it sends it (``message_for``): the task table never holds an
address, a body or a signed link, and a report erased or purged in the meantime is simply not mailed.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from councils.models import Council, CouncilMembership

from . import tokens
from .emails import absolute_url, compose
from .models import Deviation, ResponseRequest
from .selectors import COORDINATOR_ROLES


def coordinator_emails(council) -> list[str]:
    if council is None:
        return []
    return list(
        CouncilMembership.objects.filter(
            council=council,
            role__in=COORDINATOR_ROLES,
            user__is_active=True,
        )
        .exclude(user__email="")
        .order_by()  # compose sorts the addresses; no join to the councils for the model's ordering
        .values_list("user__email", flat=True)
    ) + ([council.email] if council.email else [])


def regional_coordinator_emails() -> list[str]:
    memberships = CouncilMembership.objects.filter(
        council__level=Council.Level.REGIONAL,
        council__active=True,
        role__in=COORDINATOR_ROLES,
        user__is_active=True,
    ).exclude(user__email="")
    councils = Council.objects.filter(level=Council.Level.REGIONAL, active=True).exclude(email="")
    return list(memberships.values_list("user__email", flat=True)) + list(
        councils.values_list("email", flat=True)
    )


def detail_link(deviation: Deviation) -> str:
    return absolute_url(reverse("deviations:detail", args=[deviation.reference]))


def reporter_link(deviation: Deviation) -> str:
    """Where the reporter follows the report: the private status link, which works with or without an
    account and shows only what the reporter may see."""
    return absolute_url(reverse("deviations:status", args=[tokens.status_token(deviation)]))


def confirmation_link(deviation: Deviation) -> str:
    """A fresh confirmation link: valid ``CONFIRMATION_MAX_AGE_HOURS`` from the moment it is sent."""
    return absolute_url(reverse("deviations:confirm", args=[tokens.confirmation_token(deviation)]))


def reporter_address(deviation: Deviation) -> str:
    """Where mails to the reporter go: the address given on the report, else the account's."""
    if deviation.reporter_email:
        return deviation.reporter_email
    return deviation.reporter.email if deviation.reporter_id else ""


# --- The messages: recipients and context, looked up when the mail is sent -------------------------


def _context(deviation: Deviation, **extra) -> dict:
    return {
        "deviation": deviation,
        "link": detail_link(deviation),
        "agreement": deviation.agreement,
        "category": deviation.category,
        **extra,
    }


def _response_context(response_request: ResponseRequest, **extra) -> dict:
    return _context(
        response_request.deviation,
        response_request=response_request,
        organization=response_request.organization,
        **extra,
    )


def _rerouted_context(deviation: Deviation) -> dict:
    """Where the report came from and who moved it, from its latest re-route event; the reason is in the
    report's history (mails carry no written text)."""
    event = (
        deviation.events.filter(action="reroute")
        .select_related("from_council", "actor")
        .order_by("-created_at", "-pk")
        .first()
    )
    return _context(
        deviation,
        from_council=event.from_council if event else None,
        actor=event.actor if event else None,
    )


def _handlers_of(response_request: ResponseRequest) -> list[str]:
    deviation = response_request.deviation
    to = coordinator_emails(deviation.council)
    if response_request.requested_by.email:
        to.append(response_request.requested_by.email)
    if deviation.status in {"escalated", "regional_analysis"}:
        to += regional_coordinator_emails()
    return to


@dataclass(frozen=True)
class Message:
    """One kind of mail: who gets it and what its template is given, from the report (or the response
    request) as it is when the mail is sent."""

    about_response: bool
    recipients: Callable[..., list[str]]
    context: Callable[..., dict]


MESSAGES: dict[str, Message] = {
    # To the reporter.
    "confirm_report": Message(
        about_response=False,
        recipients=lambda d: [d.reporter_email],
        context=lambda d: _context(
            d, link=confirmation_link(d), max_age_hours=settings.CONFIRMATION_MAX_AGE_HOURS
        ),
    ),
    "receipt": Message(
        about_response=False,
        recipients=lambda d: [reporter_address(d)],
        context=lambda d: _context(d, status_link=reporter_link(d)),
    ),
    "feedback": Message(
        about_response=False,
        recipients=lambda d: [reporter_address(d)],
        context=lambda d: _context(d, reporter_link=reporter_link(d)),
    ),
    # To the councils.
    "new_report": Message(
        about_response=False, recipients=lambda d: coordinator_emails(d.council), context=_context
    ),
    "rerouted": Message(
        about_response=False, recipients=lambda d: coordinator_emails(d.council), context=_rerouted_context
    ),
    "escalated": Message(
        about_response=False, recipients=lambda d: regional_coordinator_emails(), context=_context
    ),
    # To the counterpart (with the signed answer link), and to the handlers about the answer.
    "response_requested": Message(
        about_response=True,
        recipients=lambda r: [r.email],
        context=lambda r: _response_context(r, response_link=_response_link(r)),
    ),
    "response_reminder": Message(
        about_response=True,
        recipients=lambda r: [r.email],
        context=lambda r: _response_context(r, response_link=_response_link(r)),
    ),
    "response_received": Message(about_response=True, recipients=_handlers_of, context=_response_context),
    "response_overdue": Message(about_response=True, recipients=_handlers_of, context=_response_context),
}


def _response_link(response_request: ResponseRequest) -> str:
    from .response_tokens import response_link

    return response_link(response_request)


def queue_email(
    *,
    template: str,
    deviation: Deviation,
    response_request: ResponseRequest | None = None,
    language: str = "sv",
) -> None:
    """Send the ``template`` mail about ``deviation`` (or ``response_request``) after commit. Only the
    references are queued; the worker composes the mail when it sends it."""
    from .tasks import send_email

    message = MESSAGES[template]
    if message.about_response != (response_request is not None):
        raise ValueError(f"the {template!r} mail is about_response={message.about_response}")

    def enqueue():
        send_email.enqueue(
            template=template,
            deviation_id=deviation.pk,
            response_request_id=response_request.pk if response_request is not None else None,
            language=language,
        )

    transaction.on_commit(enqueue)


def message_for(*, template: str, deviation_id: int, response_request_id: int | None = None, language: str):
    """The mail a queued reference stands for, composed from the database as it is now; ``None`` when
    there is nothing to send (the report was purged, the reporter's address erased, the request
    answered)."""
    message = MESSAGES[template]
    if message.about_response:
        about = (
            ResponseRequest.objects.select_related(
                "deviation__council",
                "deviation__agreement",
                "deviation__category",
                "organization",
                "requested_by",
            )
            .filter(pk=response_request_id, deviation_id=deviation_id)
            .first()
        )
    else:
        about = (
            Deviation.objects.select_related("council", "agreement", "category", "reporter")
            .filter(pk=deviation_id)
            .first()
        )
    if about is None:
        return None
    return compose(
        template=template, to=message.recipients(about), context=message.context(about), language=language
    )


# --- After each hand-off ---------------------------------------------------------------------------


def after_transition(*, deviation: Deviation, action: str, from_status: str) -> None:
    """Mail who must act after ``action`` (the re-route mail reads where the report came from and who
    moved it from the report's latest re-route event when it is sent)."""
    if action == "confirm":
        queue_email(template="new_report", deviation=deviation)
    elif action == "reroute":
        queue_email(template="rerouted", deviation=deviation)
    elif action == "escalate":
        queue_email(template="escalated", deviation=deviation)
    elif action in {"close", "reject"}:
        feedback_given(deviation=deviation)


def feedback_given(*, deviation: Deviation) -> None:
    """Tell the reporter there is feedback on their report (the feedback itself is on the page)."""
    if reporter_address(deviation):
        queue_email(template="feedback", deviation=deviation)


def response_requested(*, response_request) -> None:
    _about_response("response_requested", response_request)


def response_reminder(*, response_request) -> None:
    _about_response("response_reminder", response_request)


def response_received(*, response_request) -> None:
    _about_response("response_received", response_request)


def response_overdue(*, response_request) -> None:
    _about_response("response_overdue", response_request)


def _about_response(template: str, response_request) -> None:
    queue_email(template=template, deviation=response_request.deviation, response_request=response_request)
