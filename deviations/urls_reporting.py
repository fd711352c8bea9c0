"""The reporter journey (namespace "deviations", included by deviations/urls.py)."""

from django.urls import path

from . import converters  # noqa: F401  (registers the "reference" converter)
from .views import reporting

urlpatterns = [
    path("rapportera/", reporting.report_start, name="report_start"),
    path("rapportera/formular/", reporting.report_form, name="report_form"),
    path("rapportera/skickad/", reporting.report_sent, name="report_sent"),
    path("rapportera/skickad/<reference:reference>/", reporting.report_receipt, name="report_receipt"),
    path("rapportera/bekrafta/<str:token>/", reporting.confirm, name="confirm"),
    path(
        "rapportera/bekrafta/<str:token>/ny-lank/",
        reporting.resend_confirmation,
        name="resend_confirmation",
    ),
    path("status/<str:token>/", reporting.status, name="status"),
    path("mina-rapporter/", reporting.my_reports, name="my_reports"),
]
