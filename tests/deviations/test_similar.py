"""Similar-report suggestions on a constructed set."""

import datetime

import pytest

from deviations.selectors import similar_deviations
from tests import factories
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db

TEXT = "Patienten skrevs ut från slutenvården utan att socialtjänsten fick information om utskrivningen."


def test_ranking_prefers_same_kind_same_pair_close_in_time_and_similar_text():
    w = build_world()
    base = w.dev_x
    base.description = TEXT
    base.save()
    day = base.occurred_on

    def make(
        ref,
        *,
        agreement=None,
        category=None,
        reporting=None,
        counterparts=None,
        days=0,
        text="Annat ärende helt.",
    ):
        return factories.DeviationFactory(
            reference=ref,
            council=w.council_x,
            municipality=w.muni_x,
            agreement=agreement or w.agreement,
            category=category or w.category,
            reporting_organization=reporting or w.org_social,
            counterparts=counterparts if counterparts is not None else [w.org_psych],
            occurred_on=day - datetime.timedelta(days=days),
            reported_on=base.reported_on,
            description=text,
        )

    other_cat = factories.DeviationCategoryFactory(name="SIP")
    other_agreement = factories.AgreementFactory(code="SPEL")
    stranger = factories.OrganizationFactory(name="Främling")
    best = make("SB-2026-90001", text=TEXT)  # everything matches
    pair_time = make("SB-2026-90002", days=2)  # same kind, pair and time, other text
    old = make("SB-2026-90003", days=170)  # same kind and pair, far in time
    other_pair = make("SB-2026-90004", reporting=stranger, counterparts=[stranger], days=1)
    other_kind = make(
        "SB-2026-90005", category=other_cat, reporting=stranger, counterparts=[stranger], days=1
    )
    make("SB-2026-90006", agreement=other_agreement, category=other_cat)  # nothing in common: not a candidate
    make("SB-2026-90007", days=400, text=TEXT)  # outside the window: not a candidate

    result = similar_deviations(base, user=w.coord_x)
    refs = [d.reference for d in result]
    assert refs == [
        best.reference,
        pair_time.reference,
        old.reference,
        other_pair.reference,
        other_kind.reference,
    ]
    assert set(result[0].similar_reasons) == {"kind", "pair", "time", "text"}


def test_similar_reports_stay_within_the_users_scope_and_exclude_itself():
    w = build_world()
    factories.DeviationFactory(
        council=w.council_y, municipality=w.muni_y, agreement=w.agreement, category=w.category
    )
    result = similar_deviations(w.dev_x, user=w.coord_x)
    assert w.dev_x not in result
    assert all(d.council_id == w.council_x.pk for d in result)


def test_at_most_five():
    w = build_world()
    factories.DeviationFactory.create_batch(
        8, council=w.council_x, municipality=w.muni_x, agreement=w.agreement, category=w.category
    )
    assert len(similar_deviations(w.dev_x, user=w.coord_x)) == 5


def _same_kind(w, **fields):
    """A report of council X of the world's agreement and category."""
    return factories.DeviationFactory(
        council=w.council_x, municipality=w.muni_x, agreement=w.agreement, category=w.category, **fields
    )


def test_without_counterparts_or_words_the_score_is_kind_and_time():
    """A report with no counterpart (no pair to share) and no word of four letters (no text rank)."""
    w = build_world()
    base = _same_kind(w, reporting_organization=w.org_social, counterparts=[], description="Ja, 12 nu.")
    same_reporter = _same_kind(
        w, reporting_organization=w.org_social, counterparts=[w.org_psych], occurred_on=base.occurred_on
    )
    (result,) = [d for d in similar_deviations(base, user=w.coord_x) if d.pk == same_reporter.pk]
    assert result.similarity == 5.0  # same kind 3 + same day 2; no pair, no text
    assert result.similar_reasons == ["kind", "time"]
    assert (result.reference, result.status, result.occurred_on, result.category.name) == (
        same_reporter.reference,
        same_reporter.status,
        same_reporter.occurred_on,
        w.category.name,
    )


def test_the_pair_counts_both_ways_round():
    """Same pair: this report's reporting organisation among the candidate's counterparts and one of
    this report's counterparts reporting, or the same reporting organisation sharing a counterpart."""
    w = build_world()
    other = factories.OrganizationFactory(name="Annan")
    base = _same_kind(w, reporting_organization=w.org_social, counterparts=[w.org_psych], description="Ja.")

    def candidate(reporting, counterparts):
        return _same_kind(
            w,
            reporting_organization=reporting,
            counterparts=counterparts,
            occurred_on=base.occurred_on,
            description="Ja.",
        )

    reversed_pair = candidate(w.org_psych, [w.org_social])
    same_pair = candidate(w.org_social, [other, w.org_psych])
    no_pair = candidate(other, [w.org_psych])
    scores = {d.pk: (d.similarity, d.similar_reasons) for d in similar_deviations(base, user=w.coord_x)}
    assert scores[reversed_pair.pk] == (8.0, ["kind", "pair", "time"])
    assert scores[same_pair.pk] == (8.0, ["kind", "pair", "time"])
    assert scores[no_pair.pk] == (5.0, ["kind", "time"])
