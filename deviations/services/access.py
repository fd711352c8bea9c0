"""The access log: who opened which report."""

from ..models import AccessLog, Deviation


def record_access(*, user, deviation: Deviation) -> AccessLog:
    """Note that ``user`` opened ``deviation``'s detail page (kept for audits, read in the admin)."""
    return AccessLog.objects.create(user=user, deviation=deviation)
