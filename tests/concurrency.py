"""Run the same function in several threads at once (tests of races against PostgreSQL)."""

import threading

from django.db import connection


def run_at_once(function, *, threads: int) -> list:
    """Call ``function`` in ``threads`` threads released together; return their results. Each thread
    closes its own database connection; an exception in any thread fails the test."""
    barrier = threading.Barrier(threads)
    results, errors = [], []

    def worker():
        try:
            barrier.wait()
            results.append(function())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    started = [threading.Thread(target=worker) for _ in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    assert not errors, errors
    return results
