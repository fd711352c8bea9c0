import pytest

from tests.agreements import dataset as dataset_module


@pytest.fixture
def dataset(regional_council):
    return dataset_module.build(regional_council)
