"""The accessibility feedback mail, composed by the worker from the stored feedback when it is sent."""

from django.conf import settings
from django.core.mail import EmailMessage
from django.tasks import task
from django.template.loader import render_to_string
from django.utils import translation

from deviations.tasks import MailDeferred, deliver

from .models import AccessibilityFeedback


def feedback_message(feedback: AccessibilityFeedback) -> EmailMessage:
    """The mail to ``ACCESSIBILITY_EMAIL``, in Swedish whatever the visitor's language."""
    context = {
        "message": feedback.message,
        "page": feedback.page,
        "reply_to": feedback.email,
        "site_url": settings.SITE_URL,
    }
    with translation.override("sv"):
        subject = " ".join(
            render_to_string("pages/email/accessibility_feedback_subject.txt", context).split()
        )
        body = render_to_string("pages/email/accessibility_feedback_body.txt", context)
    return EmailMessage(subject=subject, body=body, to=[settings.ACCESSIBILITY_EMAIL])


@task()
def send_accessibility_feedback(*, feedback_id: int, attempt: int = 1) -> int:
    """Mail one stored feedback (retried like every mail, ``deviations.tasks.deliver``), then delete
    it: once sent, or when the last attempt failed (logged as an error). Returns how many were sent."""
    feedback = AccessibilityFeedback.objects.filter(pk=feedback_id).first()
    if feedback is None:
        return 0
    given_up = True
    try:
        return deliver(
            feedback_message(feedback),
            task=send_accessibility_feedback,
            reference={"feedback_id": feedback_id},
            attempt=attempt,
            what=f"accessibility feedback {feedback_id}",
        )
    except MailDeferred:
        given_up = False  # the next attempt reads it again
        raise
    finally:
        if given_up:
            feedback.delete()
