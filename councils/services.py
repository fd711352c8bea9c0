"""Writes about users and their accounts. Keyword-only, one transaction each."""

import logging

from django.db import transaction

logger = logging.getLogger(__name__)


@transaction.atomic
def sign_out_everywhere(*, user, raw_password: str) -> None:
    """End every session of ``user`` on every device.

    Django ties each session to a hash of the user's password hash (``get_session_auth_hash``) and
    drops a session whose hash no longer matches. Re-hashing the *same* password gives a new random
    salt, hence a new password hash: every existing session becomes invalid, the password stays the
    same and nothing extra is stored. ``raw_password`` must already be verified by the caller.
    """
    user.set_password(raw_password)
    user.save(update_fields=["password"])
    logger.info("user %s signed out on all devices", user.pk)


@transaction.atomic
def set_notification_mode(*, user, mode: str) -> None:
    """Immediate e-mails, or one daily digest (``send_digests``), for the hand-offs meant for ``user``."""
    if mode not in user.NotificationMode.values:
        raise ValueError(mode)
    user.notification_mode = mode
    user.save(update_fields=["notification_mode"])
