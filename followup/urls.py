from django.urls import path

from .views import followup, meeting_pack

app_name = "followup"

urlpatterns = [
    # The follow-up per agreement and period.
    path("uppfoljning/", followup.followup, name="followup"),
    path("uppfoljning/analys/", followup.save_analysis, name="save_analysis"),
    path("uppfoljning/dokument.pdf", followup.document_pdf, name="document"),
    path("uppfoljning/dokument.docx", followup.document_docx, name="document_docx"),
    path("uppfoljning/export/<slug:what>.<slug:fmt>", followup.export, name="export"),
    # Council meeting packs.
    path("samrad/", meeting_pack.index, name="meeting_packs"),
    path("samrad/<int:pk>/motesunderlag/", meeting_pack.meeting_pack, name="meeting_pack"),
    path("samrad/<int:pk>/motesunderlag.pdf", meeting_pack.meeting_pack_pdf, name="meeting_pack_pdf"),
]
