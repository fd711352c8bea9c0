"""Writes about sign-in: two-step verification devices. Keyword-only, one transaction each."""

import logging

from django.db import transaction
from django.utils.translation import gettext
from django_otp.plugins.otp_totp.models import TOTPDevice

logger = logging.getLogger(__name__)


@transaction.atomic
def pending_totp_device(*, user) -> TOTPDevice:
    """The unconfirmed device (a fresh random key) the user is setting up; one per user."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, confirmed=False, name=gettext("Autentiseringsapp"))
    return device


@transaction.atomic
def confirm_totp_device(*, device: TOTPDevice) -> TOTPDevice:
    """Turn a device on once the user has proved (with a code) that the app holds its key."""
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    TOTPDevice.objects.filter(user=device.user, confirmed=False).delete()
    logger.info("user %s turned on two-step verification", device.user_id)
    return device


@transaction.atomic
def remove_totp_devices(*, user) -> int:
    count, _ = TOTPDevice.objects.filter(user=user).delete()
    logger.info("user %s turned off two-step verification", user.pk)
    return count
