"""gunicorn's settings for every way the app is served: the Docker image, docker-compose.yml, the
README's production command, the bench's load runs and the cluster test's nodes
(``gunicorn config.wsgi -c config/gunicorn.py``). Options given on the command line or in
``GUNICORN_CMD_ARGS`` win over these; ``WEB_CONCURRENCY`` sets the number of workers (as gunicorn's own
default does, here with 3 when it is not set).

- **Sync workers** (gunicorn's default): one request at a time per worker process, so capacity is
  workers × the CPU per request (README, *The capacity model*).
- **timeout**: a sync worker that has not finished its request after this many seconds is killed, even
  while it is still sending a streamed response (it tells the arbiter it is alive only between
  requests). The longest request is the streamed XLSX of an agreement-year: 2.6 s of CPU at the county's
  scale (1M reports), **27 s at national scale** (10M reports, ~610,000 rows in a year; bench/RESULTS.md,
  2026-12-04 evening), longer on a busy node. gunicorn's default of 30 s would cut that download off
  half-way; 120 s leaves room and still ends a worker that truly hangs.
- **No access log**: request paths hold signed links; the app writes its own request log without them
  (``config/log.py``).
"""

import os

bind = "0.0.0.0:8000"  # elsewhere: --bind, or GUNICORN_CMD_ARGS="--bind …"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
timeout = 120
# A stopping worker finishes the requests it has (an export included) for this long.
graceful_timeout = 30
accesslog = None
