"""Outgoing e-mail: rendered from templates, queued after commit, never carrying report text."""

from django.conf import settings
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation

from .tasks import send_email


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def queue_email(*, template: str, to: list[str], context: dict, language: str = "sv") -> None:
    """Render ``deviations/email/<template>_subject.txt`` and ``_body.txt`` and send after commit."""
    recipients = sorted({address for address in to if address})
    if not recipients:
        return
    with translation.override(language):
        context = {"site_url": settings.SITE_URL, **context}
        subject = " ".join(render_to_string(f"deviations/email/{template}_subject.txt", context).split())
        body = render_to_string(f"deviations/email/{template}_body.txt", context)
    transaction.on_commit(lambda: send_email.enqueue(subject=subject, body=body, to=recipients))
