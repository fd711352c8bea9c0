"""Faster versions of two of Django's template tags, for text that does not change while a process runs
(``memo``): the project's templates use them through ``TEMPLATES["OPTIONS"]`` (settings)."""
