"""Swedish full-text search (deviations/search.py): stemming, prefixes of compounds, category and
commitment names, ranking, and an index that serves it."""

import pytest
from django.db import connection
from django.urls import reverse

from deviations.filters import text_search
from deviations.models import Deviation
from deviations.search import look_up, words_of
from tests import factories

pytestmark = pytest.mark.django_db


def refs(queryset):
    return sorted(d.reference for d in queryset)


def test_the_beginning_of_a_compound_finds_the_compound():
    hit = factories.DeviationFactory(description="Utskrivningsmeddelandet kom aldrig fram till hemtjänsten.")
    factories.DeviationFactory(description="Ingen kallade till SIP.", consequence="Inget hände.")
    assert refs(text_search(Deviation.objects.all(), "utskrivning")) == [hit.reference]


def test_inflected_words_find_each_other_through_swedish_stemming():
    hit = factories.DeviationFactory(description="Kallelserna till samordnade planer skickades sent.")
    assert refs(text_search(Deviation.objects.all(), "kallelse")) == [hit.reference]
    assert refs(text_search(Deviation.objects.all(), "planerna")) == [hit.reference]


def test_a_word_from_the_category_name_finds_the_reports_of_that_category():
    sober = factories.DeviationCategoryFactory(name="Vård nekas tills personen är nykter eller drogfri")
    hit = factories.DeviationFactory(category=sober, description="Psykiatrin tog inte emot honom.")
    factories.DeviationFactory(description="Psykiatrin tog inte emot honom heller.")
    assert refs(text_search(Deviation.objects.all(), "nykter")) == [hit.reference]
    # Every word must match somewhere: one in the text, one in the category.
    assert refs(text_search(Deviation.objects.all(), "psykiatrin nykter")) == [hit.reference]


def test_a_word_from_the_commitment_finds_its_reports():
    commitment = factories.CommitmentFactory(title="God tillgänglighet till beroendevården")
    hit = factories.DeviationFactory(commitment=commitment, agreement=commitment.agreement)
    factories.DeviationFactory()
    assert refs(text_search(Deviation.objects.all(), "tillgänglighet")) == [hit.reference]


def test_every_text_of_the_report_is_searched():
    hit = factories.DeviationFactory(
        description="x", consequence="y", actions_taken="z", suggested_improvement="Rutin för läkemedel"
    )
    assert refs(text_search(Deviation.objects.all(), "läkemedel")) == [hit.reference]


def test_stop_words_are_left_out_and_only_stop_words_find_nothing():
    hit = factories.DeviationFactory(description="Utskrivning utan information.")
    assert refs(text_search(Deviation.objects.all(), "och utskrivning")) == [hit.reference]
    assert refs(text_search(Deviation.objects.all(), "och att")) == []


def test_hostile_input_is_only_words(django_assert_max_num_queries):
    factories.DeviationFactory(description="Utskrivning utan information.")
    assert words_of("') | !!:* & utskrivning_x <-> 'DROP") == ["utskrivning", "x", "drop"]
    # Punctuation alone: no words, no error.
    assert refs(text_search(Deviation.objects.all(), "&|!:*()'")) == []


def regional_member():
    """A member of the regional council: its queue holds every report."""
    user = factories.UserFactory()
    factories.CouncilMembershipFactory(council=factories.RegionalCouncilFactory(), user=user)
    return user


def test_results_are_ranked_best_first_in_the_queue(client):
    weak = factories.DeviationFactory(
        description="Informationen saknades.", consequence="Utskrivning skedde utan plan."
    )
    strong = factories.DeviationFactory(
        description="Utskrivning utan utskrivningsmeddelande; utskrivningen var oplanerad."
    )
    client.force_login(regional_member())
    response = client.get(reverse("deviations:queue"), {"q": "utskrivning"})
    assert [d.reference for d in response.context["page"]] == [strong.reference, weak.reference]
    # Another order can still be chosen.
    response = client.get(reverse("deviations:queue"), {"q": "utskrivning", "sort": "created"})
    assert [d.reference for d in response.context["page"]] == [weak.reference, strong.reference]


def test_the_rank_is_of_the_stored_swedish_document_with_its_weights(client):
    """The description (weight A) outranks the other texts (B) for the same word once, whichever report
    is newer; ranking to_tsvector(the document's text) lost the weights and tied them."""
    in_description = factories.DeviationFactory(
        description="Utskrivningen skedde utan plan.", consequence="x"
    )
    in_consequence = factories.DeviationFactory(
        description="x", consequence="Utskrivningen skedde utan plan."
    )
    client.force_login(regional_member())
    response = client.get(reverse("deviations:queue"), {"q": "utskrivning"})
    assert [d.reference for d in response.context["page"]] == [
        in_description.reference,
        in_consequence.reference,
    ]
    ranked = text_search(Deviation.objects.all(), "utskrivning")
    assert "to_tsvector" not in str(ranked.query)


def test_the_category_lookup_is_one_query(django_assert_num_queries):
    factories.DeviationCategoryFactory(name="Vård nekas tills personen är nykter eller drogfri")
    with django_assert_num_queries(1):
        words = look_up(["nykter", "och", "sip"])
    assert [w.text for w in words] == ["nykter", "sip"]
    assert len(words[0].category_ids) == 1


def test_the_search_uses_the_gin_index_with_the_category_and_commitment_indexes():
    sober = factories.DeviationCategoryFactory(name="Vård nekas tills personen är nykter eller drogfri")
    factories.DeviationFactory(category=sober)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
    plan = text_search(Deviation.objects.order_by(), "nykter").explain()
    assert "deviation_search_idx" in plan
    assert "deviation_cat_occurred_idx" in plan
