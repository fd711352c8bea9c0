"""THE state machine of a deviation report.

States, the allowed transitions and who may take each live here as data, in one table. The one
service that applies a transition is ``deviations.services.transitions.apply_transition``; views,
admin and commands only ever call that.
"""

from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    UNCONFIRMED = "unconfirmed", _("Obekräftad")
    SUBMITTED = "submitted", _("Inkommen")
    TRIAGE = "triage", _("Under bedömning")
    AWAITING_RESPONSE = "awaiting_response", _("Väntar på yttrande")
    RESOLVED_LOCALLY = "resolved_locally", _("Åtgärdad lokalt")
    ESCALATED = "escalated", _("Eskalerad")
    REGIONAL_ANALYSIS = "regional_analysis", _("Under regional analys")
    CLOSED = "closed", _("Avslutad")
    REJECTED = "rejected", _("Avvisad")


#: States in which a report is still being handled (used for "open" counts and overdue lists).
OPEN_STATES = frozenset(
    {
        Status.SUBMITTED,
        Status.TRIAGE,
        Status.AWAITING_RESPONSE,
        Status.RESOLVED_LOCALLY,
        Status.ESCALATED,
        Status.REGIONAL_ANALYSIS,
    }
)
FINAL_STATES = frozenset({Status.CLOSED, Status.REJECTED})
#: States in which a report is handled at regional level (the regional coordinators' queue; their
#: council's members may then be assigned to it).
REGIONAL_STATES = frozenset({Status.ESCALATED, Status.REGIONAL_ANALYSIS})


class Role(models.TextChoices):
    """The role a person has *towards one report*; computed by ``deviations.selectors.roles_for``."""

    REPORTER = "reporter", _("Rapportör")
    LOCAL_MEMBER = "local_member", _("Ledamot i lokalt samråd")
    LOCAL_COORDINATOR = "local_coordinator", _("Samordnare i lokalt samråd")
    REGIONAL_COORDINATOR = "regional_coordinator", _("Regional samordnare")
    #: Staff of an organisation with an open response request on the report: may read it while asked,
    #: answers through the signed link; takes no transition.
    COUNTERPART = "counterpart", _("Motpart (yttrande begärt)")


class RejectReason(models.TextChoices):
    NOT_A_DEVIATION = "not_a_deviation", _("Inte en samverkansbrist")
    BELONGS_TO_BUS = "bus", _("Gäller barn och unga (BUS-processen)")
    DUPLICATE = "duplicate", _("Dubblett av en annan rapport")
    PERSONAL_DATA = "personal_data", _("Innehåller personuppgifter")


LOCAL = frozenset({Role.LOCAL_MEMBER, Role.LOCAL_COORDINATOR})
COORDINATORS = frozenset({Role.LOCAL_COORDINATOR, Role.REGIONAL_COORDINATOR})
HANDLERS = LOCAL | {Role.REGIONAL_COORDINATOR}
REGIONAL = frozenset({Role.REGIONAL_COORDINATOR})


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    source: frozenset
    target: Status | None  # None: the state does not change (e.g. re-routing keeps "submitted")
    roles: frozenset
    needs_text: bool = False
    text_label: str = ""
    #: Whether the text is shown to the reporter on the status page (feedback, reasons).
    text_visible_to_reporter: bool = False
    #: Which form the detail page shows for it: "text" (an optional or required comment), "reject"
    #: (reason + text, duplicate by reference), "reroute" (target council + reason) or
    #: "request_response" (organisations, message, due date; applied by services.responses.request_response).
    form: str = "text"
    #: The service that applies it, when more than the transition must happen in the same transaction
    #: (``apply_transition`` refuses these, so no report waits for a response nobody was asked for).
    applied_by: str = ""


TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in (
        Transition(
            "confirm",
            _("Bekräfta rapporten"),
            frozenset({Status.UNCONFIRMED}),
            Status.SUBMITTED,
            frozenset({Role.REPORTER}),
        ),
        Transition(
            "start_triage",
            _("Påbörja bedömning"),
            frozenset({Status.SUBMITTED}),
            Status.TRIAGE,
            HANDLERS,
        ),
        Transition(
            "request_response",
            _("Begär yttrande"),
            frozenset({Status.TRIAGE, Status.AWAITING_RESPONSE, Status.REGIONAL_ANALYSIS}),
            Status.AWAITING_RESPONSE,
            HANDLERS,
            form="request_response",
            applied_by="deviations.services.responses.request_response",
        ),
        Transition(
            "resume_triage",
            _("Återuppta bedömning"),
            frozenset({Status.AWAITING_RESPONSE}),
            Status.TRIAGE,
            HANDLERS,
        ),
        Transition(
            "resolve_locally",
            _("Markera som åtgärdad lokalt"),
            frozenset({Status.TRIAGE, Status.AWAITING_RESPONSE}),
            Status.RESOLVED_LOCALLY,
            LOCAL,
            needs_text=True,
            text_label=_("Vad har åtgärdats?"),
        ),
        Transition(
            "escalate",
            _("Eskalera till regionalt samråd"),
            frozenset({Status.TRIAGE, Status.AWAITING_RESPONSE, Status.RESOLVED_LOCALLY}),
            Status.ESCALATED,
            LOCAL,
            needs_text=True,
            text_label=_("Motivering (återkommande, utanför lokalt mandat, kräver länsgemensamt beslut)"),
        ),
        Transition(
            "start_regional_analysis",
            _("Påbörja regional analys"),
            frozenset({Status.ESCALATED}),
            Status.REGIONAL_ANALYSIS,
            REGIONAL,
        ),
        Transition(
            "return_to_local",
            _("Återför till lokalt samråd"),
            REGIONAL_STATES,
            Status.TRIAGE,
            REGIONAL,
            needs_text=True,
            text_label=_("Motivering"),
        ),
        Transition(
            "close",
            _("Avsluta med återkoppling"),
            frozenset(
                {Status.TRIAGE, Status.AWAITING_RESPONSE, Status.RESOLVED_LOCALLY, Status.REGIONAL_ANALYSIS}
            ),
            Status.CLOSED,
            HANDLERS,
            needs_text=True,
            text_label=_("Återkoppling till rapportören"),
            text_visible_to_reporter=True,
        ),
        Transition(
            "reject",
            _("Avvisa"),
            frozenset({Status.SUBMITTED, Status.TRIAGE, Status.AWAITING_RESPONSE}),
            Status.REJECTED,
            HANDLERS,
            needs_text=True,
            text_label=_("Skäl"),
            text_visible_to_reporter=True,
            form="reject",
        ),
        Transition(
            "reopen",
            _("Öppna igen"),
            frozenset({Status.CLOSED, Status.REJECTED}),
            Status.TRIAGE,
            COORDINATORS,
            needs_text=True,
            text_label=_("Skäl"),
        ),
        Transition(
            "reroute",
            _("Flytta till annat lokalt samråd"),
            frozenset({Status.SUBMITTED, Status.TRIAGE}),
            Status.SUBMITTED,
            HANDLERS,
            needs_text=True,
            text_label=_("Skäl"),
            form="reroute",
        ),
    )
}


def allowed_actions(status: str, roles: set | frozenset) -> list[Transition]:
    """The transitions someone with ``roles`` may take from ``status``, in table order."""
    return [t for t in TRANSITIONS.values() if status in t.source and t.roles & set(roles)]
