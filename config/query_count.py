"""Bench-only middleware: count the SQL queries of each request and report them in ``X-Query-Count``.

Installed by ``config/settings.py`` only when ``BENCH_QUERY_COUNT=1`` (the load test in ``bench/`` sets
it), so the load run can report queries per request without ``DEBUG``. It is the outermost middleware:
queries of the session, authentication and message middleware count too. For a streamed response the
header is sent before the body, so queries made while streaming are not included.
"""

from django.db import connections


class QueryCountMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        count = 0

        def counter(execute, sql, params, many, context):
            nonlocal count
            count += 1
            return execute(sql, params, many, context)

        with _wrap_all(counter):
            response = self.get_response(request)
        response["X-Query-Count"] = str(count)
        return response


class _wrap_all:
    """``execute_wrapper`` on every configured database connection of this thread."""

    def __init__(self, wrapper):
        self.managers = [connections[alias].execute_wrapper(wrapper) for alias in connections]

    def __enter__(self):
        for manager in self.managers:
            manager.__enter__()

    def __exit__(self, *exc):
        for manager in reversed(self.managers):
            manager.__exit__(*exc)
