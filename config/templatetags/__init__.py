"""A faster version of Django's url tag for URLs that do not change while a process runs
(``memo``): the project's templates use it as a built-in (``TEMPLATES["OPTIONS"]``, settings)."""
