from django.urls import path

from . import urls_reporting, urls_triage
from .views import common

app_name = "deviations"

urlpatterns = [
    path("rapporter/<str:reference>/", common.detail, name="detail"),
    *urls_reporting.urlpatterns,
    *urls_triage.urlpatterns,
]
