from django.urls import path

from . import views

app_name = "agreements"

urlpatterns = [
    path("", views.followup, name="followup"),
    path("analys/", views.save_analysis, name="save_analysis"),
    path("dokument.pdf", views.document, name="document"),
    path("export/<slug:what>.<slug:fmt>", views.export, name="export"),
]
