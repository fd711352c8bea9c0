"""Writes of the information pages: the accessibility feedback goes to the deploying organisation."""

import logging

from django.db import transaction

from config.personal_data import guard_texts

from .models import AccessibilityFeedback
from .tasks import send_accessibility_feedback as send_task

logger = logging.getLogger(__name__)


@transaction.atomic
def send_accessibility_feedback(*, message: str, page: str = "", email: str = "") -> AccessibilityFeedback:
    """Store the feedback and queue its mail to ``settings.ACCESSIBILITY_EMAIL`` (sent by the worker,
    which then deletes it); ``email`` is where the visitor wants an answer. Refused with ``Invalid``
    when a text holds an identity number."""
    guard_texts(message=message, page=page, email=email)
    feedback = AccessibilityFeedback.objects.create(message=message, page=page, email=email)
    transaction.on_commit(lambda: send_task.enqueue(feedback_id=feedback.pk))
    logger.info("accessibility feedback %s queued", feedback.pk)
    return feedback
