"""Who is told what after each hand-off: the person who must act next. Mails carry references and
links, never report text; all are queued after commit and sent by the worker (``emails.queue_email``).

Staff who chose one daily digest (``User.notification_mode``) get the hand-offs meant for them as
``PendingNotification`` rows instead, sent by ``services.digests.send_digests``; function mailboxes,
counterparts and reporters always get their e-mail at once."""

from typing import NamedTuple

from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from councils.models import Council, CouncilMembership, User

from . import pii, tokens
from .emails import absolute_url, queue_email
from .models import Deviation, PendingNotification
from .selectors import COORDINATOR_ROLES
from .workflow import REGIONAL_STATES


class Recipient(NamedTuple):
    """Whom a hand-off goes to: a user (``user_id``, whether they chose the daily digest) or a
    function mailbox (``user_id`` None), which is always mailed at once."""

    email: str
    user_id: int | None = None
    daily: bool = False

    @classmethod
    def of(cls, user) -> "Recipient":
        return cls(user.email, user.pk, user.notification_mode == User.NotificationMode.DAILY)


def _subject(template: str, context: dict) -> str:
    with translation.override("sv"):
        return " ".join(render_to_string(f"deviations/email/{template}_subject.txt", context).split())


def notify_staff(*, template: str, to: list[Recipient], context: dict) -> None:
    """A hand-off to staff: an e-mail now to each recipient, except to users who chose the daily
    digest, who get a ``PendingNotification`` (subject line and link) instead."""
    to = [r for r in to if r.email]
    digest_users = sorted({r.user_id for r in to if r.daily})
    if digest_users:
        subject = _subject(template, context)[:300]
        PendingNotification.objects.bulk_create(
            PendingNotification(user_id=user_id, subject=subject, link=context["link"][:500])
            for user_id in digest_users
        )
    daily = {r.email.lower() for r in to if r.daily}
    queue_email(template=template, to=[r.email for r in to if r.email.lower() not in daily], context=context)


def free_text_for_mail(text: str) -> str:
    """Staff-written text (a reason) for a mail, or "" if it holds an identity number: a mail never
    carries personal data, whatever was typed."""
    text = (text or "").strip()
    return "" if pii.contains_identity_number(text) else text


def _members(memberships) -> list[Recipient]:
    rows = (
        memberships.filter(role__in=COORDINATOR_ROLES, user__is_active=True)
        .exclude(user__email="")
        .order_by()  # queue_email sorts the addresses; no join to the councils for the model's ordering
        .values_list("user__email", "user_id", "user__notification_mode")
    )
    return [Recipient(email, pk, mode == User.NotificationMode.DAILY) for email, pk, mode in rows]


def coordinator_recipients(council) -> list[Recipient]:
    """A council's coordinators (and chairs) and its function mailbox."""
    if council is None:
        return []
    mailbox = [Recipient(council.email)] if council.email else []
    return _members(CouncilMembership.objects.filter(council=council)) + mailbox


def regional_coordinator_recipients() -> list[Recipient]:
    memberships = CouncilMembership.objects.filter(
        council__level=Council.Level.REGIONAL, council__active=True
    )
    councils = Council.objects.filter(level=Council.Level.REGIONAL, active=True).exclude(email="")
    return _members(memberships) + [Recipient(email) for email in councils.values_list("email", flat=True)]


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


def _handlers_of_report(deviation: Deviation) -> list[Recipient]:
    """Who acts on a report handed back to its council: its coordinators and its assignee."""
    to = coordinator_recipients(deviation.council)
    if deviation.assigned_to_id and deviation.assigned_to.is_active:
        to.append(Recipient.of(deviation.assigned_to))
    return to


def after_transition(*, deviation: Deviation, action: str, from_status: str, text: str = "") -> None:
    context = _context(deviation)
    if action == "confirm":
        notify_staff(template="new_report", to=coordinator_recipients(deviation.council), context=context)
    elif action == "reroute":
        context["reason"] = free_text_for_mail(text)
        notify_staff(template="rerouted", to=coordinator_recipients(deviation.council), context=context)
    elif action == "escalate":
        notify_staff(template="escalated", to=regional_coordinator_recipients(), context=context)
    elif action == "return_to_local":
        notify_staff(template="returned_to_local", to=_handlers_of_report(deviation), context=context)
    elif action == "reopen":
        notify_staff(template="reopened", to=_handlers_of_report(deviation), context=context)
    elif action in {"close", "reject"}:
        feedback_given(deviation=deviation)


def assigned(*, deviation: Deviation, assignee, actor) -> None:
    """Tell the new assignee, unless they assigned themselves."""
    if assignee is None or assignee.pk == getattr(actor, "pk", None) or not assignee.email:
        return
    notify_staff(template="assigned", to=[Recipient.of(assignee)], context=_context(deviation))


def systemic_action_decided(*, action) -> None:
    """Tell the owner organisation (its contact address) of an action decided for it: what, by when.
    The owner has no page to open, so the decision's own text goes along (the issue's title and the
    action; never report text, and nothing if an identity number was typed into them)."""
    owner = action.owner
    if not owner.contact_email:
        return
    queue_email(
        template="systemic_action",
        to=[owner.contact_email],
        context={
            "action": action,
            "organization": owner,
            "issue_title": free_text_for_mail(action.issue.title),
            "description": free_text_for_mail(action.description),
            "regional_emails": list(
                Council.objects.filter(level=Council.Level.REGIONAL, active=True)
                .exclude(email="")
                .values_list("email", flat=True)
            ),
        },
    )


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


def _handlers_of(response_request) -> list[Recipient]:
    deviation = response_request.deviation
    to = coordinator_recipients(deviation.council)
    if response_request.requested_by.is_active:
        to.append(Recipient.of(response_request.requested_by))
    if deviation.status in REGIONAL_STATES:
        to += regional_coordinator_recipients()
    return to


def response_received(*, response_request) -> None:
    notify_staff(
        template="response_received",
        to=_handlers_of(response_request),
        context=_context(
            response_request.deviation,
            response_request=response_request,
            organization=response_request.organization,
        ),
    )


def response_overdue(*, response_request) -> None:
    notify_staff(
        template="response_overdue",
        to=_handlers_of(response_request),
        context=_context(
            response_request.deviation,
            response_request=response_request,
            organization=response_request.organization,
        ),
    )
