"""List the stored texts that hold a Swedish identity number, by where they are (never the number).

The guard refuses identity numbers in every text before it is stored, but the detector learns forms over
time (e.g. ``811218:9876``), so texts stored before an upgrade may hold a number it did not know then.
Run after an upgrade, or on a schedule: it exits with status 1 when it finds any, so cron or a monitor
notices. Remove each passage with the report's redaction (README, "Redaction") or, for reference data
and accounts, in the admin.
"""

from django.core.management.base import BaseCommand, CommandError

from config.personal_data import stored_identity_numbers
from deviations.models import Deviation


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
            columns = [finding.model, str(finding.pk), finding.field, kinds, finding.label or "-"]
            self.stdout.write("\t".join(columns))
        if found:
            texts = "1 stored text holds" if found == 1 else f"{found} stored texts hold"
            where = f"{in_reports} in {len(reports)} {'report' if len(reports) == 1 else 'reports'}"
            raise CommandError(
                f"{texts} an identity number ({where}): remove each with the report's redaction, or in "
                "the admin for other records.",
                returncode=1,
            )
        self.stdout.write("No stored text holds an identity number.")
