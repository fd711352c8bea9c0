"""/api/v1/: the read API (outside the language prefix: JSON speaks no language but the texts do, by the
Accept-Language header)."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from . import problems, views

app_name = "api"

urlpatterns = [
    path("api-info", views.ApiInfoView.as_view(), name="api_info"),
    # The same public document for everyone, no data: not rate limited, like the documentation pages
    # that show it (the limits count in PostgreSQL, api/throttling.py).
    path("schema/", SpectacularAPIView.as_view(throttle_classes=[]), name="schema"),
    path("reports/", views.ReportList.as_view(), name="reports"),
    path("reports/<str:reference>", views.ReportDetail.as_view(), name="report"),
    path("systemic-issues/", views.SystemicIssueList.as_view(), name="systemic_issues"),
    path("systemic-issues/<int:pk>", views.SystemicIssueDetail.as_view(), name="systemic_issue"),
    path("statistics/", views.StatisticsView.as_view(), name="statistics"),
    re_path(r"^.*$", problems.not_found, name="not_found"),
]
