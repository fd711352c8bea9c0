"""The work queues: the council queue (``/arenden/``) and the regional coordinators' escalated queue
(``/arenden/eskalerade/``): which reports each lists, its default statuses, the filter choices offered to
the user, and the start page's "Att göra" tiles, each counted with exactly the filter its link opens.

Reads only; the views render, the services write."""

from dataclasses import dataclass

from django.db.models import Q, QuerySet
from django.http import QueryDict
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from councils.models import Council, District, Municipality

from . import selectors
from .filters import DeviationFilter
from .models import SavedFilter, SystemicAction
from .workflow import OPEN_STATES, REGIONAL_STATES, Status


@dataclass(frozen=True)
class Queue:
    key: str  # SavedFilter.Queue
    url_name: str
    title: str
    #: The statuses listed when the request names none ("open reports only").
    default_statuses: tuple[str, ...]
    #: The only statuses the queue ever lists (None: every status but unconfirmed).
    states: frozenset | None = None

    def statuses(self) -> list[str]:
        """The statuses this queue can list, in the workflow's order."""
        return [
            value
            for value, _label in Status.choices
            if value != Status.UNCONFIRMED and (self.states is None or value in self.states)
        ]

    def url(self, query: QueryDict | None = None) -> str:
        encoded = query.urlencode() if query else ""
        return reverse(self.url_name) + (f"?{encoded}" if encoded else "")


def _ordered(states) -> tuple[str, ...]:
    return tuple(value for value, _label in Status.choices if value in states)


MAIN = Queue(SavedFilter.Queue.MAIN, "deviations:queue", _("Ärenden"), _ordered(OPEN_STATES))
ESCALATED = Queue(
    SavedFilter.Queue.ESCALATED,
    "deviations:escalated",
    _("Eskalerade ärenden"),
    _ordered(REGIONAL_STATES),
    states=REGIONAL_STATES,
)
QUEUES = {queue.key: queue for queue in (MAIN, ESCALATED)}


def may_use(user, queue: Queue) -> bool:
    """The council queue: members of an active council and superusers; the escalated queue: the
    regional level (``selectors.sees_whole_county``)."""
    if not user.is_authenticated:
        return False
    if queue is ESCALATED:
        return selectors.sees_whole_county(user)
    return selectors.queue_scope(user)[1] is not None


def reports_in(user, queue: Queue) -> QuerySet:
    """Every report the queue can list for ``user`` (before filters and default statuses)."""
    regional, local_councils = selectors.queue_scope(user)
    reports = selectors.deviations_handled_by(user, regional=regional, local_councils=local_councils or [])
    if queue.states is not None:
        reports = reports.filter(status__in=queue.states)
    return reports


def with_defaults(queue: Queue, data: QueryDict) -> QueryDict:
    """The request's filter with the queue's default statuses when it names none."""
    data = data.copy()
    if not data.getlist("status"):
        data.setlist("status", list(queue.default_statuses))
    return data


def visible_municipalities(council_ids: list[int]) -> QuerySet:
    """Municipalities the councils cover, whole or by some of their districts."""
    through = Council.municipalities.through.objects.filter(council_id__in=council_ids)
    by_district = District.objects.filter(councils__in=council_ids).values("municipality_id")
    return Municipality.objects.filter(Q(pk__in=through.values("municipality_id")) | Q(pk__in=by_district))


def shows_council(user) -> bool:
    """Whether the queue shows (and filters on) the council: not for someone with a single council."""
    return selectors.sees_whole_county(user) or len(selectors.local_council_ids(user)) > 1


def queue_filterset(user, queue: Queue, data: QueryDict, *, today, request=None) -> DeviationFilter:
    """THE filter of a queue: its reports, its default statuses, and only the choices the user can see
    (their councils and those councils' municipalities; the whole county at the regional level). The
    queue page, its counts, its exports and the start page's tiles all use this."""
    if selectors.sees_whole_county(user):
        councils = municipalities = None
    else:
        councils = selectors.local_council_ids(user)
        municipalities = visible_municipalities(councils)
    filterset = DeviationFilter(
        with_defaults(queue, data),
        queryset=reports_in(user, queue),
        user=user,
        today=today,
        request=request,
        councils=councils,
        municipalities=municipalities,
    )
    if queue.states is not None:
        status = filterset.form.fields["status"]
        status.choices = [(value, label) for value, label in status.choices if value in queue.states]
    return filterset


# --- The start page ("Att göra") ----------------------------------------------------------------


@dataclass(frozen=True)
class Tile:
    key: str
    label: str
    url: str
    count: int
    capped: bool
    empty: str


def _tile_specs(user) -> list[tuple[str, str, Queue | None, dict, str]]:
    """(key, label, queue, filter, empty text) of the tiles ``user`` gets; queue None: the systemic
    actions. A whole-county user with local councils gets their councils' new reports and answers
    (``my_councils``); one without gets the regional queue's."""
    regional, local_councils = selectors.queue_scope(user)
    whole_county = selectors.sees_whole_county(user)
    mine = {"my_councils": "on"} if whole_county and local_councils else {}
    work = MAIN if local_councils else ESCALATED
    specs = []
    if local_councils:
        specs.append(
            (
                "new",
                _("Nya rapporter i mina samråd"),
                MAIN,
                {"status": Status.SUBMITTED, **mine},
                _("Inga nya rapporter."),
            )
        )
    specs += [
        (
            "answers",
            _("Yttranden som kommit in sedan du öppnade rapporten"),
            work,
            {"response": "unread", **mine},
            _("Inga nya yttranden."),
        ),
        (
            "responses_due",
            _("Yttranden försenade eller med svar inom 7 dagar"),
            work,
            {"response": "due_week", **mine},
            _("Inga yttranden väntar med snart datum."),
        ),
        (
            "assigned",
            _("Öppna rapporter tilldelade mig"),
            MAIN,
            {"assigned": "me"},
            _("Inga rapporter tilldelade dig."),
        ),
    ]
    if whole_county:
        specs += [
            (
                "escalated",
                _("Eskalerade rapporter som väntar på regional analys"),
                ESCALATED,
                {"status": Status.ESCALATED},
                _("Inga eskalerade rapporter väntar."),
            ),
            (
                "actions",
                _("Beslutade åtgärder i systemfrågor efter sitt datum"),
                None,
                {},
                _("Inga försenade åtgärder."),
            ),
        ]
    return specs


SYSTEMIC_OVERDUE_PARAMS = {"atgarder": "forsenade"}


def start_page_tiles(user, *, today) -> list[Tile]:
    """The "Att göra" tiles of a member of a council (or the regional level): each a count, bounded like
    the queue's status counts, and the link that lists exactly what it counts (the same filterset).
    Empty for users without a queue. One query for all counts."""
    if not may_use(user, MAIN):
        return []
    specs = _tile_specs(user)
    querysets, urls = {}, {}
    for key, _label, queue, params, _empty in specs:
        if queue is None:
            querysets[key] = SystemicAction.objects.overdue(today)
            query = QueryDict(mutable=True)
            query.update(SYSTEMIC_OVERDUE_PARAMS)
            urls[key] = reverse("deviations:systemic_list") + "?" + query.urlencode()
            continue
        data = QueryDict(mutable=True)
        for name, value in params.items():
            data[name] = value
        querysets[key] = queue_filterset(user, queue, data, today=today).qs
        urls[key] = queue.url(data)
    counts = selectors.bounded_counts(querysets)
    limit = selectors.STATUS_COUNT_LIMIT
    return [
        Tile(
            key=key,
            label=label,
            url=urls[key],
            count=min(counts[key], limit),
            capped=counts[key] > limit,
            empty=empty,
        )
        for key, label, _queue, _params, empty in specs
    ]
