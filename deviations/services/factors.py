"""Triage: the contributing factors (bidragande faktorer) behind a report, tagged by its handlers."""

from collections.abc import Iterable

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from agreements.models import ContributingFactor
from config.errors import Invalid

from .. import summary
from ..models import Deviation, DeviationEvent
from .transitions import require_handler, site_language_text, write_event


@transaction.atomic
def set_contributing_factors(
    *, deviation: Deviation, factors: Iterable[ContributingFactor], actor
) -> Deviation:
    """Replace the contributing factors of ``deviation`` with ``factors`` (main factors or sub-factors
    of the two-level taxonomy) and log the change. Factors the report already has stay allowed after an
    admin deactivates them; new ones must be selectable (active, under an active main factor).
    Raises ``NotAllowed`` unless ``actor`` handles the report, ``Invalid`` for a factor not selectable."""
    deviation = Deviation.objects.select_for_update(of=("self",)).get(pk=deviation.pk)
    require_handler(actor, deviation)
    wanted = {factor.pk for factor in factors}
    current = set(deviation.contributing_factors.values_list("pk", flat=True))
    if wanted == current:
        return deviation
    added = wanted - current
    if added and ContributingFactor.objects.selectable().filter(pk__in=added).count() != len(added):
        raise Invalid(_("En av faktorerna går inte att välja längre. Ladda om sidan och försök igen."))
    with summary.tracking() as tracker:
        tracker.add(deviation, locked=True)
        deviation.contributing_factors.set(wanted)
    deviation.save(update_fields=["updated_at"])
    chosen = ContributingFactor.objects.filter(pk__in=wanted).select_related("parent")
    names = sorted(str(factor) for factor in chosen)
    write_event(
        deviation=deviation,
        actor=actor,
        kind=DeviationEvent.Kind.FACTORS,
        action="set_factors",
        text="; ".join(names) if names else site_language_text(gettext_noop("Inga bidragande faktorer.")),
    )
    return deviation
