"""Writes of the follow-up: the written analysis of an agreement, period and scope."""

from django.db import transaction
from django.utils.translation import gettext as _

from agreements.models import Agreement, FollowUpAnalysis
from config.errors import NotAllowed
from config.personal_data import guard_texts

from .selectors import Period, Scope, may_write_analysis

#: The free texts of an analysis version, as ``save_analysis`` takes them.
TEXT_FIELDS = ("summary", "recommendations", "followup_areas", "purpose", "analysis", "references")


@transaction.atomic
def save_analysis(
    *,
    agreement: Agreement,
    period: Period,
    scope: Scope,
    author,
    summary: str = "",
    recommendations: str = "",
    followup_areas: str = "",
    purpose: str = "",
    analysis: str = "",
    references: str = "",
    promoting_factors=(),
    hindering_factors=(),
    commitment_texts: dict | None = None,
) -> FollowUpAnalysis:
    """Add a new version of the analysis of ``agreement`` and ``period`` for ``scope`` (earlier versions
    stay as they were). ``promoting_factors`` and ``hindering_factors`` are lists of short texts;
    ``commitment_texts`` maps a commitment of the agreement to ``{"results": ..., "analysis": ...}``.
    Raises ``NotAllowed`` unless ``author`` may write this scope's analysis
    (``selectors.may_write_analysis``), ``Invalid`` if any text holds an identity number (the analysis is
    printed in the follow-up PDF and Word file)."""
    if not may_write_analysis(author, scope):
        raise NotAllowed(_("Du får inte skriva analysen för det här området."))
    commitment_ids = set(agreement.commitments.values_list("pk", flat=True))
    texts = {}
    for pk, parts in (commitment_texts or {}).items():
        parts = {part: (parts.get(part) or "").strip() for part in ("results", "analysis")}
        if int(pk) in commitment_ids and any(parts.values()):
            texts[str(pk)] = parts
    guard_texts(
        summary=summary,
        recommendations=recommendations,
        followup_areas=followup_areas,
        purpose=purpose,
        analysis=analysis,
        references=references,
        promoting_factors="\n".join(promoting_factors or ()),
        hindering_factors="\n".join(hindering_factors or ()),
        **{
            f"{part}_{pk}": text
            for pk, parts in texts.items()
            for part, text in parts.items()
        },
    )
    return FollowUpAnalysis.objects.create(
        agreement=agreement,
        period_start=period.start,
        period_end=period.end,
        **scope.analysis_key,
        summary=summary.strip(),
        recommendations=recommendations.strip(),
        followup_areas=followup_areas.strip(),
        purpose=purpose.strip(),
        analysis=analysis.strip(),
        references=references.strip(),
        promoting_factors=_items(promoting_factors),
        hindering_factors=_items(hindering_factors),
        commitment_texts=texts,
        author=author,
    )


def _items(values) -> list[str]:
    return [value.strip() for value in values if value and value.strip()]
