"""Paging as the Swedish national REST API profile describes it: ``page`` (from 1) and ``limit``
(default 20, at most 100)."""

from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


class PageLimitPagination(PageNumberPagination):
    page_query_param = "page"
    page_size_query_param = "limit"
    page_size = DEFAULT_LIMIT
    max_page_size = MAX_LIMIT
    page_query_description = "Sidnummer, från 1 (page number, from 1)."
    page_size_query_description = f"Antal per sida, högst {MAX_LIMIT} (items per page, at most {MAX_LIMIT})."

    def paginate_queryset(self, queryset, request, view=None):
        """A page past the last one is an empty page (the list may have shrunk since the client began
        paging); a page below 1 or not a number is a 400."""
        from django.core.paginator import EmptyPage
        from django.utils.translation import gettext as _
        from rest_framework.exceptions import ValidationError

        raw = request.query_params.get(self.page_query_param, "1")
        if not raw.isdigit() or int(raw) < 1:
            raise ValidationError({self.page_query_param: [_("Ange ett sidnummer från 1.")]})
        limit = request.query_params.get(self.page_size_query_param)
        if limit is not None and (not limit.isdigit() or int(limit) < 1):
            raise ValidationError({self.page_size_query_param: [_("Ange ett antal från 1.")]})
        self.request = request
        page_size = self.get_page_size(request)
        paginator = self.django_paginator_class(queryset, page_size)
        try:
            self.page = paginator.page(int(raw))
        except EmptyPage:
            self.page = paginator.page(1) if paginator.count == 0 else _EmptyPage(int(raw), paginator)
        return list(self.page)

    def get_paginated_response(self, data):
        return Response(
            {
                "page": self.page.number,
                "limit": self.get_page_size(self.request),
                "count": self.page.paginator.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "results": data,
            }
        )

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "default": 1}
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": MAX_LIMIT,
                    "default": DEFAULT_LIMIT,
                }
        return parameters

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["page", "limit", "count", "results"],
            "properties": {
                "page": {"type": "integer", "minimum": 1},
                "limit": {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT},
                "count": {"type": "integer", "minimum": 0},
                "next": {"type": "string", "format": "uri", "nullable": True},
                "previous": {"type": "string", "format": "uri", "nullable": True},
                "results": schema,
            },
        }


class _EmptyPage:
    """A page number beyond the last page: no rows, a link back to the last page."""

    def __init__(self, number, paginator):
        self.number = number
        self.paginator = paginator

    def __iter__(self):
        return iter(())

    def has_next(self):
        return False

    def has_previous(self):
        return True

    def previous_page_number(self):
        return self.paginator.num_pages
