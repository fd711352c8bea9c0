"""Writes of the follow-up: the regional council's analysis of an agreement and period."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from agreements.models import Agreement, FollowUpAnalysis

from .selectors import Period, may_write_analysis


@transaction.atomic
def save_analysis(
    *,
    agreement: Agreement,
    period: Period,
    author,
    analysis: str,
    recommendations: str,
    followup_areas: str,
) -> FollowUpAnalysis:
    """Add a new version of the analysis for ``agreement`` and ``period``. Earlier versions stay as they
    were. Only regional coordinators and superusers may write."""
    if not may_write_analysis(author):
        raise PermissionDenied
    return FollowUpAnalysis.objects.create(
        agreement=agreement,
        period_start=period.start,
        period_end=period.end,
        analysis=analysis.strip(),
        recommendations=recommendations.strip(),
        followup_areas=followup_areas.strip(),
        author=author,
    )
