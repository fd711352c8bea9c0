"""Saved queue filters: a filter kept under a name, for its owner or shared with one of their councils."""

from django.db import transaction
from django.http import QueryDict
from django.utils.translation import gettext as _

from config.errors import Invalid, NotAllowed
from config.personal_data import guard_texts, query_string_text

from ..models import SavedFilter
from ..selectors import active_memberships, may_delete_saved_filter

#: Query parameters that are a position in the list, not part of the filter.
NOT_SAVED = frozenset({"after", "before"})


def _clean_query(query: str) -> str:
    data = QueryDict(query, mutable=True)
    for name in NOT_SAVED:
        data.pop(name, None)
    return data.urlencode()


@transaction.atomic
def save_filter(*, owner, name: str, queue: str, query: str, council=None) -> SavedFilter:
    """Save (or replace, by name) the owner's filter of ``queue``; ``council``: share it with the
    members of that council, which must be one of the owner's."""
    name = (name or "").strip()
    if not name:
        raise Invalid(_("Ge filtret ett namn."), errors={"name": _("Ge filtret ett namn.")})
    if queue not in SavedFilter.Queue.values:
        raise Invalid(_("Okänd kö."))
    if council is not None and council.pk not in {m.council_id for m in active_memberships(owner)}:
        raise NotAllowed(_("Du kan bara dela filter med samråd du är med i."))
    query = _clean_query(query)
    # The name and every value of the filter (a search text, say) are stored text like any other.
    guard_texts(name=name, query=query_string_text(query))
    if len(query) > SavedFilter._meta.get_field("query").max_length:
        raise Invalid(_("Filtret är för långt för att sparas."))
    saved, _created = SavedFilter.objects.update_or_create(
        owner=owner, queue=queue, name=name[:100], defaults={"query": query, "council": council}
    )
    return saved


@transaction.atomic
def delete_filter(*, saved_filter: SavedFilter, actor) -> None:
    if not may_delete_saved_filter(actor, saved_filter):
        raise NotAllowed(_("Du kan inte ta bort filtret."))
    saved_filter.delete()
