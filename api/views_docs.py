"""The API's documentation as a page of the site (Swedish or English, like every page): the rules of the
API and every operation read from the same OpenAPI schema that /api/v1/schema/ serves."""

from django.shortcuts import render
from drf_spectacular.generators import SchemaGenerator

from .pagination import DEFAULT_LIMIT, MAX_LIMIT

METHODS = ("get", "post", "put", "patch", "delete")


def documentation(request):
    schema = SchemaGenerator(patterns=None).get_schema(request=None, public=True)
    operations = []
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                op = item[method]
                operations.append(
                    {
                        "method": method.upper(),
                        "path": path,
                        "summary": op.get("summary", ""),
                        "description": op.get("description", ""),
                        "parameters": [
                            {
                                "name": p["name"],
                                "where": p["in"],
                                "required": p.get("required", False),
                                "description": p.get("description", ""),
                            }
                            for p in op.get("parameters", [])
                        ],
                    }
                )
    return render(
        request,
        "api/documentation.html",
        {"operations": operations, "default_limit": DEFAULT_LIMIT, "max_limit": MAX_LIMIT},
    )
