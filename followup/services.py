"""Writes of the follow-up: the regional council's analysis of an agreement and period; council
meetings (date, attendees, minutes) and the decisions taken at them, applied to the reports through the
state machine."""

import datetime
from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from agreements.models import Agreement, FollowUpAnalysis
from config.errors import ApplicationError, Conflict, Invalid, NotAllowed
from councils.models import Council, CouncilMeeting
from deviations import pii
from deviations.services.transitions import apply_transition, site_language_text
from deviations.workflow import TRANSITIONS

from .meeting_pack import council_reports, may_keep_meetings, meeting_held
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


# --- Council meetings -------------------------------------------------------------------------------


def _require_meeting_keeper(actor, council: Council) -> None:
    if not may_keep_meetings(actor, council):
        raise NotAllowed(_("Endast samrådets samordnare kan föra in möten och beslut."))


def identity_number_errors(**texts: str) -> dict[str, str]:
    """``{name: message}`` for each of ``texts`` that holds a personnummer or samordningsnummer (the
    message never contains the number). Meetings' attendees and minutes, and the decisions' text, are
    written by people and printed in the pack: the same guard as a report's text fields."""
    return {
        name: _(
            "Texten verkar innehålla ett personnummer eller samordningsnummer. Ta bort numret; hänvisa "
            "till rapportens referensnummer. Ingenting har sparats."
        )
        for name, text in texts.items()
        if pii.contains_identity_number(text or "")
    }


def _guard_texts(**texts: str) -> None:
    if errors := identity_number_errors(**texts):
        raise Invalid(next(iter(errors.values())), errors=errors)


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
    _guard_texts(attendees=attendees, minutes=minutes)
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
    _guard_texts(text=text)
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
