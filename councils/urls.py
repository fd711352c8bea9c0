from django.urls import path

from . import views

app_name = "councils"

urlpatterns = [
    path("", views.index, name="index"),
    path("<int:pk>/motesunderlag/", views.meeting_pack, name="meeting_pack"),
    path("<int:pk>/motesunderlag.pdf", views.meeting_pack_pdf, name="meeting_pack_pdf"),
]
