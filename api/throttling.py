"""The API's rate limits: Django REST framework's, counted in the cache of the site's other rate limits
(``RATELIMIT_CACHE_URL``, a PostgreSQL table by default), which every process and node shares. DRF's own
count in the default cache (``CACHE_URL``), per process by default: with three workers a client got
three times its rate."""

from django.core.cache import caches
from rest_framework import throttling


class UserRateThrottle(throttling.UserRateThrottle):
    cache = caches["ratelimit"]


class AnonRateThrottle(throttling.AnonRateThrottle):
    cache = caches["ratelimit"]
