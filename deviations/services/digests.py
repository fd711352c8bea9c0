"""The daily digest: one e-mail per user who chose it (``User.notification_mode``), listing the
hand-offs kept for them since the last one (``PendingNotification``: subject lines and links)."""

import datetime
import logging

from django.db import transaction
from django.utils import timezone

from .. import notifications
from ..models import PendingNotification

logger = logging.getLogger(__name__)

#: Sent digest rows are kept this long (to answer "did I get it?"), then deleted.
KEEP_SENT_DAYS = 30


def send_digests(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Send each user's unsent notifications as one digest and mark them sent; delete rows sent more
    than ``KEEP_SENT_DAYS`` ago. Safe to run twice, or twice at the same time: each user's rows are
    locked (others skip them) and marked in the transaction that queues the e-mail."""
    now = now or timezone.now()
    users = sent = 0
    user_ids = (
        PendingNotification.objects.filter(sent_at__isnull=True, created_at__lte=now)
        .values_list("user_id", flat=True)
        .distinct()
        .order_by("user_id")
    )
    for user_id in list(user_ids):
        with transaction.atomic():
            rows = list(
                PendingNotification.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("user")
                .filter(user_id=user_id, sent_at__isnull=True, created_at__lte=now)
                .order_by("created_at", "pk")
            )
            if not rows:
                continue
            PendingNotification.objects.filter(pk__in=[row.pk for row in rows]).update(sent_at=now)
            user = rows[0].user
            if user.is_active and user.email:
                # The worker composes the digest from the rows marked in this transaction.
                notifications.digest(user=user)
                users += 1
                sent += len(rows)
    pruned, _ = PendingNotification.objects.filter(
        sent_at__lt=now - datetime.timedelta(days=KEEP_SENT_DAYS)
    ).delete()
    logger.info("digests: %d users, %d notifications, %d old rows deleted", users, sent, pruned)
    return {"users": users, "notifications": sent, "pruned": pruned}
