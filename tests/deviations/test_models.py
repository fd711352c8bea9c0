import datetime

import pytest
from django.db import IntegrityError, transaction

from deviations.models import Deviation, DeviationEvent
from deviations.services.routing import next_reference
from tests import factories
from tests.concurrency import run_at_once

pytestmark = pytest.mark.django_db


def test_reference_numbers_are_sequential_per_year():
    with transaction.atomic():
        assert next_reference(year=2026) == "SB-2026-00001"
        assert next_reference(year=2026) == "SB-2026-00002"
        assert next_reference(year=2027) == "SB-2027-00001"


def test_reference_is_unique():
    factories.DeviationFactory(reference="SB-2026-00042")
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.DeviationFactory(reference="SB-2026-00042")


def test_occurred_date_cannot_be_after_reported_date():
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.DeviationFactory(
            occurred_on=datetime.date(2026, 3, 2), reported_on=datetime.date(2026, 3, 1)
        )


def test_clean_rejects_district_of_another_municipality():
    deviation = factories.DeviationFactory.build(district=factories.DistrictFactory())
    deviation.municipality = factories.MunicipalityFactory()
    with pytest.raises(Exception) as excinfo:
        deviation.clean()
    assert "district" in excinfo.value.message_dict


def test_events_cannot_be_updated_or_deleted():
    event = factories.DeviationEventFactory()
    event.text = "ändrad"
    with pytest.raises(TypeError):
        event.save()
    with pytest.raises(TypeError):
        event.delete()
    with pytest.raises(TypeError):
        DeviationEvent.objects.filter(pk=event.pk).update(text="ändrad")
    with pytest.raises(TypeError):
        DeviationEvent.objects.filter(pk=event.pk).delete()
    assert DeviationEvent.objects.get(pk=event.pk).text == "En intern anteckning."


def test_report_with_history_cannot_be_deleted():
    event = factories.DeviationEventFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Deviation.objects.filter(pk=event.deviation_id).delete()


@pytest.mark.django_db(transaction=True)
def test_reference_numbers_stay_unique_under_concurrent_creation(db):
    """Eight threads each take five numbers at once; every number is handed out exactly once."""

    def take_five():
        numbers = []
        for _ in range(5):
            with transaction.atomic():
                numbers.append(next_reference(year=2030))
        return numbers

    results = [number for numbers in run_at_once(take_five, threads=8) for number in numbers]
    assert sorted(results) == [f"SB-2030-{n:05d}" for n in range(1, 41)]
