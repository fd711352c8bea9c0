"""Writes in the agreements area: the reference data."""

from collections import Counter

from django.db import transaction

from councils.models import Council, District, Municipality, Region

from . import reference_data as data
from .models import Agreement, Commitment, ContributingFactor, DeviationCategory


def _upsert(model, *, update: bool, defaults: dict, **lookup):
    if update:
        return model.objects.update_or_create(defaults=defaults, **lookup)
    return model.objects.get_or_create(defaults=defaults, **lookup)


@transaction.atomic
def load_reference_data(*, update: bool = False, examples: bool = True) -> Counter:
    """Create the reference data of ``agreements.reference_data`` that is missing (keyed on natural
    keys: codes and names), so running it again changes nothing. Rows that already exist are left as
    admins edited them unless ``update`` is true, which resets them to the reference values.
    ``examples=False`` skips the example local councils. Returns how many rows of each kind were
    created."""
    created: Counter = Counter()

    def count(label, was_created):
        if was_created:
            created[label] += 1
        return was_created

    region, was_created = _upsert(
        Region, update=update, code=data.REGION["code"], defaults={"name": data.REGION["name"]}
    )
    count("region", was_created)

    municipalities = {}
    for code, name in data.MUNICIPALITIES.items():
        municipality, was_created = _upsert(
            Municipality, update=update, code=code, defaults={"name": name, "region": region}
        )
        count("municipality", was_created)
        municipalities[code] = municipality

    stockholm = municipalities[data.STOCKHOLM_CODE]
    districts = {}
    for name in data.STOCKHOLM_DISTRICTS:
        district, was_created = _upsert(
            District, update=update, municipality=stockholm, name=name, defaults={"active": True}
        )
        count("district", was_created)
        districts[name] = district

    agreements = {}
    for spec in data.AGREEMENTS:
        fields = {k: v for k, v in spec.items() if k not in {"code", "commitments"}}
        agreement, was_created = _upsert(
            Agreement, update=update, code=spec["code"], defaults={**fields, "active": True}
        )
        count("agreement", was_created)
        agreements[spec["code"]] = agreement
        for number, title in enumerate(spec["commitments"], start=1):
            _, was_created = _upsert(
                Commitment,
                update=update,
                agreement=agreement,
                number=number,
                defaults={"title": title, "active": True},
            )
            count("commitment", was_created)

    for spec in data.CATEGORIES:
        category, was_created = _upsert(
            DeviationCategory,
            update=update,
            name=spec["name"],
            defaults={"help_text": spec["help_text"], "order": spec["order"], "active": True},
        )
        if count("category", was_created) or update:
            category.agreements.set([agreements[code] for code in spec["agreements"]])

    for order, spec in enumerate(data.CONTRIBUTING_FACTORS, start=1):
        main, was_created = _upsert(
            ContributingFactor,
            update=update,
            parent=None,
            name=spec["name"],
            defaults={"help_text": spec["help_text"], "order": order, "active": True},
        )
        count("contributing_factor", was_created)
        for child_order, name in enumerate(spec["children"], start=1):
            _, was_created = _upsert(
                ContributingFactor,
                update=update,
                parent=main,
                name=name,
                defaults={"order": child_order, "active": True},
            )
            count("contributing_factor", was_created)

    _, was_created = _upsert(
        Council,
        update=update,
        name=data.REGIONAL_COUNCIL,
        defaults={"level": Council.Level.REGIONAL, "is_example": False, "active": True},
    )
    count("council", was_created)

    if examples:
        for spec in data.EXAMPLE_COUNCILS:
            council, was_created = _upsert(
                Council,
                update=update,
                name=spec["name"],
                defaults={"level": Council.Level.LOCAL, "is_example": True, "active": True},
            )
            if count("council", was_created) or update:
                council.municipalities.set([municipalities[code] for code in spec["municipalities"]])
                council.districts.set([districts[name] for name in spec["districts"]])
    return created
