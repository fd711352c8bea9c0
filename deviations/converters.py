"""URL converters. A report reference in a URL is letters, digits and hyphens only (SB-2026-00042):
anything else (NUL bytes, control characters, slashes, ...) does not match and answers 404 before a
view or the database sees it (PostgreSQL refuses NUL in text parameters with an error, i.e. a 500)."""

from django.urls import register_converter


class ReferenceConverter:
    regex = r"[A-Za-z0-9-]{1,30}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ReferenceConverter, "reference")
