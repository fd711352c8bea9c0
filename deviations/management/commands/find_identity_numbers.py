"""List the stored texts that hold a Swedish identity number, by where they are (never the number).

The guard refuses identity numbers in every text before it is stored, but the detector learns forms over
time (e.g. ``811218:9876``), so texts stored before an upgrade may hold a number it did not know then.
Run after an upgrade, or on a schedule: it exits with status 1 when it finds any, so cron or a monitor
notices. Each hit says how it is removed: ``redaction``, a text the report's redaction removes
(``models.REDACTABLE_FIELDS``; README, "Redaction"); ``erasure``, the reporter's contact details, which
the report's page erases (``services.contacts.erase_contact_details``); or ``record``, a text of a
record edited or deleted where it is kept (the admin; a saved filter by its owner), except a response
request's e-mail address, which only the database changes.
"""

from django.core.management.base import BaseCommand, CommandError

from config.personal_data import stored_identity_numbers
from deviations.models import CONTACT_DETAIL_FIELDS, REDACTABLE_FIELDS, Deviation

#: How a hit is removed, by (model label, field): the report's redaction, or the erasure of its contact
#: details; any other is "record".
REMOVAL = {
    **{
        (model._meta.label, name): "redaction"
        for model, _label, names in REDACTABLE_FIELDS.values()
        for name in names
    },
    **{(Deviation._meta.label, name): "erasure" for name in CONTACT_DETAIL_FIELDS},
}


def report_reference(model) -> str | None:
    """The lookup of the reference of the report a row of ``model`` is, or belongs to (its texts are
    redacted on the report's page)."""
    if model is Deviation:
        return "reference"
    field = next((f for f in model._meta.concrete_fields if f.name == "deviation"), None)
    if field is not None and field.related_model is Deviation:
        return "deviation__reference"
    return None


class Command(BaseCommand):
    help = (
        "List stored texts that hold a personnummer or samordningsnummer (model, id, field, kind, "
        "report), never the number; exit status 1 if there are any."
    )

    def handle(self, *args, **options):
        found = in_reports = 0
        reports = set()
        for finding in stored_identity_numbers(label=report_reference):
            found += 1
            if finding.label is not None:
                in_reports += 1
                reports.add(finding.label)
            kinds = ",".join(finding.kinds)
            removal = REMOVAL.get((finding.model, finding.field), "record")
            columns = [finding.model, str(finding.pk), finding.field, kinds, finding.label or "-", removal]
            self.stdout.write("\t".join(columns))
        if found:
            texts = "1 stored text holds" if found == 1 else f"{found} stored texts hold"
            where = f"{in_reports} in {len(reports)} {'report' if len(reports) == 1 else 'reports'}"
            raise CommandError(
                f"{texts} an identity number ({where}): remove those marked redaction with their report's "
                "redaction and those marked erasure by erasing the reporter's contact details (both on the "
                "report's page), and edit or delete the record of the others (the admin; a response "
                "request's e-mail address only in the database).",
                returncode=1,
            )
        self.stdout.write("No stored text holds an identity number.")
