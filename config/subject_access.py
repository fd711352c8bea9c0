"""A register extract (*registerutdrag*, GDPR article 15): what the service stores about the person
behind an e-mail address, for the data protection officer to answer an access request
(``manage.py personal_data_extract``; the privacy page promises it).

Each app says what it keeps in a ``privacy`` module of its own (found as the admin finds ``admin``
modules, ``autodiscover_modules``): sections registered with ``rows_section``, each a read of the rows
that point to the person's account or hold the address, as plain values. A section names the links it
follows ("app_label.Model.field", from its ``by_account``, ``by_address`` and ``covers``);
tests/config/test_subject_access.py fails when a
foreign key to the user model or an e-mail field is followed by no section, so a new model that keeps
something about a person cannot be left out by mistake.

A section returns the person's own data: never another person's (a report the person handled is named
by its reference, not by its reporter) and never a secret (password hash, two-step key, API token
digest). Free texts that merely mention the person by name cannot be found by address: the extract
says so, and the operator searches those by hand.
"""

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TextIO

from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Subject:
    """Whom an extract is about: the address asked for, and the accounts that have it (as their
    address, or one of the addresses of their federated login)."""

    email: str
    user_ids: tuple[int, ...]
    usernames: tuple[str, ...]


@dataclass(frozen=True)
class Section:
    name: str
    description: str  # lazily translated
    covers: tuple[str, ...]
    read: Callable[[Subject], QuerySet]


SECTIONS: dict[str, Section] = {}

#: Rows fetched from PostgreSQL at a time while an extract is written (a server-side cursor).
ROWS_AT_A_TIME = 2000

#: What every extract says it does not hold.
NOT_SEARCHED = _(
    "Fria texter (rapporternas texter, anteckningar, svar, mötesdeltagare och protokoll, analyser) som "
    "nämner personen vid namn utan att vara kopplade till kontot eller adressen hittas inte med en "
    "adress; sök i dem efter namnet där begäran gäller det."
)


def rows_section(
    name: str,
    queryset: QuerySet,
    *,
    description: str,
    fields: Iterable[str],
    by_account: Iterable[str] = (),
    by_address: Iterable[str] = (),
    where: Callable[[Subject], Q] | None = None,
    named: Callable[[Subject], dict] | None = None,
    covers: Iterable[str] = (),
) -> None:
    """Register a section of ``queryset``'s rows that point to one of the person's accounts
    (``by_account``: foreign keys to the user model), hold the address in any letter case
    (``by_address``: e-mail fields) or match ``where(subject)``, as the values of ``fields`` and of
    the expressions ``named(subject)`` returns. The links in ``by_account`` and ``by_address`` are
    what it covers, with ``covers`` besides (e.g. the account's own fields)."""
    by_account, by_address = tuple(by_account), tuple(by_address)
    if not (by_account or by_address or where):
        raise ValueError(f"The extract section {name!r} selects no rows by the person.")
    if name in SECTIONS:
        raise ValueError(f"Two extract sections named {name!r}.")
    label = queryset.model._meta.label

    def read(subject: Subject):
        condition = Q(pk__in=[])
        for field in by_account:
            condition |= Q(**{f"{field}__in": subject.user_ids})
        for field in by_address:
            condition |= Q(**{f"{field}__iexact": subject.email})
        if where is not None:
            condition |= where(subject)
        return queryset.filter(condition).values(*fields, **(named(subject) if named else {}))

    links = (*(f"{label}.{field}" for field in by_account + by_address), *covers)
    SECTIONS[name] = Section(name, description, links, read)


def sections() -> dict[str, Section]:
    """Every app's sections (their ``privacy`` modules imported once)."""
    autodiscover_modules("privacy")
    return SECTIONS


def subject_for(email: str) -> Subject:
    """The accounts with ``email`` (case-insensitively) as their own address or as an address of their
    federated login (allauth's ``EmailAddress``)."""
    email = email.strip()
    users = (
        get_user_model()
        .objects.filter(Q(email__iexact=email) | Q(emailaddress__email__iexact=email))
        .distinct()
        .order_by("pk")
        .values_list("pk", "username")
    )
    pairs = list(users)
    return Subject(email=email, user_ids=tuple(pk for pk, _ in pairs), usernames=tuple(u for _, u in pairs))


def document(email: str) -> dict:
    """The register extract for ``email``: when, for which address, the accounts found, every section's
    rows (a query each, not yet run, whatever their number) and what was not searched; the descriptions
    in the active language."""
    subject = subject_for(email)
    return {
        "generated_at": timezone.now(),
        "email": subject.email,
        "accounts": list(subject.usernames),
        "sections": {
            name: {"description": str(part.description), "rows": part.read(subject)}
            for name, part in sections().items()
        },
        "not_searched": str(NOT_SEARCHED),
    }


def extract(email: str) -> dict:
    """``document(email)`` with every section's rows read into a list."""
    extracted = document(email)
    for part in extracted["sections"].values():
        part["rows"] = list(part["rows"])
    return extracted


def write(email: str, file: TextIO) -> dict[str, int]:
    """Write ``document(email)`` to ``file`` as JSON, a section's rows read and written a chunk at a
    time (a person who handled a national service's reports for years has millions of rows: the whole
    extract at once took 5.8 GB of memory for 4.7M rows at 10M reports). In one repeatable-read
    transaction, so every section is read from one snapshot. Returns the rows per section, with the
    accounts found as ``"accounts"``."""

    def encoded(value) -> str:
        return json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False)

    outermost = not connection.in_atomic_block
    with transaction.atomic():
        if outermost:  # (a caller's transaction keeps its own level)
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        extracted = document(email)
        file.write("{\n")
        for key in ("generated_at", "email", "accounts"):
            file.write(f"  {encoded(key)}: {encoded(extracted[key])},\n")
        file.write('  "sections": {')
        counts = {}
        for number, (name, part) in enumerate(extracted["sections"].items()):
            file.write(("," if number else "") + f"\n    {encoded(name)}: {{\n")
            file.write(f'      "description": {encoded(part["description"])},\n      "rows": [')
            count = 0
            for count, row in enumerate(part["rows"].iterator(chunk_size=ROWS_AT_A_TIME), start=1):
                file.write(("," if count > 1 else "") + f"\n        {encoded(row)}")
            file.write("\n      ]\n    }" if count else "]\n    }")
            counts[name] = count
        file.write(f'\n  }},\n  "not_searched": {encoded(extracted["not_searched"])}\n}}\n')
    return {"accounts": len(extracted["accounts"]), **counts}
