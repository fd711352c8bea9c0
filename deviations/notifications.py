"""Who is told what after each hand-off. Mails carry references and links, never report text."""

from django.urls import reverse

from councils.models import Council, CouncilMembership

from . import tokens
from .emails import absolute_url, queue_email
from .models import Deviation
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
        .order_by()  # queue_email sorts the addresses; no join to the councils for the model's ordering
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


def _context(deviation: Deviation, **extra) -> dict:
    return {
        "deviation": deviation,
        "link": detail_link(deviation),
        "agreement": deviation.agreement,
        "category": deviation.category,
        **extra,
    }


def after_transition(*, deviation: Deviation, action: str, from_status: str) -> None:
    context = _context(deviation)
    if action in {"confirm", "reroute"}:
        queue_email(template="new_report", to=coordinator_emails(deviation.council), context=context)
    elif action == "escalate":
        queue_email(template="escalated", to=regional_coordinator_emails(), context=context)
    elif action in {"close", "reject"}:
        feedback_given(deviation=deviation)


def feedback_given(*, deviation: Deviation) -> None:
    """Tell the reporter there is feedback on their report (the feedback itself is on the page)."""
    if not deviation.reporter_email and not (deviation.reporter_id and deviation.reporter.email):
        return
    to = [deviation.reporter_email or deviation.reporter.email]
    queue_email(
        template="feedback",
        to=to,
        context=_context(deviation, reporter_link=reporter_link(deviation)),
    )


def response_requested(*, response_request) -> None:
    _mail_counterpart("response_requested", response_request)


def response_reminder(*, response_request) -> None:
    _mail_counterpart("response_reminder", response_request)


def response_deadline_extended(*, response_request) -> None:
    _mail_counterpart("response_extended", response_request)


def response_overdue_to_counterpart(*, response_request) -> None:
    """Past the due date: the counterpart may still answer through the same link (marked late)."""
    _mail_counterpart("response_overdue_counterpart", response_request)


def _mail_counterpart(template: str, response_request) -> None:
    """The request (or its reminder) to the counterpart, with the signed answer link."""
    from .response_tokens import response_link

    queue_email(
        template=template,
        to=[response_request.email],
        context=_context(
            response_request.deviation,
            response_request=response_request,
            organization=response_request.organization,
            response_link=response_link(response_request),
        ),
    )


def _handlers_of(response_request) -> list[str]:
    deviation = response_request.deviation
    to = coordinator_emails(deviation.council)
    if response_request.requested_by.email:
        to.append(response_request.requested_by.email)
    if deviation.status in {"escalated", "regional_analysis"}:
        to += regional_coordinator_emails()
    return to


def response_received(*, response_request) -> None:
    queue_email(
        template="response_received",
        to=_handlers_of(response_request),
        context=_context(
            response_request.deviation,
            response_request=response_request,
            organization=response_request.organization,
        ),
    )


def response_overdue(*, response_request) -> None:
    queue_email(
        template="response_overdue",
        to=_handlers_of(response_request),
        context=_context(
            response_request.deviation,
            response_request=response_request,
            organization=response_request.organization,
        ),
    )
