"""Fill PostgreSQL with N realistic reports (default 1,000,000) for the performance harness.

    DJANGO_SETTINGS_MODULE=config.settings DATABASE_URL=postgres://.../sb_bench \\
        python -m bench.generate --reports 1000000 --reset

What it writes, in one transaction:
- the product's reference data (``manage.py load_reference_data``) with the bench's organisations
  (``bench.reference``), bench users (council handlers and reporters);
- systemic issues with their agreements and decided actions;
- N reports spread over ``--years`` years (volume growing over time, fewer on weekends) with a Zipf-like
  skew: a few agreements, categories and organisation pairs dominate; most reports are closed, a tail is
  open in every state; each report's events follow a path to its current status found in
  ``deviations.workflow.TRANSITIONS`` (``WAYS``, ``workflow_path``), with the matching response
  requests, counterpart rows and systemic-issue links;
- ReferenceCounter rows set to the highest number used per year; identity sequences set past the
  highest id.

The reports and their rows in the other big tables are built in chunks by ``--producers`` processes side
by side (the Python that builds and formats them was the load's bottleneck, 0.93 of a core), formatted
there in PostgreSQL's binary COPY format and streamed, chunk by chunk in order, on the load's connection;
a chunk draws from its own random generator, so the data depend on the seed and the chunk size only.
Plain (non-unique) indexes and unique constraints of those tables are dropped first and built again
afterwards, and foreign-key triggers are skipped (``session_replication_role = replica``) when the
database user is a superuser; the generator then checks the foreign keys itself. Check constraints are
always enforced by PostgreSQL. ``VACUUM ANALYZE`` runs at the end.

The load (reference data to COPY) is one transaction. What follows runs on ``--workers`` connections side
by side and commits as it goes: the index builds (PostgreSQL builds each on one core, a B-tree with
its parallel workers on two at most), the foreign-key checks, ANALYZE, the follow-up summary and VACUUM.
The indexes still to build are listed in a table of their own (``PENDING_BUILDS``), committed with their
drop: a run that stops before they are built leaves the list, and the next run builds them too. A run
that fails after the load leaves the loaded rows: run it again with ``--reset``.
"""

import argparse
import bisect
import datetime as dt
import itertools
import multiprocessing
import os
import queue
import random
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

UTC = dt.UTC
#: Connections side by side by default at most (one per CPU below that): a big machine's CPUs could
#: otherwise take most of PostgreSQL's ``max_connections`` (100 by default), e.g. for the summary's ~90
#: parts at 1M reports.
WORKERS_MAX = 8
#: The indexes and unique constraints still to build after the load (``Build``), in the bench database:
#: created and filled in the load's transaction, a row deleted as its index is built, dropped when all are.
PENDING_BUILDS = "bench_generate_pending_build"
DAY = 86400

# The tables this generator owns (truncated with --reset), children first.
OWNED_TABLES = [
    "deviations_accesslog",
    "deviations_deviationevent",
    "deviations_responserequest",
    "deviations_deviation_counterpart_organizations",
    "deviations_deviation_contributing_factors",
    "deviations_deviation",
    "deviations_systemicaction",
    "deviations_systemicissue_agreements",
    "deviations_systemicissue",
    "deviations_referencecounter",
    "deviations_followupsummary",
]
# Emptied with --reset too: e-mail tasks queued by earlier filing runs (no worker runs during a bench).
RESET_ALSO = ["django_tasks_database_dbtaskresult"]
# Tables loaded with COPY whose plain indexes are rebuilt after the load.
BULK_TABLES = [
    "deviations_deviation",
    "deviations_deviationevent",
    "deviations_responserequest",
    "deviations_deviation_counterpart_organizations",
]

#: The reporter's grade of the consequence (deviations.models.Severity), weighted by repetition; "" is a
#: report filed before the question was asked.
SEVERITIES = ["none"] * 5 + ["moderate"] * 8 + ["serious"] * 4 + ["very_serious"] + ["unknown"] * 2 + [""]

DEVIATION_COLUMNS = [
    "id",
    "reference",
    "status",
    "agreement_id",
    "commitment_id",
    "category_id",
    "occurred_on",
    "reported_on",
    "municipality_id",
    "district_id",
    "council_id",
    "reporting_organization_id",
    "description",
    "consequence",
    "actions_taken",
    "suggested_improvement",
    "severity",
    "sip_involved",
    "discharge_involved",
    "reporter_id",
    "reporter_name",
    "reporter_email",
    "reporter_phone",
    "contact_erased_at",
    "assigned_to_id",
    "systemic_issue_id",
    "duplicate_of_id",
    "reject_reason",
    "idempotency_key",
    "created_at",
    "submitted_at",
    "first_response_at",
    "updated_at",
    "closed_at",
    "response_due_on",
    "response_received_at",
]
#: What the generated events leave empty: no council move, no assignee change, no details. These columns
#: are left out of the COPY and filled by PostgreSQL, NULL or the column default that ``event_defaults``
#: sets for the load's transaction (48M rows at 10M: no Python tuple per event, five values fewer to dump).
EVENT_DEFAULTS = {
    "from_council_id": None,
    "to_council_id": None,
    "from_assignee_id": None,
    "to_assignee_id": None,
    "details": "{}",  # jsonb, as SQL
}
#: The ids of events, response requests and counterpart rows are left to their identity columns: the
#: chunks are COPYed in order on one connection, so they are dense and follow the reports as before.
EVENT_COLUMNS = [
    "deviation_id",
    "actor_id",
    "actor_label",
    "created_at",
    "kind",
    "action",
    "from_status",
    "to_status",
    "text",
    "visibility",
]
RESPONSE_COLUMNS = [
    "deviation_id",
    "organization_id",
    "email",
    "message",
    "requested_by_id",
    "requested_at",
    "due_on",
    "answered_at",
    "answered_late",
    "answered_by_name",
    "answer_what_happened",
    "answer_actions",
    "reminder_sent_at",
    "overdue_marked_at",
    "cancelled_at",
]
COUNTERPART_COLUMNS = ["deviation_id", "organization_id"]
#: What a chunk of reports is COPYed into, in this order (``ReportProducer.build``).
COPIED = [
    ("deviations_deviation", DEVIATION_COLUMNS),
    ("deviations_deviation_counterpart_organizations", COUNTERPART_COLUMNS),
    ("deviations_deviationevent", EVENT_COLUMNS),
    ("deviations_responserequest", RESPONSE_COLUMNS),
]


# --- Texts (Swedish, describing what happened, never who) ------------------------------------------

SITUATIONS = [
    "Patienten skrevs ut från slutenvården en fredag eftermiddag",
    "Personen skrevs ut från psykiatrisk heldygnsvård",
    "Den enskilde sökte hjälp på beroendeakuten",
    "En SIP hade begärts av socialtjänsten",
    "Personen var aktuell hos både kommunen och regionen",
    "Den enskilde saknade bostad vid utskrivningen",
    "Öppenvården hade remitterat till specialistpsykiatrin",
    "Personen flyttade mellan två kommuner under pågående insats",
    "Boendestödet hade uppmärksammat en försämring",
    "Spelproblem kom fram vid ett besök i primärvården",
]
FAILURES = [
    "utan att socialtjänsten fick något utskrivningsmeddelande.",
    "men ingen kallade till samordnad individuell plan.",
    "och hänvisades vidare eftersom personen inte var nykter.",
    "men remissen besvarades inte inom rimlig tid.",
    "och kommunerna var oeniga om vem som hade ansvaret.",
    "men läkemedelslistan följde inte med.",
    "utan att någon kontaktperson kunde nås under helgen.",
    "och planeringsmötet ställdes in utan ny tid.",
    "men informationen i journalen nådde aldrig kommunen.",
    "och insatsen avslutades innan nästa huvudman tagit över.",
]
DETAILS = [
    "Det är tredje gången i år som samma sak händer.",
    "Rutinen för utskrivningsplanering följdes inte.",
    "Kontakten togs först efter flera dagar.",
    "Ingen gemensam bedömning gjordes.",
    "Det saknades en utsedd fast vårdkontakt.",
    "Ansvarsfördelningen enligt överenskommelsen var oklar för personalen.",
    "",
    "",
]
CONSEQUENCES = [
    "Den enskilde stod utan insatser i flera dagar.",
    "Personen återinskrevs inom en vecka.",
    "Behandlingen avbröts och fick startas om.",
    "Den enskilde fick vänta på boende och sov ute.",
    "Anhöriga fick ta ett ansvar som huvudmännen skulle ha haft.",
    "Risken för återfall ökade.",
    "Ingen konsekvens som vi känner till ännu.",
]
ACTIONS = [
    "",
    "",
    "Vi kontaktade avdelningen i efterhand.",
    "Ärendet lyftes med närmaste chef.",
    "Vi kallade själva till SIP.",
]
SUGGESTIONS = [
    "",
    "",
    "Gemensam rutin för utskrivningsmeddelanden även på helger.",
    "Tydligare kontaktvägar mellan huvudmännen.",
    "Utbildning i överenskommelsen för nyanställda.",
]
FIRST_NAMES = [
    "Anna",
    "Eva",
    "Maria",
    "Karin",
    "Sara",
    "Lena",
    "Emma",
    "Kerstin",
    "Johan",
    "Lars",
    "Anders",
    "Karl",
    "Erik",
    "Per",
    "Mikael",
    "Ali",
    "Fatima",
    "Elin",
    "Oskar",
    "Nils",
]
LAST_NAMES = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jonsson",
    "Lindberg",
    "Lindqvist",
    "Berg",
    "Ahmed",
    "Hassan",
    "Holm",
    "Ek",
    "Sjöberg",
]


def zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1.0 / (rank**s) for rank in range(1, n + 1)]


def cumulative(weights):
    return list(itertools.accumulate(weights))


@dataclass
class Picker:
    """Weighted random choice with precomputed cumulative weights (fast for millions of draws)."""

    items: list
    weights: list[float]
    cum: list[float] = field(init=False)

    def __post_init__(self):
        self.cum = cumulative(self.weights)

    def __call__(self, rng: random.Random):
        return self.items[bisect.bisect(self.cum, rng.random() * self.cum[-1])]


@contextmanager
def step(name: str, timings: dict):
    print(f"-> {name} ...", flush=True)
    start = time.perf_counter()
    yield
    timings[name] = time.perf_counter() - start
    print(f"   {name}: {timings[name]:.1f} s", flush=True)


# --- Ways through the state machine ----------------------------------------------------------------

#: How often a report still open is in each open status (``deviations.workflow.OPEN_STATES``).
OPEN_STATE_WEIGHTS = {
    "submitted": 15,
    "triage": 30,
    "awaiting_response": 25,
    "resolved_locally": 10,
    "escalated": 8,
    "regional_analysis": 12,
}

#: How reports reached each status: the actions taken on the way besides the shortest path (see
#: ``workflow_path``), with their weights. Statuses are the values of ``deviations.workflow.Status``
#: and actions the keys of its ``TRANSITIONS``; the steps themselves come from that table.
WAYS: dict[str, list[tuple[tuple[str, ...], int]]] = {
    "unconfirmed": [((), 1)],
    "submitted": [((), 1)],
    "triage": [((), 1)],
    "awaiting_response": [((), 1)],
    "resolved_locally": [((), 1)],
    "escalated": [((), 1)],
    "regional_analysis": [((), 1)],
    # Closed directly after triage, after a response, after local action, or after regional analysis.
    "closed": [
        ((), 35),
        (("request_response",), 35),
        (("resolve_locally",), 15),
        (("start_regional_analysis",), 15),
    ],
    # Rejected on arrival or after triage.
    "rejected": [((), 50), (("start_triage",), 50)],
}


def workflow_path(target: str, via: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """The (action, new status) steps of a report from unconfirmed to ``target`` that take the actions
    ``via`` in that order and are otherwise as short as ``deviations.workflow.TRANSITIONS`` allows
    (breadth first, in table order). ValueError when the table has no such way."""
    from deviations.workflow import TRANSITIONS, Status

    steps: list[tuple[str, str]] = []
    status = Status.UNCONFIRMED.value
    for action in via:
        transition = TRANSITIONS[action]
        steps += _shortest_steps(status, {s.value for s in transition.source})
        steps.append((action, transition.target.value))
        status = transition.target.value
    return steps + _shortest_steps(status, {Status(target).value})


def _shortest_steps(start: str, goals: set[str]) -> list[tuple[str, str]]:
    from deviations.workflow import TRANSITIONS

    if start in goals:
        return []
    queue, seen = deque([(start, [])]), {start}
    while queue:
        status, steps = queue.popleft()
        for transition in TRANSITIONS.values():
            target = transition.target.value if transition.target is not None else None
            if status not in transition.source or target is None or target in seen:
                continue
            if target in goals:
                return [*steps, (transition.action, target)]
            seen.add(target)
            queue.append((target, [*steps, (transition.action, target)]))
    raise ValueError(f"No way from {start} to {sorted(goals)} in deviations.workflow.TRANSITIONS.")


def check_workflow() -> None:
    """Fail loudly if the state machine gained a status the generator does not reach, or a way of
    ``WAYS`` is no longer possible."""
    from deviations.workflow import OPEN_STATES, Status

    if set(WAYS) != set(Status.values):
        raise SystemExit(f"bench.generate.WAYS covers {sorted(WAYS)}, the workflow {sorted(Status.values)}.")
    if set(OPEN_STATE_WEIGHTS) != {s.value for s in OPEN_STATES}:
        raise SystemExit("bench.generate.OPEN_STATE_WEIGHTS does not match deviations.workflow.OPEN_STATES.")
    try:
        status_paths()
    except ValueError as error:
        raise SystemExit(f"bench.generate.WAYS: {error}") from error


def status_paths() -> dict[str, Picker]:
    """For every status of ``WAYS``: a weighted choice among the paths that lead there."""
    return {
        status: Picker([workflow_path(status, via) for via, _weight in ways], [w for _via, w in ways])
        for status, ways in WAYS.items()
    }


class Generator:
    def __init__(self, *, reports: int, years: int, seed: int, chunk: int, today: dt.date):
        self.n = reports
        self.years = years
        self.rng = random.Random(seed)
        self.chunk = chunk
        self.today = today
        self.now = dt.datetime.now(UTC)
        self.timings: dict[str, float] = {}
        self.counts: dict[str, int] = {}

    # --- reference data -------------------------------------------------------------------------

    def load_reference(self):
        from agreements.models import Agreement, DeviationCategory, Organization
        from councils.models import Council, Municipality

        from .reference import DEFAULT_POPULATION, POPULATION

        rng = self.rng
        self.municipalities = {m.id: m for m in Municipality.objects.prefetch_related("districts")}
        councils = list(Council.objects.filter(active=True).prefetch_related("municipalities", "districts"))
        local = sorted((c for c in councils if c.level == Council.Level.LOCAL), key=lambda c: c.pk)
        regional = sorted((c for c in councils if c.level == Council.Level.REGIONAL), key=lambda c: c.pk)
        self.regional_council_id = regional[0].pk if regional else None
        self.councils = councils

        def route(municipality_id, district_id):
            # Same rule as deviations.services.routing.council_for_place.
            if district_id:
                for c in local:
                    if any(d.pk == district_id for d in c.districts.all()):
                        return c.pk
            for c in local:
                if any(m.pk == municipality_id for m in c.municipalities.all()):
                    return c.pk
            return self.regional_council_id

        # Organisation pairs (reporting -> counterpart): every plausible pair gets a base weight from the
        # population of the municipality and the kind of organisation; the pairs are then ranked by it
        # and weighted 1/rank^0.9, so a few pairs dominate, as in real data.
        orgs = list(Organization.objects.filter(active=True))
        if not any(o.principal_municipality_id for o in orgs):
            raise SystemExit("No municipal organisations in the reference data.")
        self.org_email = {o.pk: o.contact_email or f"yttrande{o.pk}@example.se" for o in orgs}
        self.all_orgs = Picker([o.pk for o in orgs], zipf_weights(len(orgs), 1.0))
        municipal = [o for o in orgs if o.principal_municipality_id in self.municipalities]
        region_orgs = [o for o in orgs if o.principal_region_id]
        rng.shuffle(region_orgs)
        region_weight = dict(
            zip([o.pk for o in region_orgs], zipf_weights(len(region_orgs), 1.2), strict=True)
        )
        districts_of = {
            mid: [d for d in m.districts.all() if d.active] for mid, m in self.municipalities.items()
        }
        self.route = {}
        for mid, districts in districts_of.items():
            self.route[(mid, None)] = route(mid, None)
            for d in districts:
                self.route[(mid, d.pk)] = route(mid, d.pk)

        def place(org):
            """(municipality, district) where a municipal organisation works: a district named in the
            organisation's name, else None (drawn per report for municipalities with districts)."""
            mid = org.principal_municipality_id
            named = [d.pk for d in districts_of[mid] if d.name in org.name]
            return mid, (named[0] if named else None)

        # Organisations of the same kind in the same municipality share its weight.
        same_kind = Counter((o.principal_municipality_id, o.kind) for o in municipal)
        weights = {}

        def weight(org):
            if org.pk not in weights:
                pop = POPULATION.get(
                    self.municipalities[org.principal_municipality_id].code, DEFAULT_POPULATION
                )
                share = 1 / max(1, same_kind[(org.principal_municipality_id, org.kind)])
                weights[org.pk] = (
                    pop * share * (3.0 if org.kind == Organization.Kind.SOCIAL_SERVICES else 1.0)
                )
            return weights[org.pk]

        def ranked(pairs):
            pairs.sort(key=lambda p: -p[0])
            return Picker([p[1] for p in pairs], zipf_weights(len(pairs), 0.9))

        with_region, municipal_only = [], []
        for m in municipal:
            for r in region_orgs:
                base = weight(m) * region_weight[r.pk]
                with_region.append((base * 0.55, (m.pk, r.pk, *place(m))))
                with_region.append((base * 0.45, (r.pk, m.pk, *place(m))))
            for other in municipal:
                if other.principal_municipality_id != m.principal_municipality_id:
                    municipal_only.append((weight(m) * weight(other), (m.pk, other.pk, *place(m))))
        self.pairs_municipal_only = ranked(municipal_only)
        self.pairs_with_region = ranked(with_region) if with_region else self.pairs_municipal_only
        self.districts_of = {mid: [d.pk for d in ds] for mid, ds in districts_of.items()}

        # Agreements (PSYK and MISSBRUK dominate), their commitments and categories (Zipf per agreement).
        agreements = list(Agreement.objects.filter(active=True).prefetch_related("commitments", "categories"))
        share = {"PSYK": 45, "MISSBRUK": 40, "HEMLÖSHET": 10, "SPEL": 5}
        self.agreement_picker = Picker(
            [a.pk for a in agreements], [share.get(a.code.upper(), 5) for a in agreements]
        )
        self.agreement_municipal_only = {
            a.pk: a.parties == Agreement.Parties.MUNICIPALITIES for a in agreements
        }
        all_categories = list(DeviationCategory.objects.filter(active=True).prefetch_related("agreements"))
        self.commitments: dict[int, Picker | None] = {}
        self.categories: dict[int, Picker] = {}
        for a in agreements:
            commitments = [c.pk for c in a.commitments.all() if c.active]
            self.commitments[a.pk] = (
                Picker(commitments, zipf_weights(len(commitments))) if commitments else None
            )
            cats = [c.pk for c in all_categories if any(x.pk == a.pk for x in c.agreements.all())]
            cats = cats or [c.pk for c in all_categories if not c.agreements.all()] or [all_categories[0].pk]
            rng.shuffle(cats)
            self.categories[a.pk] = Picker(cats, zipf_weights(len(cats), 1.3))
        self.agreement_ids = [a.pk for a in agreements]

    def create_users(self):
        """Council handlers (3 per council, the regional coordinators among them) and a pool of reporters."""
        from django.contrib.auth.hashers import make_password

        from councils.models import CouncilMembership, User

        password = make_password(None)
        orgs = self.all_orgs.items
        users = []
        for council in self.councils:
            for i in range(3):
                users.append(
                    User(
                        username=f"bench-handler-{council.pk}-{i}",
                        password=password,
                        first_name=FIRST_NAMES[(council.pk + i) % len(FIRST_NAMES)],
                        last_name=LAST_NAMES[(council.pk * 3 + i) % len(LAST_NAMES)],
                        email=f"bench-handler-{council.pk}-{i}@example.se",
                    )
                )
        for i in range(2000):
            users.append(
                User(
                    username=f"bench-reporter-{i}",
                    password=password,
                    first_name=FIRST_NAMES[i % len(FIRST_NAMES)],
                    last_name=LAST_NAMES[(i // len(FIRST_NAMES)) % len(LAST_NAMES)],
                    email=f"bench-reporter-{i}@example.se",
                    organization_id=orgs[i % len(orgs)],
                )
            )
        User.objects.bulk_create(users, ignore_conflicts=True, batch_size=1000)
        by_name = dict(User.objects.filter(username__startswith="bench-").values_list("username", "pk"))
        memberships = []
        self.handlers: dict[int, list[int]] = {}
        for council in self.councils:
            ids = [by_name[f"bench-handler-{council.pk}-{i}"] for i in range(3)]
            self.handlers[council.pk] = ids
            for i, uid in enumerate(ids):
                role = CouncilMembership.Role.COORDINATOR if i == 0 else CouncilMembership.Role.MEMBER
                memberships.append(CouncilMembership(council=council, user_id=uid, role=role))
        CouncilMembership.objects.bulk_create(memberships, ignore_conflicts=True)
        self.regional_handlers = self.handlers.get(self.regional_council_id) or [by_name[next(iter(by_name))]]
        self.reporters = [
            (by_name[u.username], f"{u.first_name} {u.last_name}", u.email)
            for u in users
            if u.username.startswith("bench-reporter-")
        ]

    # --- systemic issues --------------------------------------------------------------------------

    def create_systemic_issues(self, cur):
        rng = self.rng
        count = max(5, self.n // 3000)
        start = self.now - dt.timedelta(days=365 * self.years)
        span = (self.now - start).total_seconds()
        issues, links, actions = [], [], []
        self.issues_by_agreement: dict[int, list[tuple[dt.datetime, int]]] = {
            a: [] for a in self.agreement_ids
        }
        link_id = action_id = 0
        for issue_id in range(1, count + 1):
            created = start + dt.timedelta(seconds=span * (rng.random() ** 0.7))
            age_days = (self.now - created).days
            resolved = age_days > 365 and rng.random() < 0.85
            state = "resolved" if resolved else rng.choice(["open", "in_progress", "in_progress"])
            resolved_at = created + dt.timedelta(days=rng.randint(60, 360)) if resolved else None
            if resolved_at and resolved_at > self.now:
                resolved_at = self.now - dt.timedelta(days=1)
            title = f"{rng.choice(SITUATIONS)} {rng.choice(FAILURES)}".rstrip(".")[:200]
            issues.append(
                (
                    issue_id,
                    title,
                    f"Flera rapporter visar samma mönster: {title.lower()}. {rng.choice(DETAILS)}".strip(),
                    state,
                    "Gemensam rutin beslutad och införd i alla verksamheter." if resolved else "",
                    created,
                    resolved_at or created + dt.timedelta(days=min(age_days, 30)),
                    resolved_at,
                    rng.choice(self.regional_handlers),
                )
            )
            for agreement_id in rng.sample(
                self.agreement_ids, k=min(len(self.agreement_ids), rng.choice([1, 1, 2]))
            ):
                link_id += 1
                links.append((link_id, issue_id, agreement_id))
                self.issues_by_agreement[agreement_id].append((created, issue_id))
            for _ in range(rng.randint(1, 4)):
                action_id += 1
                decided = created.date() + dt.timedelta(days=rng.randint(0, 60))
                due = decided + dt.timedelta(days=rng.randint(30, 365))
                done = due < self.today and rng.random() < 0.8
                actions.append(
                    (
                        action_id,
                        issue_id,
                        rng.choice(SUGGESTIONS[2:]),
                        self.all_orgs(rng),
                        due,
                        "done" if done else ("in_progress" if decided < self.today else "planned"),
                        min(decided, self.today),
                        min(due, self.today) if done else None,
                    )
                )
        for v in self.issues_by_agreement.values():
            v.sort()
        copy_rows(
            cur,
            "deviations_systemicissue",
            [
                "id",
                "title",
                "description",
                "state",
                "outcome",
                "created_at",
                "updated_at",
                "resolved_at",
                "created_by_id",
            ],
            issues,
        )
        copy_rows(
            cur, "deviations_systemicissue_agreements", ["id", "systemicissue_id", "agreement_id"], links
        )
        copy_rows(
            cur,
            "deviations_systemicaction",
            ["id", "issue_id", "description", "owner_id", "due_on", "state", "decided_on", "done_on"],
            actions,
        )
        self.counts.update(systemic_issues=len(issues), systemic_actions=len(actions))

    # --- reports ----------------------------------------------------------------------------------

    def creation_times(self) -> list[int]:
        """N creation timestamps (epoch seconds), sorted: more reports in later years, few on weekends,
        office hours (06–17 UTC, so the Stockholm date equals the UTC date)."""
        rng = self.rng
        first = self.today - dt.timedelta(days=365 * self.years)
        days = [first + dt.timedelta(days=i) for i in range((self.today - first).days + 1)]
        weights = [
            (1.0 + 2.0 * i / len(days)) * (0.2 if d.weekday() >= 5 else 1.0) for i, d in enumerate(days)
        ]
        cum = cumulative(weights)
        total = cum[-1]
        epoch0 = [int(dt.datetime.combine(d, dt.time(6), tzinfo=UTC).timestamp()) for d in days]
        last_allowed = int(self.now.timestamp()) - 3600
        out = []
        for _ in range(self.n):
            ts = epoch0[bisect.bisect(cum, rng.random() * total)] + rng.randrange(11 * 3600)
            out.append(ts if ts <= last_allowed else ts - DAY)  # not in the future
        out.sort()
        return out

    def run_reports(self, cur, producers: int = 1):
        """The reports with their events, response requests and counterparts: chunks of ``self.chunk``
        reports built side by side by ``producers`` processes (``ReportProducer``), each chunk formatted
        for COPY where it was built and COPYed here, in order, in the load's transaction."""
        with step("creation times", self.timings):
            times = self.creation_times()
        producer = self.producer(cur, times)
        chunks = ((first, times[first : first + self.chunk]) for first in range(0, self.n, self.chunk))
        rows: Counter = Counter()
        statuses: Counter = Counter()
        started = time.perf_counter()
        for chunk in produced(producer, chunks, producers):
            for table, columns in COPIED:
                copy_data(cur, table, columns, chunk.data[table])
            rows.update(chunk.rows)
            statuses.update(chunk.statuses)
            done = rows["deviations_deviation"]
            print(f"   {done:>9,} reports ({done / (time.perf_counter() - started):,.0f}/s)", flush=True)

        counters = reference_counters(times)
        cur.execute(
            "INSERT INTO deviations_referencecounter (year, last) SELECT * FROM unnest(%s::int[], %s::int[])",
            [list(counters), list(counters.values())],
        )
        self.counts.update(
            reports=rows["deviations_deviation"],
            events=rows["deviations_deviationevent"],
            response_requests=rows["deviations_responserequest"],
            counterpart_rows=rows["deviations_deviation_counterpart_organizations"],
        )
        self.status_counts = dict(statuses)

    def producer(self, cur, times: list[int]) -> "ReportProducer":
        """What the producers build the reports created at ``times`` from (draws the report texts)."""
        from deviations.workflow import LOCAL, TRANSITIONS

        rng = self.rng
        return ReportProducer(
            seed=self.rng.getrandbits(64),
            today=self.today,
            now=self.now,
            texts=[
                f"{rng.choice(SITUATIONS)} {rng.choice(FAILURES)} {rng.choice(DETAILS)}".strip()
                for _ in range(5000)
            ],
            year_first=year_first_indexes(times),
            paths=status_paths(),
            regional_actions={a for a, t in TRANSITIONS.items() if not (t.roles & LOCAL)},
            agreement_picker=self.agreement_picker,
            agreement_municipal_only=self.agreement_municipal_only,
            commitments=self.commitments,
            categories=self.categories,
            pairs_municipal_only=self.pairs_municipal_only,
            pairs_with_region=self.pairs_with_region,
            districts_of=self.districts_of,
            route=self.route,
            all_orgs=self.all_orgs,
            org_email=self.org_email,
            reporters=self.reporters,
            handlers=self.handlers,
            regional_handlers=self.regional_handlers,
            issues_by_agreement=self.issues_by_agreement,
            types={table: column_types(cur, table, columns) for table, columns in COPIED},
            connection_params=producer_connection_params(),
        )


def producer_connection_params() -> dict:
    """How a producer process connects (``ReportProducer.start``): the load's database, plain values."""
    from django.db import connection

    return {k: v for k, v in connection.get_connection_params().items() if isinstance(v, str | int)}


def year_first_indexes(times: list[int]) -> dict[int, int]:
    """For each year of the sorted creation ``times``: the index of its first report (a report's number
    in its year is its index minus that, plus one: ``SB-<year>-<number>``)."""
    if not times:
        return {}
    first, last = (dt.datetime.fromtimestamp(t, UTC).year for t in (times[0], times[-1]))
    return {
        year: bisect.bisect_left(times, dt.datetime(year, 1, 1, tzinfo=UTC).timestamp())
        for year in range(first, last + 1)
    }


def reference_counters(times: list[int]) -> dict[int, int]:
    """The highest reference number of each year (``ReferenceCounter.last``): its count of reports."""
    firsts = year_first_indexes(times)
    counts = {year: firsts.get(year + 1, len(times)) - first for year, first in firsts.items()}
    return {year: count for year, count in counts.items() if count}


@dataclass
class Chunk:
    """One chunk of reports as COPY data (binary format, signature to trailer) per table of ``COPIED``."""

    data: dict[str, bytes]
    rows: Counter
    statuses: Counter


def produced(producer: "ReportProducer", chunks: Iterable[tuple[int, list[int]]], processes: int):
    """The chunks built, in order: here when ``processes`` is 1, else by that many processes (started by
    the forkserver: the load's connection and threads stay in this one) with at most two chunks per
    process in flight, so memory holds a few chunks whatever N is."""
    if processes <= 1:
        producer.start()
        yield from (producer.build(first, times) for first, times in chunks)
        return
    context = multiprocessing.get_context("forkserver")
    with context.Pool(processes, initializer=_set_producer, initargs=(producer,)) as pool:
        pending: deque = deque()
        for first, times in chunks:
            pending.append(pool.apply_async(_build_chunk, (first, times)))
            if len(pending) >= 2 * processes:
                yield pending.popleft().get()
        while pending:
            yield pending.popleft().get()


_PRODUCER: "ReportProducer | None" = None


def _set_producer(producer: "ReportProducer") -> None:
    global _PRODUCER
    _PRODUCER = producer


def _build_chunk(first: int, times: list[int]) -> Chunk:
    # Started here, not in the pool's initializer: an initializer that fails is retried by the pool
    # forever, a task that fails reaches the load as its error.
    if not _PRODUCER.started:
        _PRODUCER.start()
    return _PRODUCER.build(first, times)


@dataclass
class ReportProducer:
    """Builds chunks of reports from what the generator drew before (places, people, issues, ways through
    the state machine), in plain values only: it is sent to the producer processes, which import neither
    Django nor the models. A chunk draws from its own random generator (``seed`` and its first report),
    so the data depend on the seed and the chunk size, not on the number of processes."""

    seed: int
    today: dt.date
    now: dt.datetime
    texts: list[str]
    year_first: dict[int, int]
    paths: dict[str, Picker]
    regional_actions: set[str]
    agreement_picker: Picker
    agreement_municipal_only: dict[int, bool]
    commitments: dict
    categories: dict
    pairs_municipal_only: Picker
    pairs_with_region: Picker
    districts_of: dict[int, list[int]]
    route: dict
    all_orgs: Picker
    org_email: dict[int, str]
    reporters: list[tuple[int, str, str]]
    handlers: dict[int, list[int]]
    regional_handlers: list[int]
    issues_by_agreement: dict
    types: dict[str, list[int]]
    connection_params: dict
    _cursor: object = field(default=None, init=False, repr=False)

    @property
    def started(self) -> bool:
        return self._cursor is not None

    def start(self) -> None:
        """A cursor whose adapters format the rows (``psycopg.copy.Copy`` takes one); its connection is
        closed at once: formatting COPY data to memory asks nothing of the server."""
        import psycopg

        connection = psycopg.connect(**self.connection_params)
        self._cursor = connection.cursor()
        connection.close()

    def formatted(self, table: str, rows: list) -> bytes:
        import io

        from psycopg.copy import Copy, FileWriter

        if not rows:
            return b""
        buffer = io.BytesIO()
        with Copy(self._cursor, binary=True, writer=FileWriter(buffer)) as copy:
            copy.set_types(self.types[table])
            for row in rows:
                copy.write_row(row)
        return buffer.getvalue()

    def build(self, first: int, times: list[int]) -> Chunk:
        """The reports ``first + 1`` … ``first + len(times)`` (ids; ``times`` their creation, epoch
        seconds) with their rows in the other tables of ``COPIED``."""
        rng = random.Random(f"{self.seed}:{first}")
        rand = rng.random
        expo = rng.expovariate
        now = self.now
        now_ts = now.timestamp()
        today = self.today
        fromts = dt.datetime.fromtimestamp
        texts_d = self.texts
        texts_c = CONSEQUENCES
        yes_no = Picker(["no", "yes", "unknown"], [5, 3, 2])
        reject_reason = Picker(["not_a_deviation", "duplicate", "bus", "personal_data"], [50, 25, 15, 10])
        open_state = Picker(list(OPEN_STATE_WEIGHTS), list(OPEN_STATE_WEIGHTS.values()))
        paths = self.paths
        regional_actions = self.regional_actions
        reporter_pool = self.reporters
        year_first = self.year_first
        handlers = self.handlers
        regional_handlers = self.regional_handlers
        issues_by_agreement = self.issues_by_agreement
        retention = dt.timedelta(days=365)

        dev_rows, event_rows, response_rows, cp_rows = [], [], [], []
        status_counts: Counter = Counter()

        for dev_id, created_ts in enumerate(times, start=first + 1):
            created = fromts(created_ts, UTC)
            reported_on = created.date()
            age_days = (today - reported_on).days
            occurred_on = reported_on - dt.timedelta(days=min(int(expo(1 / 6)), 120))

            # What, where, between whom.
            agreement_id = self.agreement_picker(rng)
            commitment_picker = self.commitments[agreement_id]
            commitment_id = commitment_picker(rng) if commitment_picker and rand() < 0.7 else None
            category_id = self.categories[agreement_id](rng)
            pairs = (
                self.pairs_municipal_only
                if self.agreement_municipal_only[agreement_id]
                else self.pairs_with_region
            )
            reporting_org, counterpart, municipality_id, district_id = pairs(rng)
            counterparts = [counterpart]
            if district_id is None and self.districts_of[municipality_id]:
                district_id = rng.choice(self.districts_of[municipality_id])
            council_id = self.route[(municipality_id, district_id)]
            if rand() < 0.15:
                extra = self.all_orgs(rng)
                if extra not in counterparts and extra != reporting_org:
                    counterparts.append(extra)
            counterparts = [c for c in counterparts if c != reporting_org] or [self.all_orgs.items[0]]
            counterparts = list(dict.fromkeys(counterparts))

            # Reporter: a signed-in account (70 %) or contact details given in the form.
            if rand() < 0.7:
                reporter_id, reporter_name, reporter_email = reporter_pool[int(rand() * len(reporter_pool))]
            else:
                reporter_id = None
                fn, ln = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                reporter_name, reporter_email = f"{fn} {ln}", f"{fn.lower()}.{ln.lower()}@example.se"
            reporter_phone = "08-123 456 78" if rand() < 0.3 else ""

            # Where the report stands now.
            if age_days <= 7 and rand() < 0.03:
                status = "unconfirmed"
            elif rand() < 0.85 * 2.718281828 ** (-age_days / 45) + 0.01:
                status = open_state(rng)
            else:
                status = "closed" if rand() < 0.88 else "rejected"
            status_counts[status] += 1

            # The path through the state machine to that status: (action, to_status) steps.
            path = paths[status](rng)
            if status == "unconfirmed":
                council_id = None

            # Timestamps: gaps in seconds, squeezed so the last step is before now.
            gaps = [rng.randrange(60, 1800)] + [expo(1 / (3 * DAY)) + 600 for _ in path[1:]]
            total = sum(gaps)
            room = now_ts - 600 - created_ts
            if total > room:
                factor = max(room, 1) / total
                gaps = [g * factor for g in gaps]
            t = created_ts
            step_times = []
            for g in gaps[: len(path)]:
                t += g
                step_times.append(t)

            handler_ids = handlers.get(council_id) or regional_handlers
            assigned_to_id = (
                handler_ids[int(rand() * len(handler_ids))] if path[1:] and rand() < 0.7 else None
            )
            submitted_at = fromts(step_times[0], UTC) if path else None
            first_response_at = fromts(step_times[1], UTC) if len(path) > 1 else None
            closed_at = fromts(step_times[-1], UTC) if status in ("closed", "rejected") else None
            updated_at = fromts(step_times[-1], UTC) if path else created
            systemic_issue_id = None
            duplicate_of_id = None
            reason = ""
            contact_erased_at = None
            if closed_at and (now - closed_at) > retention:
                contact_erased_at = closed_at + retention + dt.timedelta(hours=2)
                reporter_name = reporter_email = reporter_phone = ""

            # Events; the response summaries (services.response_summaries) on the way.
            response_due_on = response_received_at = None
            from_status = "unconfirmed"
            for (action, to_status), ts in zip(path, step_times, strict=True):
                at = fromts(ts, UTC)
                actor = reporter_id if action == "confirm" else (assigned_to_id or handler_ids[0])
                if action in regional_actions or from_status == "regional_analysis":
                    actor = regional_handlers[int(rand() * len(regional_handlers))]
                text = ""
                visibility = "internal"
                if action == "close":
                    text, visibility = (
                        "Tack för rapporten. Frågan har tagits upp med berörda verksamheter.",
                        "reporter",
                    )
                elif action == "reject":
                    reason = reject_reason(rng)
                    text, visibility = (
                        "Rapporten avser inte en samverkansbrist enligt överenskommelsen.",
                        "reporter",
                    )
                    if reason == "duplicate" and dev_id > 1:
                        duplicate_of_id = max(1, dev_id - 1 - int(rand() * 2000))
                elif action == "escalate":
                    text = "Återkommande brist som kräver ett länsgemensamt beslut."
                elif action == "resolve_locally":
                    text = "Rutinen har gåtts igenom med båda verksamheterna."
                event_rows.append(
                    (
                        dev_id,
                        actor,
                        "" if actor else "Rapportör (via e-postlänk)",
                        at,
                        "transition",
                        action,
                        from_status,
                        to_status,
                        text,
                        visibility,
                    )
                )
                if action == "start_triage" and assigned_to_id:
                    event_rows.append((dev_id, actor, "", at, "assignment", "", "", "", "", "internal"))
                if action == "request_response":
                    due_on = at.date() + dt.timedelta(days=60)
                    answered = status != "awaiting_response" or rand() < 0.3
                    answered_at = None
                    if answered:
                        next_ts = (
                            step_times[path.index(("close", "closed"))] if status == "closed" else now_ts - 60
                        )
                        answered_at = fromts(ts + (next_ts - ts) * rand(), UTC)
                        response_received_at = max(filter(None, (response_received_at, answered_at)))
                    else:
                        response_due_on = min(filter(None, (response_due_on, due_on)))
                    for org in counterparts:
                        overdue = not answered and due_on < today
                        response_rows.append(
                            (
                                dev_id,
                                org,
                                self.org_email[org],
                                "Vi ber om ert yttrande över rapporten.",
                                actor,
                                at,
                                due_on,
                                answered_at,
                                answered_at is not None and answered_at.date() > due_on,
                                "Verksamhetschef" if answered else "",
                                "Vi har gått igenom händelsen." if answered else "",
                                "Rutinen ses över." if answered else "",
                                dt.datetime.combine(due_on - dt.timedelta(days=7), dt.time(5), tzinfo=UTC)
                                if (due_on - dt.timedelta(days=7)) < today
                                and (
                                    answered_at is None or answered_at.date() > due_on - dt.timedelta(days=7)
                                )
                                else None,
                                dt.datetime.combine(due_on + dt.timedelta(days=1), dt.time(5), tzinfo=UTC)
                                if overdue
                                else None,
                                None,
                            )
                        )
                        if answered:
                            event_rows.append(
                                (
                                    dev_id,
                                    None,
                                    "Yttrande från motpart",
                                    answered_at,
                                    "response_received",
                                    "",
                                    "",
                                    "",
                                    "Vi har gått igenom händelsen.",
                                    "internal",
                                )
                            )
                if action == "start_regional_analysis" and rand() < 0.6:
                    candidates = issues_by_agreement.get(agreement_id) or []
                    i = bisect.bisect(candidates, (at, 1 << 60))
                    if i:
                        systemic_issue_id = candidates[max(0, i - 1 - int(rand() * 3))][1]
                        event_rows.append((dev_id, actor, "", at, "linked", "", "", "", "", "internal"))
                from_status = to_status
            if path and rand() < 0.15:
                event_rows.append(
                    (
                        dev_id,
                        handler_ids[0],
                        "",
                        fromts(step_times[-1] - 1, UTC),
                        "note",
                        "",
                        "",
                        "",
                        "Kontakt tagen med enhetschef.",
                        "internal",
                    )
                )

            year = reported_on.year
            number = dev_id - year_first[year]  # ids from 1, indexes from 0
            dev_rows.append(
                (
                    dev_id,
                    f"SB-{year}-{number:05d}",
                    status,
                    agreement_id,
                    commitment_id,
                    category_id,
                    occurred_on,
                    reported_on,
                    municipality_id,
                    district_id,
                    council_id,
                    reporting_org,
                    texts_d[int(rand() * 5000)],
                    texts_c[int(rand() * len(texts_c))],
                    ACTIONS[int(rand() * len(ACTIONS))],
                    SUGGESTIONS[int(rand() * len(SUGGESTIONS))],
                    SEVERITIES[int(rand() * len(SEVERITIES))],
                    yes_no(rng),
                    yes_no(rng),
                    reporter_id,
                    reporter_name,
                    reporter_email,
                    reporter_phone,
                    contact_erased_at,
                    assigned_to_id,
                    systemic_issue_id,
                    duplicate_of_id,
                    reason,
                    uuid.UUID(int=rng.getrandbits(128), version=4),
                    created,
                    submitted_at,
                    first_response_at,
                    updated_at,
                    closed_at,
                    response_due_on,
                    response_received_at,
                )
            )
            for org in counterparts:
                cp_rows.append((dev_id, org))

        tables = [table for table, _columns in COPIED]
        rows = dict(zip(tables, (dev_rows, cp_rows, event_rows, response_rows), strict=True))
        return Chunk(
            data={table: self.formatted(table, table_rows) for table, table_rows in rows.items()},
            rows=Counter({table: len(table_rows) for table, table_rows in rows.items()}),
            statuses=status_counts,
        )


def copy_data(cur, table: str, columns: list[str], data: bytes) -> None:
    """COPY ``data`` (``ReportProducer.formatted``: PostgreSQL's binary format, signature to trailer) into
    ``table``, FREEZE as ``copy_rows``."""
    if not data:
        return
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY, FREEZE)") as copy:
        copy.write(data)


@contextmanager
def event_defaults(cur):
    """Inside the load's transaction: the events' ``EVENT_DEFAULTS`` columns get their values as column
    defaults, so the COPY leaves them out; the schema is the migrations' again before the commit."""
    from psycopg import sql

    alter = sql.SQL("ALTER TABLE deviations_deviationevent ALTER COLUMN {} ")
    values = {column: value for column, value in EVENT_DEFAULTS.items() if value is not None}
    for column, value in values.items():
        default = sql.SQL("SET DEFAULT {}").format(sql.Literal(value))
        cur.execute(alter.format(sql.Identifier(column)) + default)
    yield
    for column in values:
        cur.execute(alter.format(sql.Identifier(column)) + sql.SQL("DROP DEFAULT"))


def copy_rows(cur, table: str, columns: list[str], rows) -> None:
    """COPY ``rows`` into ``table`` in PostgreSQL's binary format: nothing is turned into text and
    parsed back (timestamps and dates cost most), each value is dumped for its column's type.
    FREEZE (the table was truncated in this transaction): the rows are written frozen and their
    pages all-visible, so neither the first reads nor VACUUM rewrite them to set hint bits."""
    if not rows:
        return
    types = column_types(cur, table, columns)
    with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY, FREEZE)") as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


_COLUMN_TYPES: dict[tuple[str, tuple[str, ...]], list[int]] = {}


def column_types(cur, table: str, columns: list[str]) -> list[int]:
    """The type oids of ``columns`` of ``table``, in that order (read once per table)."""
    key = (table, tuple(columns))
    if key not in _COLUMN_TYPES:
        cur.execute(
            "SELECT attname, atttypid::int FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0",
            [table],
        )
        oids = dict(cur.fetchall())
        _COLUMN_TYPES[key] = [oids[column] for column in columns]
    return _COLUMN_TYPES[key]


def droppable_unique_constraints(cur, tables: list[str]) -> list[tuple[str, str, str, str]]:
    """(table, name, index definition, constraint definition) of the unique constraints of ``tables``
    that no foreign key depends on: dropped for the load and added again afterwards, so that their
    indexes (one on random UUIDs) are built once from sorted rows instead of taking millions of random
    inserts."""
    cur.execute(
        """
        SELECT c.conrelid::regclass::text, c.conname, pg_get_indexdef(c.conindid), pg_get_constraintdef(c.oid)
        FROM pg_constraint c
        WHERE c.contype = 'u' AND c.conrelid = ANY(%s::regclass[])
          AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)
        ORDER BY 1, 2
        """,
        [tables],
    )
    return cur.fetchall()


def check_model_columns():
    """Fail loudly if the models gained columns the generator does not write."""
    from django.db import models

    from deviations.models import Deviation, DeviationEvent, ResponseRequest

    for model, columns in (
        (Deviation, DEVIATION_COLUMNS),
        (DeviationEvent, ["id", *EVENT_COLUMNS, *EVENT_DEFAULTS]),
        (ResponseRequest, ["id", *RESPONSE_COLUMNS]),
    ):
        # PostgreSQL computes generated columns (the search document) itself, numbers the events and
        # requests (identity columns) and fills the columns with a database default (``db_default``).
        expected = {
            f.column
            for f in model._meta.concrete_fields
            if not f.generated and f.db_default is models.NOT_PROVIDED
        }
        missing = expected - set(columns)
        if missing:
            raise SystemExit(
                f"bench.generate does not fill {model.__name__} columns {sorted(missing)}: update it."
            )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--seed", type=int, default=20261125)
    parser.add_argument("--chunk", type=int, default=50_000, help="reports per COPY round")
    parser.add_argument("--reset", action="store_true", help="delete existing reports, events, issues first")
    parser.add_argument("--no-vacuum", action="store_true", help="skip VACUUM ANALYZE (e.g. inside a test)")
    parser.add_argument(
        "--no-summary",
        action="store_true",
        help="leave the follow-up summary empty (count it afterwards: manage.py rebuild_followup_summary)",
    )
    parser.add_argument(
        "--workers",
        "--summary-workers",
        type=int,
        default=min(os.cpu_count() or 1, WORKERS_MAX),
        help=f"connections side by side for the index builds, the foreign-key checks, ANALYZE, the follow-up "
        f"summary and VACUUM (default: one per CPU, at most {WORKERS_MAX})",
    )
    parser.add_argument(
        "--producers",
        type=int,
        default=min(os.cpu_count() or 1, WORKERS_MAX),
        help="processes building the reports' rows for the COPY side by side (default: one per CPU, at most "
        f"{WORKERS_MAX}; 1 builds them in this process)",
    )
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from deviations import summary

    from .reference import ensure_reference_data

    check_model_columns()
    check_workflow()
    gen = Generator(
        reports=args.reports, years=args.years, seed=args.seed, chunk=args.chunk, today=timezone.localdate()
    )
    overall = time.perf_counter()
    with connection.cursor() as c:
        c.execute("SELECT count(*) FROM deviations_deviation")
        existing = c.fetchone()[0]
    if existing and not args.reset:
        raise SystemExit(f"{existing} reports already in the database; pass --reset to replace them.")

    with step("reference data and users", gen.timings):
        how = ensure_reference_data()
        print(f"   reference data via {how}")
        gen.load_reference()
        gen.create_users()

    workers = max(1, args.workers)
    with transaction.atomic(), connection.cursor() as django_cursor:
        cur = django_cursor.cursor  # the psycopg 3 cursor, for COPY
        cur.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        superuser = cur.fetchone()[0]
        cur.execute("SET LOCAL synchronous_commit = off")
        if superuser:
            cur.execute("SET LOCAL session_replication_role = replica")  # no FK trigger per row
        with step("truncate", gen.timings):
            cur.execute(f"TRUNCATE {', '.join(OWNED_TABLES + RESET_ALSO)} RESTART IDENTITY")
        builds = builds_for_load(cur, BULK_TABLES)
        with step(f"drop {len(builds)} indexes and unique constraints", gen.timings):
            drop_for_load(cur, builds)
        with step("systemic issues", gen.timings):
            gen.create_systemic_issues(cur)
        copying = f"reports, events, responses, counterparts (COPY, {args.reports:,} reports)"
        with step(copying, gen.timings), event_defaults(cur):
            gen.run_reports(cur, producers=max(1, args.producers))
        with step("sequences", gen.timings):
            for table in OWNED_TABLES:
                if table == "deviations_referencecounter":
                    continue
                cur.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"COALESCE((SELECT max(id) FROM {table}), 0) + 1, false)"
                )
    # Committed: from here on each step runs on several connections, which see the loaded rows.
    try:
        with connection.cursor() as c:
            c.execute("SET maintenance_work_mem = '1GB'")  # for what runs on this one (side_by_side's set it)
        with step(f"build {len(builds)} indexes and unique constraints ({workers} connections)", gen.timings):
            build_pending(workers)
        if superuser:
            with step(f"foreign-key check ({workers} connections)", gen.timings):
                check_foreign_keys(tables=OWNED_TABLES, workers=workers)
        # Statistics for the summary's plans: without them PostgreSQL plans its parts for empty tables
        # (13 reports expected per part instead of ~61,000: an index probe of the events per report
        # where a hashed subplan belongs). At 1M reports the summary took 146 s before, 95 s after.
        with step("ANALYZE", gen.timings):
            side_by_side([statement(f"ANALYZE {table}") for table in OWNED_TABLES], workers)
        # Loaded past the services that keep it current: count the follow-up summary once, in parallel
        # (committed part by part: nobody reads the database before the generator is done).
        if not args.no_summary:
            with step(f"follow-up summary ({workers} connections)", gen.timings):
                summary.load(workers=workers)
        if not args.no_vacuum:
            with step("VACUUM ANALYZE", gen.timings):
                side_by_side([statement(f"VACUUM (ANALYZE) {table}") for table in OWNED_TABLES], workers)
    except BaseException:
        print(
            "The loaded rows are committed; what follows the load did not finish. Run again with --reset "
            f"(it also builds the indexes still listed in {PENDING_BUILDS}).",
            file=sys.stderr,
        )
        raise
    total = time.perf_counter() - overall
    print()
    print(
        f"Generated in {total:.0f} s ({total / 60:.1f} min): "
        + ", ".join(f"{k}={v:,}" for k, v in gen.counts.items())
    )
    print("Status: " + ", ".join(f"{k}={v:,}" for k, v in sorted(gen.status_counts.items())))
    return 0


def check_foreign_keys(*, tables=OWNED_TABLES, workers: int = 1) -> None:
    """The rows were loaded without FK triggers; prove every reference resolves (an anti-join per
    reference, on ``workers`` connections)."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            """
            SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, af.attname
            FROM pg_constraint c
            JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
            JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1]
            WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])
            ORDER BY pg_relation_size(c.conrelid) DESC, 1, 2
            """,
            [list(tables)],
        )
        references = cur.fetchall()

    def check(table, column, target, target_column):
        def job(cur):
            cur.execute(
                f"SELECT count(*) FROM {table} t WHERE t.{column} IS NOT NULL AND NOT EXISTS "
                f"(SELECT 1 FROM {target} x WHERE x.{target_column} = t.{column})"
            )
            missing = cur.fetchone()[0]
            if missing:
                raise SystemExit(f"{missing} rows of {table}.{column} point nowhere in {target}.")

        return job

    side_by_side([check(*reference) for reference in references], workers)


# --- Side by side --------------------------------------------------------------------------------------


def statement(sql: str) -> Callable:
    """A job for ``side_by_side`` that runs one statement."""
    return lambda cur: cur.execute(sql)


def side_by_side(jobs: list[Callable], workers: int) -> None:
    """Run ``jobs`` (each called with a cursor) in their order on ``workers`` connections at once, each
    in autocommit on a thread of its own (Django's connection per thread, closed afterwards); one worker
    runs them on this thread's connection. The first failure is raised once the jobs started before it
    are done; no job starts after it."""
    from django.db import connection

    if workers <= 1 or len(jobs) <= 1:
        with connection.cursor() as cur:
            for job in jobs:
                job(cur)
        return
    todo = queue.SimpleQueue()
    for job in jobs:
        todo.put(job)
    failed = []

    def work():
        try:
            with connection.cursor() as cur:
                cur.execute("SET maintenance_work_mem = '1GB'")
                while not failed:
                    try:
                        job = todo.get_nowait()
                    except queue.Empty:
                        return
                    try:
                        job(cur)
                    except BaseException as error:
                        failed.append(error)
                        raise
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=min(workers, len(jobs)), thread_name_prefix="bench") as pool:
        running = [pool.submit(work) for _ in range(min(workers, len(jobs)))]
    for done in running:
        done.result()


# --- Indexes dropped for the load and built after it ---------------------------------------------------


@dataclass(frozen=True)
class Build:
    """An index to build after the load: a plain index, or the index of a unique constraint
    (``constraint``: what follows ``UNIQUE (...)`` in its definition, e.g. ``DEFERRABLE``), which is
    built like a plain one, beside the table's other builds, and then made the constraint's."""

    table: str
    name: str
    index: str  # its CREATE [UNIQUE] INDEX statement
    constraint: str | None = None

    def run(self, cur) -> None:
        cur.execute(self.index)
        if self.constraint is not None:
            # A moment's lock: ADD CONSTRAINT ... UNIQUE (...) would lock the table (ACCESS EXCLUSIVE)
            # while it built the index, and every other build of the table would wait for it.
            cur.execute(
                f"ALTER TABLE {self.table} ADD CONSTRAINT {self.name} UNIQUE USING INDEX {self.name} "
                f"{self.constraint}"
            )
        cur.execute(f"DELETE FROM {PENDING_BUILDS} WHERE name = %s", [self.name])


def pending_builds(cur) -> list[Build]:
    """What an earlier run left to build (``PENDING_BUILDS``), if anything."""
    cur.execute("SELECT to_regclass(%s) IS NOT NULL", [PENDING_BUILDS])
    if not cur.fetchone()[0]:
        return []
    cur.execute(f"SELECT table_name, name, index, constraint_suffix FROM {PENDING_BUILDS} ORDER BY name")
    return [Build(*row) for row in cur.fetchall()]


def builds_for_load(cur, tables: list[str]) -> list[Build]:
    """The plain indexes and droppable unique constraints of ``tables`` (``plain_indexes``,
    ``droppable_unique_constraints``) and what an earlier run left unbuilt, which takes precedence (a
    constraint's index built before that run stopped looks plain)."""
    from config.db import plain_indexes

    cur.execute("SELECT indexrelid::regclass::text, indrelid::regclass::text FROM pg_index")
    table_of = dict(cur.fetchall())
    builds = {name: Build(table_of[name], name, index) for name, index in plain_indexes(cur, tables)}
    for table, name, index, definition in droppable_unique_constraints(cur, tables):
        builds[name] = Build(table, name, index, definition[definition.rindex(")") + 1 :].strip())
    builds.update((build.name, build) for build in pending_builds(cur))
    return sorted(builds.values(), key=lambda build: build.name)


def drop_for_load(cur, builds: list[Build]) -> None:
    """Drop the indexes and constraints of ``builds`` that exist, and list all of them in
    ``PENDING_BUILDS``, in the caller's transaction."""
    cur.execute("SELECT conname FROM pg_constraint WHERE contype = 'u'")
    constraints = {name for (name,) in cur.fetchall()}
    for build in builds:
        if build.constraint is not None and build.name in constraints:
            cur.execute(f"ALTER TABLE {build.table} DROP CONSTRAINT {build.name}")
        else:
            cur.execute(f"DROP INDEX IF EXISTS {build.name}")
    cur.execute(
        f"CREATE TABLE IF NOT EXISTS {PENDING_BUILDS} "
        "(name text PRIMARY KEY, table_name text NOT NULL, index text NOT NULL, constraint_suffix text)"
    )
    cur.execute(f"DELETE FROM {PENDING_BUILDS}")
    cur.executemany(
        f"INSERT INTO {PENDING_BUILDS} (name, table_name, index, constraint_suffix) VALUES (%s, %s, %s, %s)",
        [(build.name, build.table, build.index, build.constraint) for build in builds],
    )


def build_pending(workers: int) -> None:
    """Build what ``PENDING_BUILDS`` lists on ``workers`` connections, the biggest tables' first (the
    longest builds start first, so the last to end is a short one), and drop the list when all are
    built."""
    from django.db import connection

    with connection.cursor() as cur:
        builds = pending_builds(cur)
        cur.execute(
            "SELECT relname, pg_relation_size(oid) FROM pg_class WHERE relname = ANY(%s)",
            [sorted({build.table for build in builds})],
        )
        size = dict(cur.fetchall())
    builds.sort(key=lambda build: (-size.get(build.table, 0), "USING gin" not in build.index, build.name))
    side_by_side([build.run for build in builds], workers)
    with connection.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {PENDING_BUILDS}")


if __name__ == "__main__":
    sys.exit(main())
