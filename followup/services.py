"""Writes of the follow-up: the regional council's analysis of an agreement and period."""

from django.core.exceptions import PermissionDenied
from django.db import transaction

from agreements.models import Agreement, FollowUpAnalysis
from config.personal_data import guard_texts

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
    were. Only regional coordinators and superusers may write. Raises ``Invalid`` if a text holds an
    identity number (the analysis is printed in the follow-up PDF)."""
    if not may_write_analysis(author):
        raise PermissionDenied
    guard_texts(analysis=analysis, recommendations=recommendations, followup_areas=followup_areas)
    return FollowUpAnalysis.objects.create(
        agreement=agreement,
        period_start=period.start,
        period_end=period.end,
        analysis=analysis.strip(),
        recommendations=recommendations.strip(),
        followup_areas=followup_areas.strip(),
        author=author,
    )
