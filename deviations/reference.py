"""The reference data a new report is checked against, read once per change of it instead of once per
request.

Filing a report looked up each chosen agreement, commitment, category (with its agreements),
municipality (with its districts), district and organisation (with its e-mail domains), and the council
the place is routed to: eleven statements per report for tables that change a few times a year.
``current()`` keeps them in the process, keyed by the reference data's *version*: a row that a
statement-level trigger on each of those tables sets to a new number from a sequence, in the same
transaction as the change (``agreements.models.reference_data_version``, migration ``agreements/0008``).
So any write, by admin, a command, ``load_reference_data`` or plain SQL, gives a version no process has
seen, and nothing can serve the lists as they were before it:

- the version is read first, the lists after it, so what is kept under a version is never older than it;
- the number comes from a sequence, never handed out twice (not even after a rollback), so a version
  stands for one committed state of the tables;
- the version is read on every use (one small statement): a change is seen by the next request of
  every process, with no expiry to wait for and nothing to invalidate; inside ``pinned(data)`` (a
  filing checked against ``data`` in the same request, routed by the same) it is not read again.

The kept instances are shared by the requests of a process: read them, never change them.
"""

import contextlib
import contextvars
from dataclasses import dataclass

from django.db import DEFAULT_DB_ALIAS

from agreements.models import Agreement, Commitment, DeviationCategory, Organization, reference_data_version
from councils.models import Council, District, Municipality, Region

#: The tables read here; each is one of ``agreements.models.VERSIONED_TABLES``, whose every change gives a
#: new version (a test checks).
TRACKED_MODELS = (
    Agreement,
    Commitment,
    DeviationCategory,
    DeviationCategory.agreements.through,
    Municipality,
    District,
    Organization,
    Organization.email_domains.rel.related_model,
    Region,
    Council,
    Council.districts.through,
    Council.municipalities.through,
)


# What the report form offers and accepts (one definition: its fields use these querysets too).
def agreements():
    return Agreement.objects.filter(active=True)


def commitments():
    return Commitment.objects.filter(active=True)


def categories():
    return DeviationCategory.objects.filter(active=True)


def municipalities():
    return Municipality.objects.all()


def districts():
    return District.objects.filter(active=True)


def organizations():
    return Organization.objects.filter(active=True)


@dataclass(frozen=True)
class Routes:
    """Where a report from a place goes (``services.routing.council_for_place``): the active local
    councils by the districts and by the municipalities they cover, and the active regional council; the
    lowest id wins where several could."""

    by_district: dict[int, Council]
    by_municipality: dict[int, Council]
    regional: Council | None


def _routes() -> Routes:
    active = Council.objects.using(DEFAULT_DB_ALIAS).filter(active=True).order_by("pk")
    councils = {council.pk: council for council in active}
    local = Council.Level.LOCAL

    def first_covering(through, place: str) -> dict[int, Council]:
        covering: dict[int, Council] = {}
        rows = (
            through.objects.using(DEFAULT_DB_ALIAS)
            .filter(council__active=True, council__level=local)
            .order_by("council_id")
            .values_list(f"{place}_id", "council_id")
        )
        for place_id, council_id in rows:
            # A council made active between the two reads is left for the next version (its change
            # gives one), as in the lists: what is kept is never older than the version read first.
            if council_id in councils:
                covering.setdefault(place_id, councils[council_id])
        return covering

    return Routes(
        by_district=first_covering(Council.districts.through, "district"),
        by_municipality=first_covering(Council.municipalities.through, "municipality"),
        regional=next((c for c in councils.values() if c.level == Council.Level.REGIONAL), None),
    )


@dataclass(frozen=True)
class ReferenceData:
    """The rows of each list by primary key, in the list's order; categories with their agreements,
    municipalities with all their districts and organisations with their region and e-mail domains
    (what ``services.reporting.report_errors`` reads and the form shows)."""

    version: int
    agreement: dict
    commitment: dict
    category: dict
    municipality: dict
    district: dict
    organization: dict
    routes: Routes


_kept: ReferenceData | None = None
_pinned: contextvars.ContextVar[ReferenceData | None] = contextvars.ContextVar(
    "reference_pinned", default=None
)


def version() -> int | None:
    """The reference data's version now (one statement, on the primary), None when unknown."""
    return reference_data_version(using=DEFAULT_DB_ALIAS)


@contextlib.contextmanager
def pinned(data: ReferenceData | None):
    """In the block ``current()`` is ``data`` (a snapshot ``current()`` gave earlier in the same request),
    without reading the version again: a report checked against the reference data is routed by the same
    version. ``None``: no pin."""
    token = _pinned.set(data) if data is not None else None
    try:
        yield
    finally:
        if token is not None:
            _pinned.reset(token)


def current() -> ReferenceData:
    """The reference data as it is now: kept in the process while its version stays the same (in a
    ``pinned`` block, the pinned snapshot)."""
    global _kept
    pin = _pinned.get()
    if pin is not None:
        return pin
    number = version()
    kept = _kept
    if kept is not None and number is not None and kept.version == number:
        return kept
    # Read after the version, from the same database (never a replica that may lag behind it): never
    # older than the version (a newer state only means a reload next time).
    loaded = ReferenceData(
        version=number,
        agreement=_by_pk(agreements()),
        commitment=_by_pk(commitments()),
        category=_by_pk(categories().prefetch_related("agreements")),
        municipality=_by_pk(municipalities().prefetch_related("districts")),
        district=_by_pk(districts()),
        organization=_by_pk(
            organizations().select_related("principal_region").prefetch_related("email_domains")
        ),
        routes=_routes(),
    )
    _kept = loaded
    return loaded


def _by_pk(queryset) -> dict:
    return {row.pk: row for row in queryset.using(DEFAULT_DB_ALIAS)}
