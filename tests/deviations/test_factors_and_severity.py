"""Contributing factors tagged during triage, and the severity the reporter gives the consequence."""

import uuid

import pytest
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse

from agreements.models import ContributingFactor
from config.errors import Invalid, NotAllowed
from deviations.models import Deviation, DeviationEvent, Severity
from deviations.services import reporting
from deviations.services.factors import set_contributing_factors
from tests import factories
from tests.deviations import reporting_world
from tests.deviations.triage_world import build_world, fast_passwords  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def w(db):
    w = build_world()
    w.information = factories.ContributingFactorFactory(name="Informationsöverföring", order=1)
    w.late = factories.ContributingFactorFactory(parent=w.information, name="Informationen kom för sent")
    w.routines = factories.ContributingFactorFactory(name="Rutiner", order=2)
    w.retired = factories.ContributingFactorFactory(name="Gammal faktor", order=3, active=False)
    return w


def factor_events(deviation):
    return list(DeviationEvent.objects.filter(deviation=deviation, kind=DeviationEvent.Kind.FACTORS))


def test_handler_tags_main_and_sub_factors_and_the_log_says_which(w):
    set_contributing_factors(deviation=w.dev_x, factors=[w.late, w.routines], actor=w.coord_x)
    assert set(w.dev_x.contributing_factors.all()) == {w.late, w.routines}
    [event] = factor_events(w.dev_x)
    assert event.actor == w.coord_x
    assert event.text == "Informationsöverföring – Informationen kom för sent; Rutiner"
    assert event.visibility == DeviationEvent.Visibility.INTERNAL


def test_the_same_factors_again_write_nothing(w):
    set_contributing_factors(deviation=w.dev_x, factors=[w.routines], actor=w.coord_x)
    set_contributing_factors(deviation=w.dev_x, factors=[w.routines], actor=w.member_x)
    assert len(factor_events(w.dev_x)) == 1


def test_clearing_the_factors_is_logged(w):
    set_contributing_factors(deviation=w.dev_x, factors=[w.routines], actor=w.coord_x)
    set_contributing_factors(deviation=w.dev_x, factors=[], actor=w.coord_x)
    assert not w.dev_x.contributing_factors.exists()
    assert factor_events(w.dev_x)[-1].text == "Inga bidragande faktorer."


@pytest.mark.parametrize("who", ["reporter_a", "coord_y", "responder"])
def test_only_the_reports_handlers_may_tag_it(w, who):
    with pytest.raises(NotAllowed):
        set_contributing_factors(deviation=w.dev_x, factors=[w.routines], actor=getattr(w, who))
    assert not w.dev_x.contributing_factors.exists()
    assert not factor_events(w.dev_x)


def test_regional_coordinator_may_tag_any_report(w):
    set_contributing_factors(deviation=w.dev_x, factors=[w.routines], actor=w.regional)
    assert list(w.dev_x.contributing_factors.all()) == [w.routines]


def test_inactive_factor_cannot_be_added_but_an_old_tag_can_stay_or_go(w):
    with pytest.raises(Invalid):
        set_contributing_factors(deviation=w.dev_x, factors=[w.retired], actor=w.coord_x)
    w.dev_x.contributing_factors.set([w.retired])
    set_contributing_factors(deviation=w.dev_x, factors=[w.retired, w.routines], actor=w.coord_x)
    assert set(w.dev_x.contributing_factors.all()) == {w.retired, w.routines}
    set_contributing_factors(deviation=w.dev_x, factors=[w.routines], actor=w.coord_x)
    assert list(w.dev_x.contributing_factors.all()) == [w.routines]


def test_sub_factor_of_an_inactive_main_factor_is_not_selectable(w):
    ContributingFactor.objects.filter(pk=w.information.pk).update(active=False)
    assert w.late not in ContributingFactor.objects.selectable()
    with pytest.raises(Invalid):
        set_contributing_factors(deviation=w.dev_x, factors=[w.late], actor=w.coord_x)


def test_the_taxonomy_has_two_levels(w):
    assert str(w.late) == "Informationsöverföring – Informationen kom för sent"
    assert w.late.main == w.information and w.information.main == w.information
    third = ContributingFactor(parent=w.late, name="För djupt")
    with pytest.raises(ValidationError):
        third.full_clean()
    w.information.parent = w.routines  # has sub-factors itself
    with pytest.raises(ValidationError):
        w.information.full_clean()


# --- The form on the detail page -------------------------------------------------------------------


def test_detail_page_lists_the_taxonomy_grouped_in_fieldsets_for_handlers(client, w):
    w.dev_x.contributing_factors.set([w.late])
    client.force_login(w.coord_x)
    html = client.get(reverse("deviations:detail", args=[w.dev_x.reference])).content.decode()
    # The factors are stored Swedish: marked so, also on the English page.
    assert '<legend class="h6 mb-1" lang="sv">Informationsöverföring</legend>' in html
    assert f'value="{w.late.pk}" id="factor-{w.late.pk}" checked' in html
    assert '<span lang="sv">Informationsöverföring</span> i allmänhet' in html
    assert f'value="{w.retired.pk}"' not in html  # inactive and not on the report
    client.force_login(w.reporter_a)
    html = client.get(reverse("deviations:detail", args=[w.dev_x.reference])).content.decode()
    assert "Bidragande faktorer" not in html


def _ticked(client, deviation) -> set[str]:
    """The factors ticked in the report page's form (the checkboxes' HTML is cached by its content)."""
    html = client.get(reverse("deviations:detail", args=[deviation.reference])).content.decode()
    return {f.name for f in ContributingFactor.objects.all() if f'id="factor-{f.pk}" checked' in html}


def test_each_report_page_ticks_its_own_factors_and_a_change_shows_at_once(client, w):
    client.force_login(w.regional)
    set_contributing_factors(deviation=w.dev_x, factors=[w.late], actor=w.regional)
    for _ in range(2):  # afresh, then from the cache
        assert _ticked(client, w.dev_x) == {"Informationen kom för sent"}
        assert _ticked(client, w.dev_y) == set()
    assert any("report_factor_groups" in key for key in cache._cache)
    set_contributing_factors(deviation=w.dev_y, factors=[w.late], actor=w.regional)
    assert _ticked(client, w.dev_y) == {"Informationen kom för sent"}  # the same HTML as dev_x's
    set_contributing_factors(deviation=w.dev_x, factors=[w.routines, w.information], actor=w.regional)
    assert _ticked(client, w.dev_x) == {"Rutiner", "Informationsöverföring"}
    assert _ticked(client, w.dev_y) == {"Informationen kom för sent"}


def test_a_retired_factor_the_report_has_is_offered_ticked_so_it_can_be_removed(client, w):
    w.dev_x.contributing_factors.set([w.retired])
    client.force_login(w.coord_x)
    assert _ticked(client, w.dev_x) == {"Gammal faktor"}
    assert _ticked(client, w.dev_x) == {"Gammal faktor"}  # from the cache
    html = client.get(reverse("deviations:detail", args=[w.dev_x.reference])).content.decode()
    assert "<li>Gammal faktor</li>" in html  # the report's factors


def test_a_renamed_added_or_retired_factor_shows_at_once(client, w):
    client.force_login(w.coord_x)
    url = reverse("deviations:detail", args=[w.dev_x.reference])
    assert "Rutiner" in client.get(url).content.decode()
    w.routines.name = "Rutiner och riktlinjer"
    w.routines.help_text = "Saknade eller okända rutiner."
    w.routines.save()
    html = client.get(url).content.decode()
    assert "Rutiner och riktlinjer" in html and "Saknade eller okända rutiner." in html
    factories.ContributingFactorFactory(name="Bemanning", order=4)
    assert "Bemanning" in client.get(url).content.decode()
    w.routines.active = False
    w.routines.save()
    assert f'value="{w.routines.pk}"' not in client.get(url).content.decode()


def test_posting_factors_saves_them_and_returns_to_the_section(client, w):
    client.force_login(w.member_x)
    url = reverse("deviations:set_factors", args=[w.dev_x.reference])
    response = client.post(url, {"factors": [w.late.pk, w.routines.pk]})
    assert response.status_code == 302
    assert response["Location"].endswith("#faktorer")
    assert set(w.dev_x.contributing_factors.all()) == {w.late, w.routines}


def test_posting_an_unknown_or_inactive_factor_changes_nothing(client, w):
    client.force_login(w.coord_x)
    url = reverse("deviations:set_factors", args=[w.dev_x.reference])
    response = client.post(url, {"factors": ["999999"]}, follow=True)
    assert "Välj bland faktorerna i listan." in response.content.decode()
    response = client.post(url, {"factors": [w.retired.pk]}, follow=True)
    assert "går inte att välja längre" in response.content.decode()
    assert not w.dev_x.contributing_factors.exists()


# --- Severity on the report form -------------------------------------------------------------------


@pytest.fixture
def rw(db):
    return reporting_world.build_world()


def test_report_form_offers_the_severity_levels_with_their_definitions(client, rw):
    html = client.get(reverse("deviations:report_form")).content.decode()
    assert "Hur allvarlig var följden för personen?" in html
    for label in ("Ingen eller liten", "Måttlig", "Allvarlig", "Mycket allvarlig", "Vet inte"):
        assert label in html
    assert "Mycket allvarlig: personens liv, hälsa eller boende var i fara" in html


@pytest.mark.parametrize(("given", "stored"), [("serious", Severity.SERIOUS), ("", "")])
def test_severity_is_stored_or_left_unstated(rw, given, stored):
    deviation, _ = reporting.submit_deviation(
        data=reporting_world.service_data(rw, severity=given), idempotency_key=uuid.uuid4()
    )
    assert Deviation.objects.get(pk=deviation.pk).severity == stored


def test_unknown_severity_is_refused_by_the_service(rw):
    with pytest.raises(Invalid) as refused:
        reporting.submit_deviation(
            data=reporting_world.service_data(rw, severity="catastrophic"), idempotency_key=uuid.uuid4()
        )
    assert set(refused.value.errors) == {"severity"}
    assert not Deviation.objects.exists()
