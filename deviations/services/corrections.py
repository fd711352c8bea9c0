"""Corrections of a report's classification made in the admin (a wrong category, agreement, place or
date): applied here so they are on the report's record like every other change.

The state machine's fields (status, council, assignee, systemic issue, duplicate) and the texts are not
corrected here: they change through ``apply_transition``, ``assignment``, ``systemic`` and ``redaction``.
"""

import datetime

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from config.errors import Invalid, NotAllowed

from .. import summary
from ..models import Deviation, DeviationEvent
from ..selectors import deviations_handled_by
from .transitions import write_event

#: What an administrator may correct.
CORRECTABLE_FIELDS = (
    "agreement",
    "commitment",
    "category",
    "occurred_on",
    "municipality",
    "district",
    "reporting_organization",
    "sip_involved",
    "discharge_involved",
    "severity",
)


def may_correct(user, deviation: Deviation) -> bool:
    """Administrators with the right to change reports: superusers, or staff with that permission for
    the reports their councils handle (the admin's scope)."""
    if not (user.is_active and user.is_staff and user.has_perm("deviations.change_deviation")):
        return False
    return user.is_superuser or deviations_handled_by(user).filter(pk=deviation.pk).exists()


def _shown(deviation: Deviation, field: models.Field) -> str:
    """A value as people read it: the related row's name, the choice's label, the ISO date."""
    if field.choices:
        return str(getattr(deviation, f"get_{field.name}_display")())
    value = getattr(deviation, field.name)
    if value is None:
        return ""
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


@transaction.atomic
def correct_report(*, deviation: Deviation, actor, values: dict) -> Deviation:
    """Set the ``CORRECTABLE_FIELDS`` in ``values`` (already validated by the admin form and
    ``Deviation.clean``) and write a CORRECTION event whose ``details["changes"]`` lists
    ``{"field", "from", "to"}`` as shown to people. Nothing changed: no event. Raises ``NotAllowed``
    (``may_correct``) or ``Invalid`` (a field that is not correctable here)."""
    unknown = set(values) - set(CORRECTABLE_FIELDS)
    if unknown:
        raise Invalid(_("Fälten ändras inte här: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    current = Deviation.objects.select_for_update(of=("self",)).get(pk=deviation.pk)
    if not may_correct(actor, current):
        raise NotAllowed(_("Du har inte behörighet att rätta rapporten."))
    # What the follow-up counts follows the correction (deviations.summary).
    with summary.tracking() as tracker:
        tracker.add(current, locked=True)
        changes = []
        for name, value in values.items():
            field = Deviation._meta.get_field(name)
            before = _shown(current, field)
            setattr(current, name, value)
            after = _shown(current, field)
            if before != after:
                changes.append({"field": name, "from": before, "to": after})
        if not changes:
            return current
        checked = {*values, "reported_on"}  # the occurrence date is checked against it
        try:
            current.full_clean(
                exclude=[f.name for f in Deviation._meta.concrete_fields if f.name not in checked],
                validate_unique=False,
            )
        except ValidationError as error:
            errors = {field: " ".join(messages) for field, messages in error.message_dict.items()}
            raise Invalid(" ".join(error.messages), errors=errors) from error
        current.save(update_fields=[change["field"] for change in changes] + ["updated_at"])
    write_event(
        deviation=current,
        actor=actor,
        kind=DeviationEvent.Kind.CORRECTION,
        action="correct",
        details={"changes": changes},
    )
    return current
