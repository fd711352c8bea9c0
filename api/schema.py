"""Schema post-processing: the error answers every operation can give, as problem documents."""

from django.utils.translation import gettext as _

PROBLEM_SCHEMA = {
    "type": "object",
    "required": ["type", "title", "status"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "object", "additionalProperties": True},
    },
}


def add_problem_responses(result, generator, request, public):
    result.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    answers = {
        "400": _("Ogiltiga parametrar."),
        "401": _("Inloggning eller giltig API-nyckel saknas."),
        "404": _("Finns inte, eller inte för dig."),
        "405": _("Metoden stöds inte."),
        "406": _("Formatet stöds inte."),
        "429": _("För många anrop; försök igen efter Retry-After sekunder."),
    }
    for item in result.get("paths", {}).values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            for code, description in answers.items():
                responses.setdefault(code, {"description": description, "content": problem})
    return result
