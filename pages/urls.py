"""Public information pages required by law, linked from every page's footer."""

from django.urls import path

from . import views

app_name = "pages"

urlpatterns = [
    path("tillganglighet/", views.accessibility, name="accessibility"),
    path("personuppgifter/", views.privacy, name="privacy"),
    path("kakor/", views.cookies, name="cookies"),
]
