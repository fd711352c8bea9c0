"""Sign-in steps and two-step verification, mounted under /konto/."""

from django.urls import path

from . import views

app_name = "identity"

urlpatterns = [
    path("logga-in/kod/", views.verify, name="verify"),
    path("tvastegsverifiering/", views.two_factor, name="two_factor"),
    path("tvastegsverifiering/stang-av/", views.two_factor_disable, name="two_factor_disable"),
]
