"""The committed name lists are what their source gives: the Swedish name statistics that Faker carries
(devdata/names.py). Regenerate with ``python manage.py build_name_lists`` when this fails."""

from devdata.names import LISTS_DIR, name_lists


def test_committed_name_lists_match_their_source():
    for name, content in name_lists().items():
        assert (LISTS_DIR / name).read_text(encoding="utf-8") == content, (
            f"deviations/data/{name} differs from its source: run `python manage.py build_name_lists`"
        )
