"""Writes of the follow-up: the written analysis of an agreement, period and scope; council meetings
(date, attendees, minutes) and the decisions taken at them, applied to the reports through the state
machine."""

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from agreements.models import Agreement, FollowUpAnalysis
from config.errors import ApplicationError, Conflict, Invalid, NotAllowed
from config.personal_data import guard_texts
from councils.models import Council, CouncilMeeting
from deviations.services.transitions import apply_transition, site_language_text
from deviations.workflow import TRANSITIONS

from .meeting_pack import council_reports, may_keep_meetings, meeting_held
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
        **{f"{part}_{pk}": text for pk, parts in texts.items() for part, text in parts.items()},
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


# --- Council meetings -------------------------------------------------------------------------------


def _require_meeting_keeper(actor, council: Council) -> None:
    if not may_keep_meetings(actor, council):
        raise NotAllowed(_("Endast samrådets samordnare kan föra in möten och beslut."))


def save_meeting(
    *,
    actor,
    council: Council,
    held_on: datetime.date,
    attendees: str,
    minutes: str,
    meeting: CouncilMeeting | None = None,
) -> CouncilMeeting:
    """Record a meeting of ``council``, or update one (``meeting``). Coordinators of the council only;
    minutes and attendees never hold an identity number (``Invalid`` with the fields' errors)."""
    _require_meeting_keeper(actor, council)
    if meeting is not None and meeting.council_id != council.pk:
        raise NotAllowed(_("Mötet finns inte."))
    attendees, minutes = (attendees or "").strip(), (minutes or "").strip()
    guard_texts(attendees=attendees, minutes=minutes)
    if meeting is None:
        meeting = CouncilMeeting(council=council, created_by=actor)
    meeting.held_on, meeting.attendees, meeting.minutes = held_on, attendees, minutes
    try:
        with transaction.atomic():
            meeting.save()
    except IntegrityError:
        raise Conflict(_("Samrådet har redan ett möte det datumet.")) from None
    return meeting


#: The decisions a meeting may take, per council level (transitions of ``deviations.workflow``).
DECISION_ACTIONS = {
    Council.Level.LOCAL: ("escalate", "close"),
    Council.Level.REGIONAL: ("return_to_local", "close"),
}


def decision_actions(council: Council) -> dict[str, str]:
    """{action: label} of the decisions a meeting of ``council`` may take."""
    return {action: TRANSITIONS[action].label for action in DECISION_ACTIONS[council.level]}


@dataclass(frozen=True)
class DecisionResult:
    reference: str
    applied: bool
    message: str = ""


def apply_meeting_decisions(
    *, meeting: CouncilMeeting, actor, action: str, references: list[str], text: str
) -> list[DecisionResult]:
    """Apply one decision of ``meeting`` (escalate, close, ...) to each of ``references`` through the
    state machine: one transition, one event and its notifications per report, each in its own
    transaction, so a report that cannot take it is listed with the reason and the others go ahead."""
    council = meeting.council
    _require_meeting_keeper(actor, council)
    if action not in DECISION_ACTIONS[council.level]:
        raise Invalid(_("Beslutet går inte att fatta i det här samrådet."))
    if not meeting_held(meeting):
        raise Conflict(_("Mötet har inte hållits ännu; beslut förs in efter mötet."))
    text = (text or "").strip()
    if not text:
        message = _("Skriv motiveringen eller återkopplingen.")
        raise Invalid(message, errors={"text": message})
    guard_texts(text=text)
    note = site_language_text(
        gettext_noop("Beslut vid %(council)s möte %(date)s."),
        {"council": council.name, "date": meeting.held_on.isoformat()},
    )
    wanted = list(dict.fromkeys(ref.strip().upper() for ref in references if ref.strip()))
    reports = {d.reference: d for d in council_reports(council).filter(reference__in=wanted)}
    results = []
    for reference in wanted:
        deviation = reports.get(reference)
        if deviation is None:
            results.append(DecisionResult(reference, False, _("Finns inte bland samrådets rapporter.")))
            continue
        try:
            apply_transition(deviation=deviation, action=action, actor=actor, text=f"{text}\n\n{note}")
        except ApplicationError as exc:
            results.append(DecisionResult(reference, False, str(exc.message)))
        else:
            results.append(DecisionResult(reference, True))
    return results
