from django.urls import path

from . import (
    converters,  # noqa: F401  (registers the "reference" converter)
    urls_reporting,
    urls_triage,
)
from .views import common

app_name = "deviations"

urlpatterns = [
    path("rapporter/<reference:reference>/", common.detail, name="detail"),
    *urls_reporting.urlpatterns,
    *urls_triage.urlpatterns,
]
