"""Write the register extract (*registerutdrag*) for an e-mail address: what the service stores about
the person behind it, as JSON (``config.subject_access``), for the data protection officer to answer an
access request. The extract is personal data: it goes to standard output or to a new file only its
owner may read, and nothing about the person is printed beside it or logged.
"""

import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email
from django.utils import translation

from config.subject_access import write


class Command(BaseCommand):
    help = (
        "Write what is stored about the person behind an e-mail address (register extract, GDPR art. 15) "
        "as JSON, to standard output or to a new file (mode 600); the descriptions in Swedish or English."
    )

    def add_arguments(self, parser):
        parser.add_argument("email", help="The address the request came from or names.")
        parser.add_argument("--output", help="A new file to write the extract to (refused if it exists).")
        parser.add_argument(
            "--language",
            choices=[code for code, _name in settings.LANGUAGES],
            default=settings.LANGUAGE_CODE,
            help="The language of the sections' descriptions (default: the site's).",
        )

    def handle(self, *args, email, output=None, language=None, **options):
        email = email.strip()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError("Not an e-mail address.") from None
        with translation.override(language or settings.LANGUAGE_CODE):
            if not output:
                self.stdout.ending = ""  # written as it comes, in pieces
                counts = write(email, self.stdout)
            else:
                try:
                    descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                except FileExistsError:
                    raise CommandError("The output file exists; choose a new name.") from None
                try:
                    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
                        counts = write(email, file)
                except BaseException:
                    os.unlink(output)  # half an extract is no answer, and personal data all the same
                    raise
        self.stderr.write(self.summary(counts))

    @staticmethod
    def summary(counts: dict[str, int]) -> str:
        accounts = counts.pop("accounts")
        rows = sum(counts.values())
        if not rows and not accounts:
            return "Nothing is stored for that address: no account, no rows."
        filled = sum(1 for count in counts.values() if count)
        accounts_text = "1 account" if accounts == 1 else f"{accounts} accounts"
        rows_text = "1 row" if rows == 1 else f"{rows} rows"
        return f"{accounts_text}; {rows_text} in {filled} of {len(counts)} sections."
