"""Exact figures of the follow-up selector on the known dataset (tests/followup/dataset.py)."""

import datetime
from unittest import mock

import pytest
from django.utils import timezone

from deviations import summary
from deviations.services.transitions import apply_transition
from deviations.workflow import Role, Status
from followup.selectors import (
    DateBasis,
    Period,
    Scope,
    followup_reports,
    followup_statistics,
    percentile_cont,
)
from tests import factories
from tests.followup.dataset import TODAY, utc

pytestmark = pytest.mark.django_db
D = datetime.date
COUNTY = Scope(Scope.COUNTY)


def stats_for(dataset, period=None, scope=COUNTY, basis=DateBasis.REPORTED, masked=False):
    return followup_statistics(
        agreement=dataset.agreement,
        period=period or Period.year(2026),
        scope=scope,
        basis=basis,
        masked=masked,
        today=TODAY,
    )


def counts(rows, key="label"):
    return {row[key]: row["count"] for row in rows}


def test_year_totals_exclude_unconfirmed_other_agreement_and_other_year(dataset):
    stats = stats_for(dataset)
    assert stats.total == 9
    refs = set(
        followup_reports(
            agreement=dataset.agreement, period=Period.year(2026), scope=COUNTY, basis=DateBasis.REPORTED
        ).values_list("reference", flat=True)
    )
    assert "SB-2026-00010" not in refs  # unconfirmed
    assert "SB-2026-00012" not in refs  # other agreement
    assert "SB-2025-00009" not in refs  # 2025


def test_trend_by_month_lists_every_month_with_counts_and_shares(dataset):
    stats = stats_for(dataset)
    assert [r["label"] for r in stats.by_month] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert [r["count"] for r in stats.by_month] == [2, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1]
    assert stats.by_month[0]["share"] == 22.2
    assert stats.by_month[7]["share"] == 0.0


def test_by_category_and_by_commitment(dataset):
    stats = stats_for(dataset)
    assert [(r["label"], r["count"], r["share"]) for r in stats.by_category] == [
        ("Utskrivning utan information", 5, 55.6),
        ("SIP kallas inte", 2, 22.2),
        ("Tillgänglighet", 2, 22.2),
    ]
    assert [(r["label"], r["count"], r["share"]) for r in stats.by_commitment] == [
        ("1. SIP upprättas vid behov", 5, 55.6),
        ("2. God tillgänglighet", 3, 33.3),
        ("Inget åtagande angivet", 1, 11.1),
    ]


def test_by_organization_pair_and_principal_pair(dataset):
    stats = stats_for(dataset)
    assert counts(stats.by_organization_pair) == {
        "Socialtjänst Ett → Psykiatri Syd": 6,
        "Socialtjänst Ett → Beroendecentrum": 1,
        "Psykiatri Syd → Socialtjänst Två": 1,
        "Socialtjänst Två → Socialtjänst Ett": 1,
        "Socialtjänst Två → Psykiatri Syd": 1,
    }
    assert stats.by_organization_pair[0]["share"] == 66.7
    assert [(r["key"], r["count"], r["share"]) for r in stats.by_principal_pair] == [
        ("municipality_region", 7, 77.8),
        ("region_municipality", 1, 11.1),
        ("municipality_municipality", 1, 11.1),
    ]


def test_median_and_90th_percentile_of_response_and_closure_times(dataset):
    stats = stats_for(dataset)
    # First response: [1, 1, 2, 3, 4, 5, 6, 10] days; closure (closed only): [10, 20, 30, 40] days.
    assert stats.durations["response"] == {"count": 8, "median_days": 3.5, "p90_days": 7.2}
    assert stats.durations["closure"] == {"count": 4, "median_days": 25.0, "p90_days": 37.0}


@pytest.mark.parametrize(
    "values",
    [[1], [1, 1, 2, 3, 4, 5, 6, 10], [10, 20, 30, 40], [0, 0, 0, 7], [3, 950, 12, 12, 12, 400, 1]],
)
@pytest.mark.parametrize("p", [0, 0.1, 0.5, 0.9, 1])
def test_percentile_of_a_histogram_equals_postgresqls_percentile_cont(values, p):
    from django.db import connection

    histogram: dict[int, int] = {}
    for value in values:
        histogram[value] = histogram.get(value, 0) + 1
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT percentile_cont(%s) WITHIN GROUP (ORDER BY x) FROM unnest(%s::int[]) x", [p, values]
        )
        expected = cursor.fetchone()[0]
    assert percentile_cont(histogram, p) == pytest.approx(expected)


def test_percentile_refuses_a_fraction_outside_0_to_1():
    with pytest.raises(ValueError):
        percentile_cont({1: 1}, 1.5)
    assert percentile_cont({}, 0.5) is None


def test_responses_in_time_use_the_swedish_date_and_leave_pending_out(dataset):
    stats = stats_for(dataset)
    assert stats.responses == {
        "total": 4,
        "in_time": 1,
        "late": 1,  # answered 2026-05-01 22:30 UTC = 2026-05-02 00:30 in Stockholm, due 2026-05-01
        "overdue": 1,
        "pending": 1,
        "decided": 3,
        "in_time_share": 33.3,
    }
    # The open requests are read as two keys, not one per due date (a 10M year has 353 due dates).
    assert stats.tally.keys("req_open") == {"overdue": [1, 0], "pending": [1, 0]}
    # A period read in part from the reports (its last days live) folds them the same way.
    live = stats_for(dataset, period=Period.custom(D(2026, 3, 31), D(2026, 3, 31)))
    assert live.tally.keys("req_open") == {"overdue": [1, 0]}  # d4's, reported that day
    assert live.summary["overdue"] == 1


def test_open_and_overdue_now(dataset):
    stats = stats_for(dataset)
    assert stats.summary["open"] == 4
    assert stats.summary["overdue"] == 1
    assert stats.summary["closed"] == 4
    assert stats.summary["rejected"] == 1


def test_resolved_locally_vs_escalated_from_transition_events(dataset):
    stats = stats_for(dataset)
    assert stats.handling == {
        "resolved_locally": 1,
        "escalated": 2,
        "handled": 3,
        "resolved_locally_share": 33.3,
        "escalated_share": 66.7,
    }


def test_systemic_issues_touched_in_the_period_with_actions(dataset):
    stats = stats_for(dataset)
    assert [issue.title for issue in stats.systemic_issues] == ["Utskrivning utan underrättelse"]
    issue = stats.systemic_issues[0]
    assert issue.linked == 2
    action = issue.actions.all()[0]
    assert (action.owner.name, action.due_on) == ("Psykiatri Syd", D(2026, 9, 30))
    assert stats_for(dataset, period=Period.year(2025)).systemic_issues[0].title == "Gammal fråga"


@pytest.mark.parametrize(
    ("period", "basis", "expected"),
    [
        (Period.year(2026), DateBasis.REPORTED, 9),
        (Period.year(2026), DateBasis.OCCURRED, 8),  # d1 occurred 2025-12-28
        (Period.year(2025), DateBasis.REPORTED, 1),
        (Period.year(2025), DateBasis.OCCURRED, 2),
        (Period.half(2026, 1), DateBasis.REPORTED, 7),  # 30 June included
        (Period.half(2026, 2), DateBasis.REPORTED, 2),  # 1 July and 31 December included
        (Period.half(2026, 1), DateBasis.OCCURRED, 7),  # d7 occurred 30 June
        (Period.half(2026, 2), DateBasis.OCCURRED, 1),
        (Period.quarter(2026, 1), DateBasis.REPORTED, 4),  # 31 March included
        (Period.quarter(2026, 2), DateBasis.REPORTED, 3),  # 1 April included
        (Period.quarter(2026, 1), DateBasis.OCCURRED, 4),  # d5 occurred in March, reported in April
        (Period.quarter(2026, 4), DateBasis.REPORTED, 1),
        (Period.custom(D(2026, 1, 1), D(2026, 1, 15)), DateBasis.REPORTED, 2),
        (Period.custom(D(2026, 1, 2), D(2026, 1, 14)), DateBasis.REPORTED, 0),
    ],
)
def test_period_types_and_date_basis(dataset, period, basis, expected):
    assert stats_for(dataset, period=period, basis=basis).total == expected


def test_quarter_breakdowns_are_exact(dataset):
    stats = stats_for(dataset, period=Period.quarter(2026, 1))
    assert [r["count"] for r in stats.by_month] == [2, 1, 1]
    assert counts(stats.by_category) == {"Utskrivning utan information": 3, "SIP kallas inte": 1}
    # First response [1, 2, 3, 4]: median 2.5, p90 3.7; closure [10, 20]: median 15, p90 19.
    assert stats.durations["response"] == {"count": 4, "median_days": 2.5, "p90_days": 3.7}
    assert stats.durations["closure"] == {"count": 2, "median_days": 15.0, "p90_days": 19.0}


def test_occurred_basis_changes_the_trend(dataset):
    stats = stats_for(dataset, period=Period.quarter(2026, 1), basis=DateBasis.OCCURRED)
    assert [r["count"] for r in stats.by_month] == [1, 1, 2]  # d2 | d3 | d4, d5


def test_half_year_breakdowns_are_exact(dataset):
    stats = stats_for(dataset, period=Period.half(2026, 2))
    assert counts(stats.by_category) == {"Utskrivning utan information": 2}
    assert stats.handling["escalated"] == 2
    assert stats.durations["response"] == {"count": 2, "median_days": 8.0, "p90_days": 9.6}


def test_custom_period_breakdowns_are_exact(dataset):
    stats = stats_for(dataset, period=Period.custom(D(2026, 3, 31), D(2026, 4, 1)))
    assert stats.total == 2
    assert [r["label"] for r in stats.by_month] == ["2026-03", "2026-04"]
    assert counts(stats.by_principal_pair) == {
        "Kommun → Region": 1,
        "Region → Kommun": 1,
        "Kommun → Kommun": 0,
    }


def test_scope_council_and_municipality(dataset):
    assert stats_for(dataset, scope=Scope(Scope.COUNCIL, council=dataset.c1)).total == 6
    assert stats_for(dataset, scope=Scope(Scope.MUNICIPALITY, municipality=dataset.m2)).total == 3
    # A local user's scope is always limited to their councils.
    limited = Scope(Scope.MUNICIPALITY, municipality=dataset.m2, council_ids=frozenset({dataset.c1.pk}))
    assert stats_for(dataset, scope=limited).total == 0


def test_masking_replaces_small_organization_pair_cells(dataset):
    stats = stats_for(dataset, masked=True)
    display = {r["label"]: (r["count_display"], r["share_display"]) for r in stats.by_organization_pair}
    assert display["Socialtjänst Ett → Psykiatri Syd"] == (6, 66.7)
    assert display["Socialtjänst Ett → Beroendecentrum"] == ("< 3", "< 3")
    unmasked = stats_for(dataset, masked=False)
    assert {r["count_display"] for r in unmasked.by_organization_pair} == {6, 1}


def test_report_confirmed_just_after_midnight_swedish_time_counts_in_the_new_year(dataset):
    """2025-12-31 23:30 UTC is 2026-01-01 00:30 in Stockholm: reported_on is the local date."""
    deviation = factories.DeviationFactory(
        agreement=dataset.agreement,
        category=dataset.k1,
        municipality=dataset.m1,
        council=None,
        reporting_organization=dataset.s1,
        status=Status.UNCONFIRMED,
        reported_on=D(2025, 12, 31),
        occurred_on=D(2025, 12, 30),
        created_at=utc(2025, 12, 31, 23, 0),
        counterparts=[dataset.psych],
    )
    with mock.patch.object(timezone, "now", return_value=utc(2025, 12, 31, 23, 30)):
        apply_transition(deviation=deviation, action="confirm", actor=None, roles={Role.REPORTER})
    deviation.refresh_from_db()
    assert deviation.reported_on == D(2026, 1, 1)
    assert stats_for(dataset).total == 10
    assert stats_for(dataset, period=Period.year(2025)).total == 1
    assert stats_for(dataset).by_month[0]["count"] == 3


def test_empty_selection_gives_zeros_not_errors(dataset, django_assert_num_queries):
    # Whether changes are pending for the summary, the summary of the period (its measures, places and
    # trend) and of the previous one, and the agreement's commitments; the pairs' times are read only
    # when shown.
    with django_assert_num_queries(4):
        stats = stats_for(dataset, period=Period.year(2020))
    assert stats.total == 0
    assert stats.durations["response"] == {"count": 0, "median_days": None, "p90_days": None}
    assert stats.responses["in_time_share"] is None
    assert stats.by_category == []
    assert stats.by_month[0] == {"month": D(2020, 1, 1), "label": "2020-01", "count": 0, "share": None}
    assert [(r["key"], r["count"]) for r in stats.by_principal_pair] == [
        ("municipality_region", 0),
        ("region_municipality", 0),
        ("municipality_municipality", 0),
    ]
    assert stats.systemic_issues == [] and stats.by_organization_pair == []


def test_statistics_take_a_bounded_number_of_queries(dataset, django_assert_max_num_queries):
    for _ in range(20):
        factories.DeviationFactory(
            agreement=dataset.agreement,
            category=factories.DeviationCategoryFactory(),
            commitment=None,
            reporting_organization=factories.OrganizationFactory(),
            reported_on=D(2026, 6, 1),
            occurred_on=D(2026, 5, 1),
        )
    summary.rebuild()  # made by factories, past the services
    # The summary of the period and of the previous one (two each for the county); the names of
    # categories, commitments, organisations, councils, municipalities and factors; the systemic issues
    # with their actions.
    with django_assert_max_num_queries(11):
        stats = stats_for(dataset)
    assert stats.total == 29


def test_page_and_pdf_list_only_the_most_frequent_pairs(dataset, monkeypatch):
    from followup import selectors

    monkeypatch.setattr(selectors, "TOP_PAIRS", 2)
    stats = stats_for(dataset)
    assert len(stats.by_organization_pair) == 5  # exports keep every pair
    assert [r["count"] for r in stats.top_organization_pairs] == [6, 1]
    assert stats.organization_pairs_left_out == 3


def test_pairs_are_ranked_by_reports_then_by_names_in_code_point_order_on_any_collation(dataset, monkeypatch):
    """The database ranks a year's pairs (``COLLATE "C"``); a period with parts of months adds live
    counts and ranks them in Python: the same order either way, Z before Ä before Å before Ö."""
    from followup import selectors

    reporter = factories.OrganizationFactory(name="Avsändare")
    for name in ("Östra vården", "Åsa mottagning", "Ängby stöd", "Zeta boende"):
        factories.DeviationFactory(
            agreement=dataset.agreement,
            reporting_organization=reporter,
            counterparts=[factories.RegionOrganizationFactory(name=name)],
            reported_on=D(2026, 6, 1),
            occurred_on=D(2026, 5, 1),
        )
    summary.rebuild()  # made by factories, past the services
    ones = [
        "Avsändare → Zeta boende",
        "Avsändare → Ängby stöd",
        "Avsändare → Åsa mottagning",
        "Avsändare → Östra vården",
        "Psykiatri Syd → Socialtjänst Två",
        "Socialtjänst Ett → Beroendecentrum",
        "Socialtjänst Två → Psykiatri Syd",
        "Socialtjänst Två → Socialtjänst Ett",
    ]
    year = stats_for(dataset)
    assert year.tally.ranked_pairs is not None  # ranked in the database
    assert [r["label"] for r in year.by_organization_pair] == ["Socialtjänst Ett → Psykiatri Syd", *ones]
    # A period reaching into January 2027 (no reports) reads that month live: ranked here, the same.
    live = stats_for(dataset, period=Period.custom(D(2026, 1, 1), D(2027, 1, 10)))
    assert live.tally.ranked_pairs is None
    assert live.by_organization_pair == year.by_organization_pair
    assert live.pair_times == year.pair_times

    monkeypatch.setattr(selectors, "TOP_PAIRS", 3)
    for stats in (
        stats_for(dataset),
        stats_for(dataset, period=Period.custom(D(2026, 1, 1), D(2027, 1, 10))),
    ):
        assert [r["label"] for r in stats.top_pair_times] == ["Socialtjänst Ett → Psykiatri Syd", *ones[:2]]
        assert stats.organization_pairs_left_out == 6


@pytest.mark.parametrize(
    "period",
    [
        Period.custom(D(2026, 6, 1), D(2026, 7, 31)),  # whole months: stored rows, ranked in the database
        Period.custom(D(2026, 6, 30), D(2026, 7, 1)),  # parts of months: read from the reports
        Period.custom(D(2026, 6, 1), D(2026, 7, 1)),  # both, added up
    ],
)
def test_a_pair_counts_its_reports_with_and_without_a_first_action(dataset, period):
    """The summary keeps a pair's reports with a first action and those still waiting for one apart
    (SB-2026-00006, submitted, has none); the page counts both, however the period is read."""
    stats = stats_for(dataset, period=period)
    assert [(r["label"], r["count"], r["first_action_days"]) for r in stats.pair_times] == [
        ("Socialtjänst Två → Psykiatri Syd", 1, 10.0),
        ("Socialtjänst Två → Socialtjänst Ett", 1, None),
    ]
    assert [r["count"] for r in stats.top_organization_pairs] == [1, 1]
    assert stats.pairs.count == 2


def test_the_open_requests_of_the_pairs_shown_are_each_pairs_own(dataset):
    """The page reads the open requests of its pairs as one index range per pair ("reporting:counterpart:"
    up to ";" in the keys' "C" collation): 9000 → 900 is not 9000 → 9001, nor the other way round."""
    reporter = factories.OrganizationFactory(pk=9000, name="Rapportör 9000")
    near = factories.RegionOrganizationFactory(pk=900, name="Motpart 900")
    far = factories.RegionOrganizationFactory(pk=9001, name="Motpart 9001")
    for counterpart, overdue, pending in ((near, 1, 2), (far, 3, 0)):
        for due in [D(2026, 10, 1)] * overdue + [D(2026, 12, 20)] * pending:
            factories.ResponseRequestFactory(
                deviation=factories.DeviationFactory(
                    agreement=dataset.agreement,
                    status=Status.AWAITING_RESPONSE,
                    reporting_organization=reporter,
                    counterparts=[counterpart],
                    reported_on=D(2026, 6, 1),
                    occurred_on=D(2026, 5, 1),
                ),
                organization=counterpart,
                due_on=due,
            )
    summary.rebuild()  # made by factories, past the services
    stats = stats_for(dataset)
    every = {r["label"]: r for r in stats.pair_times}  # the exports: every open request read
    shown = {r["label"]: r for r in stats.top_pair_times}  # the page: its pairs' ranges only
    for label, requests, in_time_share in (
        ("Rapportör 9000 → Motpart 900", 3, 0.0),
        ("Rapportör 9000 → Motpart 9001", 3, 0.0),
    ):
        assert (shown[label]["requests"], shown[label]["in_time_share"]) == (requests, in_time_share)
    assert shown == {label: every[label] for label in shown}
    near_pair = stats.tally.pair_details([(reporter.pk, near.pk)])[(reporter.pk, near.pk)]
    assert (near_pair.overdue, near_pair.pending) == (1, 2)


def test_the_page_reads_the_names_of_the_pairs_it_shows_only(dataset, monkeypatch, django_assert_num_queries):
    from followup import selectors

    monkeypatch.setattr(selectors, "TOP_PAIRS", 1)
    stats = stats_for(dataset)
    with django_assert_num_queries(2):  # the first pair's measures, its two organisations' names
        rows = stats.top_pair_times
    assert [r["label"] for r in rows] == ["Socialtjänst Ett → Psykiatri Syd"]
    assert stats.pairs.names.keys() == {dataset.s1.pk, dataset.psych.pk}
    with django_assert_num_queries(2):  # every pair (the export): ranked in one statement; the rest named
        assert len(stats.by_organization_pair) == 5


def test_page_and_pdf_list_only_the_systemic_issues_with_most_reports(
    dataset, monkeypatch, django_assert_num_queries
):
    """The page and the PDF list the ``TOP_SYSTEMIC_ISSUES`` issues with most linked reports (among
    equals the oldest) and say how many more the export holds; the export lists every one, most linked
    first and then by title. Only the listed issues and their actions are read."""
    from followup import selectors
    from followup.document import build_document
    from followup.exports import _systemic_rows

    monkeypatch.setattr(selectors, "TOP_SYSTEMIC_ISSUES", 2)
    older = factories.SystemicIssueFactory(title="B fråga", agreements=[dataset.agreement])
    newer = factories.SystemicIssueFactory(title="A fråga", agreements=[dataset.agreement])
    factories.SystemicActionFactory(issue=newer, description="Inte på sidan")
    for key, issue in (("d3", older), ("d4", newer)):
        dataset.reports[key].systemic_issue = issue
        dataset.reports[key].save(update_fields=["systemic_issue"])
    summary.rebuild()  # made by factories, past the services
    stats = stats_for(dataset)
    with django_assert_num_queries(2) as queries:  # the chosen issues, their actions
        top = stats.top_systemic_issues
        assert [(issue.title, issue.linked) for issue in top] == [
            ("Utskrivning utan underrättelse", 2),
            ("B fråga", 1),
        ]
        assert [a.description for issue in top for a in issue.actions.all()] == [
            "Länsgemensam rutin för utskrivning"
        ]
    assert "Inte på sidan" not in " ".join(q["sql"] for q in queries.captured_queries)
    assert stats.systemic_issues_left_out == 1
    texts = [getattr(block, "text", "") for block in build_document(stats).blocks]
    assert "B fråga" in texts and "A fråga" not in texts
    assert any("ytterligare 1 finns i exporten" in text for text in texts)
    assert [row[0] for row in _systemic_rows(stats)] == [
        "Utskrivning utan underrättelse",
        "A fråga",  # among equals by title
        "B fråga",
    ]
    assert [issue.title for issue in stats.top_systemic_issues] == [
        "Utskrivning utan underrättelse",
        "B fråga",
    ]


def test_reports_outside_the_selection_do_not_count(dataset):
    """Reports of another agreement, of another year and unconfirmed ones, with counterparts, handling
    events, response requests and a systemic issue of their own, must not leak in."""
    from deviations.models import DeviationEvent

    interlopers = [
        factories.DeviationFactory(
            agreement=agreement,
            status=status,
            reported_on=reported_on,
            occurred_on=reported_on - datetime.timedelta(days=1),
            reporting_organization=dataset.s1,
            counterparts=[dataset.addiction],
        )
        for agreement, status, reported_on in (
            (dataset.other_agreement, Status.SUBMITTED, D(2026, 5, 20)),
            (dataset.agreement, Status.UNCONFIRMED, D(2026, 5, 20)),
            (dataset.agreement, Status.AWAITING_RESPONSE, D(2025, 5, 20)),
        )
    ]
    for deviation in interlopers:
        for action in ("resolve_locally", "escalate"):
            DeviationEvent.objects.create(
                deviation=deviation, kind=DeviationEvent.Kind.TRANSITION, action=action
            )
        factories.ResponseRequestFactory(
            deviation=deviation, organization=dataset.addiction, due_on=D(2026, 6, 1)
        )
        deviation.systemic_issue = dataset.issue
        deviation.save(update_fields=["systemic_issue"])
    # A selected report created after them.
    factories.DeviationFactory(
        agreement=dataset.agreement,
        category=dataset.k3,
        municipality=dataset.m2,
        council=dataset.c2,
        reported_on=D(2026, 6, 1),
        occurred_on=D(2026, 5, 30),
        reporting_organization=dataset.s2,
        counterparts=[dataset.psych],
    )
    summary.rebuild()  # made by factories, past the services
    stats = stats_for(dataset)
    assert stats.total == 10
    assert counts(stats.by_organization_pair)["Socialtjänst Ett → Beroendecentrum"] == 1
    assert counts(stats.by_organization_pair)["Socialtjänst Två → Psykiatri Syd"] == 2
    assert counts(stats.by_principal_pair, key="key")["municipality_region"] == 8
    assert (stats.handling["escalated"], stats.handling["resolved_locally"]) == (2, 1)
    assert (stats.responses["total"], stats.responses["overdue"]) == (4, 1)
    assert (stats.summary["open"], stats.summary["overdue"]) == (5, 1)
    assert [(issue.title, issue.linked) for issue in stats.systemic_issues] == [
        ("Utskrivning utan underrättelse", 2)
    ]
    # Council scope: the other council's reports lie inside the range too.
    c2 = stats_for(dataset, scope=Scope(Scope.COUNCIL, council=dataset.c2))
    assert c2.total == 4
    assert (c2.handling["escalated"], c2.handling["resolved_locally"]) == (1, 1)
    assert (c2.responses["total"], c2.responses["pending"]) == (1, 1)


@pytest.mark.parametrize(
    "period",
    [
        Period.year(2026),
        Period.half(2026, 1),
        Period.quarter(2026, 2),
        Period.custom(D(2025, 10, 1), D(2026, 9, 30)),
        Period.custom(D(2026, 3, 31), D(2026, 7, 1)),
    ],
    ids=str,
)
@pytest.mark.parametrize("scope", ["county", "council", "municipality"])
def test_figures_from_year_and_quarter_rows_equal_those_from_month_rows(dataset, monkeypatch, period, scope):
    """The quarter and year rows give every figure the month rows give (read month by month, as before
    the summary had them)."""
    from followup import selectors

    scope = {
        "county": COUNTY,
        "council": Scope(Scope.COUNCIL, council=dataset.c1),
        "municipality": Scope(Scope.MUNICIPALITY, municipality=dataset.m2),
    }[scope]

    def figures():
        stats = stats_for(dataset, period=period, scope=scope, masked=True)
        names = [
            "total", "summary", "by_month", "by_category", "by_commitment", "by_organization_pair",
            "by_principal_pair", "by_severity", "by_factor", "factor_tagged", "by_council", "by_municipality",
            "pair_times", "top_pair_times", "commitments", "durations", "responses", "handling", "comparison",
        ]  # fmt: skip
        values = {name: getattr(stats, name) for name in names}
        values["systemic_issues"] = [(issue.title, issue.linked) for issue in stats.systemic_issues]
        return values

    from_spans = figures()

    def months_only(period):
        """The period's whole months as month rows, whatever years and quarters it covers."""
        _spans, partial = spans(period)
        whole = [m for m in period.months() if m >= period.start and selectors._month_end(m) <= period.end]
        return ({1: whole} if whole else {}, partial)

    spans = selectors._spans
    monkeypatch.setattr(selectors, "_spans", months_only)
    assert figures() == from_spans
