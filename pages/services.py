"""Writes of the information pages: the accessibility feedback goes to the deploying organisation."""

import logging

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from deviations.tasks import send_email

logger = logging.getLogger(__name__)


def send_accessibility_feedback(*, message: str, page: str = "", reply_to: str = "") -> None:
    """Queue the feedback as an e-mail to ``settings.ACCESSIBILITY_EMAIL`` (sent by the worker), in
    Swedish whatever the visitor's language. Nothing is stored in the database."""
    context = {"message": message, "page": page, "reply_to": reply_to, "site_url": settings.SITE_URL}
    with translation.override("sv"):
        subject = " ".join(
            render_to_string("pages/email/accessibility_feedback_subject.txt", context).split()
        )
        body = render_to_string("pages/email/accessibility_feedback_body.txt", context)
    recipients = [settings.ACCESSIBILITY_EMAIL]
    transaction.on_commit(lambda: send_email.enqueue(subject=subject, body=body, to=recipients))
    logger.info("accessibility feedback queued")
