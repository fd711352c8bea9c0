"""Who is told what after each hand-off: the person who must act next. Mails carry references and
links, never report text.

A mail is queued as a reference (``queue_email``): the message kind (its template), what it is about
(the report, a response request, a systemic action or, for a digest, the user) and the language. The
worker (``tasks.send_email``) looks them up and composes the mail when it sends it (``message_for``):
the task table never holds an address, a body or a signed link, and a report erased or purged in the
meantime is simply not mailed.

Staff who chose one daily digest (``User.notification_mode``) get the hand-offs meant for them as
``PendingNotification`` rows instead (subject line and link, written when the hand-off is queued), sent
by ``services.digests.send_digests``; function mailboxes, counterparts and reporters always get their
e-mail at once.
"""

import contextvars
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NamedTuple

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, router, transaction
from django.urls import reverse

from config.compiled import CompiledRead
from councils.models import Council, CouncilMembership, User

from . import tokens
from .emails import absolute_url, compose, render
from .models import Deviation, PendingNotification, ResponseRequest, SystemicAction
from .selectors import COORDINATOR_ROLES
from .workflow import REGIONAL_STATES


class Recipient(NamedTuple):
    """Whom a mail goes to: a user (``user_id``; ``daily`` if they chose the digest) or an address of
    its own (a function mailbox, a counterpart, a reporter: ``user_id`` None), always mailed at once."""

    email: str
    user_id: int | None = None
    daily: bool = False

    @classmethod
    def of(cls, user) -> "Recipient":
        return cls(user.email, user.pk, user.notification_mode == User.NotificationMode.DAILY)


def _coordinators(memberships):
    return (
        memberships.filter(role__in=COORDINATOR_ROLES, user__is_active=True)
        .exclude(user__email="")
        .order_by()  # compose sorts the addresses; no join to the councils for the model's ordering
        .values_list("user__email", "user_id", "user__notification_mode")
    )


def _members(memberships) -> list[Recipient]:
    return [Recipient(email, pk, mode == User.NotificationMode.DAILY) for email, pk, mode in memberships]


#: A council's coordinators, compiled once per process (read with every new report's hand-off).
_COUNCIL_COORDINATORS = CompiledRead(
    CouncilMembership,
    lambda council_id: _coordinators(CouncilMembership.objects.filter(council_id=council_id)),
    int,
)


def coordinator_recipients(council) -> list[Recipient]:
    """A council's coordinators (and chairs) and its function mailbox."""
    if council is None:
        return []
    mailbox = [Recipient(council.email)] if council.email else []
    return _members(_COUNCIL_COORDINATORS.read(council.pk)) + mailbox


def regional_coordinator_recipients() -> list[Recipient]:
    memberships = CouncilMembership.objects.filter(
        council__level=Council.Level.REGIONAL, council__active=True
    )
    councils = Council.objects.filter(level=Council.Level.REGIONAL, active=True).exclude(email="")
    return _members(_coordinators(memberships)) + [
        Recipient(email) for email in councils.values_list("email", flat=True)
    ]


def regional_mailboxes() -> list[str]:
    return list(
        Council.objects.filter(level=Council.Level.REGIONAL, active=True)
        .exclude(email="")
        .values_list("email", flat=True)
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


def _counterpart_context(response_request: ResponseRequest) -> dict:
    from .response_tokens import response_link

    return _response_context(response_request, response_link=response_link(response_request))


def _rerouted_context(deviation: Deviation) -> dict:
    """Where the report came from, who moved it and why, from its latest re-route event (the reason
    was checked for identity numbers when it was written)."""
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
        reason=event.text if event else "",
    )


def _handlers_of_report(deviation: Deviation) -> list[Recipient]:
    """Who acts on a report handed back to its council: its coordinators and its assignee."""
    to = coordinator_recipients(deviation.council)
    if deviation.assigned_to_id and deviation.assigned_to.is_active:
        to.append(Recipient.of(deviation.assigned_to))
    return to


def _assignee(deviation: Deviation) -> list[Recipient]:
    assignee = deviation.assigned_to
    return [Recipient.of(assignee)] if assignee is not None and assignee.is_active else []


def _handlers_of(response_request: ResponseRequest) -> list[Recipient]:
    deviation = response_request.deviation
    to = coordinator_recipients(deviation.council)
    if response_request.requested_by.is_active:
        to.append(Recipient.of(response_request.requested_by))
    if deviation.status in REGIONAL_STATES:
        to += regional_coordinator_recipients()
    return to


def _action_context(action: SystemicAction) -> dict:
    """The owner has no page to open, so the decision's own text goes along: the issue's title and the
    action (checked for identity numbers when they were written); never report text."""
    return {
        "action": action,
        "organization": action.owner,
        "issue_title": action.issue.title,
        "description": action.description,
        "regional_emails": regional_mailboxes(),
    }


def _digest_context(user) -> dict:
    """The notifications of the user's latest digest run (``services.digests`` marks them sent)."""
    latest = PendingNotification.objects.filter(user=user, sent_at__isnull=False).order_by("-sent_at").first()
    rows = (
        [] if latest is None else list(PendingNotification.objects.filter(user=user, sent_at=latest.sent_at))
    )
    return {"notifications": rows, "profile_link": absolute_url(reverse("account:profile"))}


@dataclass(frozen=True)
class Message:
    """One kind of mail: what it is about (``about``: the report, a response request, a systemic action
    or a user), who gets it and what its template is given, as they are when the mail is sent.
    ``staff``: a hand-off to staff, which users who chose the daily digest get in it instead."""

    about: str
    recipients: Callable[..., list[Recipient]]
    context: Callable[..., dict]
    staff: bool = False


def _to(address_of: Callable) -> Callable[..., list[Recipient]]:
    return lambda about: [Recipient(address_of(about))]


#: A mail to the reporter with the report's current status link.
_WITH_STATUS_LINK = Message(
    about="deviation",
    recipients=_to(reporter_address),
    context=lambda d: _context(d, status_link=reporter_link(d)),
)

MESSAGES: dict[str, Message] = {
    # To the reporter.
    "confirm_report": Message(
        about="deviation",
        recipients=_to(lambda d: d.reporter_email),
        context=lambda d: _context(
            d, link=confirmation_link(d), max_age_hours=settings.CONFIRMATION_MAX_AGE_HOURS
        ),
    ),
    "receipt": _WITH_STATUS_LINK,
    # The same, after a correction of the address replaced the link (services.contacts).
    "status_link": _WITH_STATUS_LINK,
    "feedback": Message(
        about="deviation",
        recipients=_to(reporter_address),
        context=lambda d: _context(d, reporter_link=reporter_link(d)),
    ),
    # To staff: whoever must act next.
    "new_report": Message(
        about="deviation",
        recipients=lambda d: coordinator_recipients(d.council),
        context=_context,
        staff=True,
    ),
    "rerouted": Message(
        about="deviation",
        recipients=lambda d: coordinator_recipients(d.council),
        context=_rerouted_context,
        staff=True,
    ),
    "escalated": Message(
        about="deviation",
        recipients=lambda d: regional_coordinator_recipients(),
        context=_context,
        staff=True,
    ),
    "returned_to_local": Message(
        about="deviation", recipients=_handlers_of_report, context=_context, staff=True
    ),
    "reopened": Message(about="deviation", recipients=_handlers_of_report, context=_context, staff=True),
    "assigned": Message(about="deviation", recipients=_assignee, context=_context, staff=True),
    "response_received": Message(
        about="response", recipients=_handlers_of, context=_response_context, staff=True
    ),
    "response_overdue": Message(
        about="response", recipients=_handlers_of, context=_response_context, staff=True
    ),
    # To the counterpart (with the signed answer link).
    "response_requested": Message(
        about="response", recipients=_to(lambda r: r.email), context=_counterpart_context
    ),
    "response_reminder": Message(
        about="response", recipients=_to(lambda r: r.email), context=_counterpart_context
    ),
    "response_extended": Message(
        about="response", recipients=_to(lambda r: r.email), context=_counterpart_context
    ),
    "response_overdue_counterpart": Message(
        about="response", recipients=_to(lambda r: r.email), context=_counterpart_context
    ),
    # To the organisation that owns a decided systemic action.
    "systemic_action": Message(
        about="action", recipients=_to(lambda a: a.owner.contact_email), context=_action_context
    ),
    # The daily digest of a user's kept hand-offs.
    "digest": Message(
        about="user",
        recipients=lambda u: [Recipient(u.email, u.pk)] if u.is_active else [],
        context=_digest_context,
    ),
}


def _about(message: Message, *, deviation_id, response_request_id, object_id):
    """The object a mail is about, as it is now (``None`` when it is gone)."""
    if message.about == "deviation":
        return (
            Deviation.objects.select_related("council", "agreement", "category", "reporter", "assigned_to")
            .filter(pk=deviation_id)
            .first()
        )
    if message.about == "response":
        return (
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
    if message.about == "action":
        return SystemicAction.objects.select_related("issue", "owner").filter(pk=object_id).first()
    return User.objects.filter(pk=object_id).first()


def queue_email(
    *,
    template: str,
    deviation: Deviation | None = None,
    response_request: ResponseRequest | None = None,
    action: SystemicAction | None = None,
    user=None,
    language: str = "sv",
) -> None:
    """Send the ``template`` mail about ``deviation`` (or ``response_request``, ``action``, ``user``)
    once the caller's transaction commits: queued in it on the database queue, after it otherwise
    (``_queued_with_the_change``). Only the references are queued; the worker composes the mail when it
    sends it. For a
    staff hand-off, the users who chose the daily digest get a ``PendingNotification`` now instead, and
    the mail leaves them out."""
    from .tasks import send_email

    message = MESSAGES[template]
    given = {"deviation": deviation, "response": response_request, "action": action, "user": user}
    about = given[message.about]
    if about is None or (message.about == "response" and deviation is None):
        raise ValueError(f"the {template!r} mail is about a {message.about}")
    skip = _keep_for_digests(template, message, about) if message.staff else []

    reference = {
        "template": template,
        "deviation_id": deviation.pk if deviation is not None else None,
        "response_request_id": response_request.pk if response_request is not None else None,
        "object_id": about.pk if message.about in {"action", "user"} else None,
        "skip_user_ids": skip,
        "language": language,
    }
    together = _together.get()
    if not _queued_with_the_change(send_email):
        transaction.on_commit(lambda: send_email.enqueue(**reference))
    elif together is not None and reference["deviation_id"] is not None:
        together.append(reference)
    else:
        send_email.enqueue(**reference)


#: The mails ``mails_together`` collects (``None`` outside it).
_together: contextvars.ContextVar[list[dict] | None] = contextvars.ContextVar("mails_together", default=None)


@contextmanager
def mails_together():
    """The mails about a report that ``queue_email`` queues in the block go in one task row per report
    (``tasks.send_emails``) instead of one each, written when the block ends without an error, in the
    caller's transaction: a signed-in reporter's filing queues its receipt and the council's new-report
    mail with one INSERT. Only on the database queue (any other backend sends each after the commit);
    mails not about a report are queued at once. Nested blocks share the outermost one."""
    if _together.get() is not None:
        yield
        return
    collected: list[dict] = []
    token = _together.set(collected)
    try:
        yield
    finally:
        _together.reset(token)
    from .tasks import send_email, send_emails

    by_report: dict[int, list[dict]] = {}
    for reference in collected:
        by_report.setdefault(reference["deviation_id"], []).append(reference)
    for deviation_id, references in by_report.items():
        if len(references) == 1:
            send_email.enqueue(**references[0])
        else:
            mails = [{k: v for k, v in r.items() if k != "deviation_id"} for r in references]
            send_emails.enqueue(deviation_id=deviation_id, mails=mails)


def _queued_with_the_change(task) -> bool:
    """Whether ``task`` is queued as a row of the database the change is written to (django-tasks-db):
    then the row is written in the caller's transaction, committed with the change it is about or rolled
    back with it (the worker cannot see it before the commit; no separate transaction per mail after it,
    and no mail lost if the process dies between the two). Any other backend runs or sends the task
    elsewhere, so it is queued after the commit."""
    from django_tasks_db import DatabaseBackend
    from django_tasks_db.models import DBTaskResult

    return (
        isinstance(task.get_backend(), DatabaseBackend)
        and router.db_for_write(DBTaskResult) == DEFAULT_DB_ALIAS
    )


def _keep_for_digests(template: str, message: Message, about) -> list[int]:
    """Write the digest rows of a staff hand-off; returns the users they were written for."""
    daily = sorted({r.user_id for r in message.recipients(about) if r.daily and r.email})
    if daily:
        context = message.context(about)
        subject, _body = render(template=template, context=context, language="sv")
        PendingNotification.objects.bulk_create(
            PendingNotification(user_id=user_id, subject=subject[:300], link=context["link"][:500])
            for user_id in daily
        )
    return daily


def message_for(
    *,
    template: str,
    deviation_id: int | None = None,
    response_request_id: int | None = None,
    object_id: int | None = None,
    skip_user_ids: list[int] | None = None,
    language: str,
):
    """The mail a queued reference stands for, composed from the database as it is now; ``None`` when
    there is nothing to send (the report was purged, the reporter's address erased, nobody left)."""
    message = MESSAGES[template]
    about = _about(
        message, deviation_id=deviation_id, response_request_id=response_request_id, object_id=object_id
    )
    if about is None:
        return None
    skip = set(skip_user_ids or ())
    to = [r.email for r in message.recipients(about) if r.user_id is None or r.user_id not in skip]
    return compose(template=template, to=to, context=message.context(about), language=language)


# --- After each hand-off ---------------------------------------------------------------------------

#: The staff hand-off mail of each transition that has one.
TRANSITION_MAILS = {
    "confirm": "new_report",
    "reroute": "rerouted",
    "escalate": "escalated",
    "return_to_local": "returned_to_local",
    "reopen": "reopened",
}


def after_transition(*, deviation: Deviation, action: str, from_status: str) -> None:
    """Mail who must act after ``action``; the reporter when there is feedback."""
    if action in TRANSITION_MAILS:
        queue_email(template=TRANSITION_MAILS[action], deviation=deviation)
    elif action in {"close", "reject"}:
        feedback_given(deviation=deviation)


def assigned(*, deviation: Deviation, assignee, actor) -> None:
    """Tell the new assignee, unless they assigned themselves."""
    if assignee is None or assignee.pk == getattr(actor, "pk", None) or not assignee.email:
        return
    queue_email(template="assigned", deviation=deviation)


def systemic_action_decided(*, action: SystemicAction) -> None:
    """Tell the owner organisation (its contact address) of an action decided for it: what, by when."""
    if action.owner.contact_email:
        queue_email(template="systemic_action", action=action)


def feedback_given(*, deviation: Deviation) -> None:
    """Tell the reporter there is feedback on their report (the feedback itself is on the page)."""
    if reporter_address(deviation):
        queue_email(template="feedback", deviation=deviation)


def digest(*, user) -> None:
    queue_email(template="digest", user=user)


def response_requested(*, response_request) -> None:
    _about_response("response_requested", response_request)


def response_reminder(*, response_request) -> None:
    _about_response("response_reminder", response_request)


def response_deadline_extended(*, response_request) -> None:
    _about_response("response_extended", response_request)


def response_overdue_to_counterpart(*, response_request) -> None:
    """Past the due date: the counterpart may still answer through the same link (marked late)."""
    _about_response("response_overdue_counterpart", response_request)


def response_received(*, response_request) -> None:
    _about_response("response_received", response_request)


def response_overdue(*, response_request) -> None:
    _about_response("response_overdue", response_request)


def _about_response(template: str, response_request) -> None:
    queue_email(template=template, deviation=response_request.deviation, response_request=response_request)
