from django.urls import path

from .views import common

app_name = "deviations"

urlpatterns = [
    path("rapporter/<str:reference>/", common.detail, name="detail"),
]
