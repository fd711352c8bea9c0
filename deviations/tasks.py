"""Background tasks (Django's tasks framework; the database-backed worker runs them)."""

from django.core.mail import EmailMessage
from django.tasks import task


@task()
def send_email(*, subject: str, body: str, to: list[str]) -> int:
    """Send one plain-text e-mail. Bodies never contain report text, only references and links."""
    return EmailMessage(subject=subject, body=body, to=to).send()
