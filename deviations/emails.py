"""Outgoing e-mail: plain text rendered from templates, never carrying report text.

Mails are queued as references (``notifications.queue_email``) and composed here by the worker when
they are sent, so the task table never holds an address, a body or a link.
"""

from django.conf import settings
from django.core.mail import EmailMessage
from django.template import Context, engines
from django.utils import translation


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def _render_text(name: str, context: dict) -> str:
    """A plain-text template with autoescaping off: ``Vård & omsorg`` and links with ``&`` stay as they
    are (HTML escaping is for HTML, and a mail client shows ``&amp;`` literally)."""
    template = engines["django"].engine.get_template(name)
    return template.render(Context(context, autoescape=False))


def render(*, template: str, context: dict, language: str) -> tuple[str, str]:
    """The subject (on one line) and body of ``deviations/email/<template>_subject.txt`` and
    ``_body.txt``, in ``language``."""
    with translation.override(language):
        context = {"site_url": settings.SITE_URL, **context}
        subject = " ".join(_render_text(f"deviations/email/{template}_subject.txt", context).split())
        body = _render_text(f"deviations/email/{template}_body.txt", context)
    return subject, body


def compose(*, template: str, to: list[str], context: dict, language: str = "sv") -> EmailMessage | None:
    """The message to ``to`` (duplicates and blanks dropped), or ``None`` when nobody is left."""
    recipients = sorted({address for address in to if address})
    if not recipients:
        return None
    subject, body = render(template=template, context=context, language=language)
    return EmailMessage(subject=subject, body=body, to=recipients)
