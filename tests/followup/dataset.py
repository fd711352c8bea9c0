"""A follow-up dataset with known answers (worked out by hand in the docstring of ``build``)."""

import datetime
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from councils.models import CouncilMembership
from deviations import summary
from deviations.models import DeviationEvent, SystemicAction, SystemicIssue
from deviations.workflow import Status
from tests import factories

UTC = datetime.UTC
STHLM = ZoneInfo("Europe/Stockholm")
TODAY = datetime.date(2026, 11, 25)


def utc(*args) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=UTC)


@dataclass
class Dataset:
    agreement: object
    other_agreement: object
    m1: object
    m2: object
    c1: object
    c2: object
    s1: object
    s2: object
    psych: object
    addiction: object
    k1: object
    k2: object
    k3: object
    c1_member: object
    c2_member: object
    outsider: object
    reports: dict
    issue: object
    untouched_issue: object


def build(regional_council) -> Dataset:
    """Agreement PSYK, year 2026, reported-on basis (``d9`` is 2025, ``d10`` unconfirmed, ``d12`` other
    agreement: all excluded):

    ref  reported   occurred   cat cm place  pair              1st  closed  status
    d1   2026-01-01 2025-12-28 K1  1  M1/C1  S1>Psyk           1 d  10 d    closed
    d2   2026-01-15 2026-01-10 K1  1  M1/C1  S1>Psyk           2 d  20 d    closed
    d3   2026-02-03 2026-02-01 K1  2  M1/C1  S1>Psyk           3 d          triage
    d4   2026-03-31 2026-03-30 K2  2  M1/C1  S1>Psyk,Beroende  4 d          awaiting (overdue request)
    d5   2026-04-01 2026-03-25 K2  -  M2/C2  Psyk>S2           5 d  30 d    closed (resolved locally)
    d6   2026-06-30 2026-06-29 K3  1  M2/C2  S2>S1                          submitted
    d7   2026-07-01 2026-06-30 K1  1  M2/C2  S2>Psyk           10 d         escalated
    d8   2026-12-31 2026-12-01 K1  1  M1/C1  S1>Psyk           6 d  40 d    closed (local, escalated)
    d11  2026-05-10 2026-05-09 K3  2  M1/C1  S1>Psyk           1 d          rejected

    Totals 9; months Jan 2, Feb 1, Mar 1, Apr 1, May 1, Jun 1, Jul 1, Dec 1; K1 5, K2 2, K3 2;
    commitment 1: 5, 2: 3, none: 1; pairs S1→Psyk 6, others 1 each; principal pairs kommun→region 7,
    region→kommun 1, kommun→kommun 1. First response days [1,1,2,3,4,5,6,10]: median 3.5, p90 7.2;
    closure days [10,20,30,40]: median 25.0, p90 37.0. Open 4, overdue 1. Requests: in time 1 (d2),
    late 1 (d4, answered 00:30 Swedish time the day after the due date), overdue 1 (d4), pending 1 (d7),
    cancelled 1 (d5, ignored); answered after 5 days (d2) and 29.6 days (d4): median 17.5 (30 days counted
    to the day, past 10 days). Resolved locally only: d5; escalated: d7, d8.
    """
    region = factories.RegionFactory()
    agreement = factories.AgreementFactory(code="PSYK", name="Psykisk sjukdom eller funktionsnedsättning")
    other = factories.AgreementFactory(code="MISSBRUK", name="Missbruk och beroende")
    commitment1 = factories.CommitmentFactory(agreement=agreement, number=1, title="SIP upprättas vid behov")
    commitment2 = factories.CommitmentFactory(agreement=agreement, number=2, title="God tillgänglighet")
    m1 = factories.MunicipalityFactory(name="Ettkommun", region=region)
    m2 = factories.MunicipalityFactory(name="Tvåkommun", region=region)
    c1 = factories.CouncilFactory(name="Samråd Ett", municipalities=[m1])
    c2 = factories.CouncilFactory(name="Samråd Två", municipalities=[m2])
    s1 = factories.OrganizationFactory(name="Socialtjänst Ett", principal_municipality=m1)
    s2 = factories.OrganizationFactory(name="Socialtjänst Två", principal_municipality=m2)
    psych = factories.RegionOrganizationFactory(name="Psykiatri Syd", principal_region=region)
    addiction = factories.RegionOrganizationFactory(name="Beroendecentrum", principal_region=region)
    k1 = factories.DeviationCategoryFactory(name="Utskrivning utan information")
    k2 = factories.DeviationCategoryFactory(name="SIP kallas inte")
    k3 = factories.DeviationCategoryFactory(name="Tillgänglighet")
    requester = factories.UserFactory(username="handlaggare")

    def report(
        ref,
        reported,
        occurred,
        category,
        commitment,
        place,
        rep,
        counterparts,
        submitted,
        first=None,
        closed=None,
        status=Status.CLOSED,
        agr=agreement,
    ):
        municipality, council = place
        d = factories.DeviationFactory(
            reference=ref,
            agreement=agr,
            commitment=commitment,
            category=category,
            reported_on=reported,
            occurred_on=occurred,
            municipality=municipality,
            council=council,
            reporting_organization=rep,
            counterparts=counterparts,
            status=status,
            created_at=submitted,
            submitted_at=submitted if status != Status.UNCONFIRMED else None,
            first_response_at=submitted + datetime.timedelta(days=first) if first is not None else None,
            closed_at=submitted + datetime.timedelta(days=closed) if closed is not None else None,
        )
        return d

    D = datetime.date
    P1, P2 = (m1, c1), (m2, c2)
    reports = {
        # 2025-12-31 23:30 UTC is 2026-01-01 00:30 in Stockholm: reported_on is the local date.
        "d1": report(
            "SB-2026-00001",
            D(2026, 1, 1),
            D(2025, 12, 28),
            k1,
            commitment1,
            P1,
            s1,
            [psych],
            utc(2025, 12, 31, 23, 30),
            1,
            10,
        ),
        "d2": report(
            "SB-2026-00002",
            D(2026, 1, 15),
            D(2026, 1, 10),
            k1,
            commitment1,
            P1,
            s1,
            [psych],
            utc(2026, 1, 15, 9),
            2,
            20,
        ),
        "d3": report(
            "SB-2026-00003",
            D(2026, 2, 3),
            D(2026, 2, 1),
            k1,
            commitment2,
            P1,
            s1,
            [psych],
            utc(2026, 2, 3, 9),
            3,
            status=Status.TRIAGE,
        ),
        "d4": report(
            "SB-2026-00004",
            D(2026, 3, 31),
            D(2026, 3, 30),
            k2,
            commitment2,
            P1,
            s1,
            [psych, addiction],
            utc(2026, 3, 31, 9),
            4,
            status=Status.AWAITING_RESPONSE,
        ),
        "d5": report(
            "SB-2026-00005",
            D(2026, 4, 1),
            D(2026, 3, 25),
            k2,
            None,
            P2,
            psych,
            [s2],
            utc(2026, 4, 1, 9),
            5,
            30,
        ),
        "d6": report(
            "SB-2026-00006",
            D(2026, 6, 30),
            D(2026, 6, 29),
            k3,
            commitment1,
            P2,
            s2,
            [s1],
            utc(2026, 6, 30, 9),
            status=Status.SUBMITTED,
        ),
        "d7": report(
            "SB-2026-00007",
            D(2026, 7, 1),
            D(2026, 6, 30),
            k1,
            commitment1,
            P2,
            s2,
            [psych],
            utc(2026, 7, 1, 9),
            10,
            status=Status.ESCALATED,
        ),
        "d8": report(
            "SB-2026-00008",
            D(2026, 12, 31),
            D(2026, 12, 1),
            k1,
            commitment1,
            P1,
            s1,
            [psych],
            utc(2026, 12, 31, 9),
            6,
            40,
        ),
        "d9": report(
            "SB-2025-00009",
            D(2025, 12, 31),
            D(2025, 12, 30),
            k1,
            commitment1,
            P1,
            s1,
            [psych],
            utc(2025, 12, 31, 9),
            1,
            2,
        ),
        "d10": report(
            "SB-2026-00010",
            D(2026, 5, 5),
            D(2026, 5, 4),
            k1,
            commitment1,
            P1,
            s1,
            [psych],
            utc(2026, 5, 5, 9),
            status=Status.UNCONFIRMED,
        ),
        "d11": report(
            "SB-2026-00011",
            D(2026, 5, 10),
            D(2026, 5, 9),
            k3,
            commitment2,
            P1,
            s1,
            [psych],
            utc(2026, 5, 10, 9),
            1,
            1,
            status=Status.REJECTED,
        ),
        "d12": report(
            "SB-2026-00012",
            D(2026, 5, 10),
            D(2026, 5, 9),
            k1,
            None,
            P1,
            s1,
            [psych],
            utc(2026, 5, 10, 9),
            1,
            1,
            agr=other,
        ),
    }
    r = reports
    rr = factories.ResponseRequestFactory
    rr(
        deviation=r["d4"],
        organization=psych,
        requested_by=requester,
        requested_at=utc(2026, 4, 2, 9),
        due_on=D(2026, 5, 1),
    )
    rr(
        deviation=r["d4"],
        organization=addiction,
        requested_by=requester,
        requested_at=utc(2026, 4, 2, 9),
        due_on=D(2026, 5, 1),
        answered_at=utc(2026, 5, 1, 22, 30),
    )
    rr(
        deviation=r["d2"],
        organization=psych,
        requested_by=requester,
        requested_at=utc(2026, 1, 15, 9),
        due_on=D(2026, 3, 1),
        answered_at=utc(2026, 1, 20, 9),
    )
    rr(
        deviation=r["d7"],
        organization=psych,
        requested_by=requester,
        requested_at=utc(2026, 7, 2, 9),
        due_on=D(2027, 1, 1),
    )
    rr(
        deviation=r["d5"],
        organization=s2,
        requested_by=requester,
        requested_at=utc(2026, 4, 1, 10),
        due_on=D(2026, 5, 1),
        cancelled_at=utc(2026, 4, 2, 9),
    )

    def transition(d, action, when):
        DeviationEvent.objects.create(
            deviation=d, kind=DeviationEvent.Kind.TRANSITION, action=action, created_at=when
        )

    transition(r["d5"], "resolve_locally", utc(2026, 4, 10, 9))
    transition(r["d7"], "escalate", utc(2026, 7, 11, 9))
    transition(r["d8"], "resolve_locally", utc(2027, 1, 2, 9))
    transition(r["d8"], "escalate", utc(2027, 1, 5, 9))

    issue = factories.SystemicIssueFactory(
        title="Utskrivning utan underrättelse", agreements=[agreement], state=SystemicIssue.State.IN_PROGRESS
    )
    factories.SystemicActionFactory(
        issue=issue,
        description="Länsgemensam rutin för utskrivning",
        owner=psych,
        due_on=D(2026, 9, 30),
        state=SystemicAction.State.IN_PROGRESS,
    )
    untouched = factories.SystemicIssueFactory(title="Gammal fråga", agreements=[agreement])
    for key in ("d2", "d7"):
        r[key].systemic_issue = issue
        r[key].save(update_fields=["systemic_issue"])
    r["d9"].systemic_issue = untouched
    r["d9"].save(update_fields=["systemic_issue"])

    c1_member = factories.UserFactory(username="lokal1")
    factories.CouncilMembershipFactory(council=c1, user=c1_member, role=CouncilMembership.Role.MEMBER)
    c2_member = factories.UserFactory(username="lokal2")
    factories.CouncilMembershipFactory(council=c2, user=c2_member, role=CouncilMembership.Role.COORDINATOR)
    outsider = factories.UserFactory(username="utomstaende")
    # Built with factories past the services that keep the follow-up summary current: count it once.
    summary.rebuild()
    return Dataset(
        agreement=agreement,
        other_agreement=other,
        m1=m1,
        m2=m2,
        c1=c1,
        c2=c2,
        s1=s1,
        s2=s2,
        psych=psych,
        addiction=addiction,
        k1=k1,
        k2=k2,
        k3=k3,
        c1_member=c1_member,
        c2_member=c2_member,
        outsider=outsider,
        reports=reports,
        issue=issue,
        untouched_issue=untouched,
    )
