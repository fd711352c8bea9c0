from django.urls import path

from . import converters  # noqa: F401  (registers the "reference" converter)
from .views import queues, triage

urlpatterns = [
    path("arenden/", queues.queue, name="queue"),
    path("arenden/eskalerade/", queues.escalated_queue, name="escalated"),
    path("arenden/export/<slug:fmt>/", queues.export, {"queue": "queue"}, name="queue_export"),
    path(
        "arenden/eskalerade/export/<slug:fmt>/",
        queues.export,
        {"queue": "escalated"},
        name="escalated_export",
    ),
    path("arenden/markerade/", queues.bulk_action, name="bulk_action"),
    path("arenden/sparade-filter/", queues.save_filter, name="save_filter"),
    path("arenden/sparade-filter/<int:pk>/ta-bort/", queues.delete_filter, name="delete_filter"),
    path("rapporter/<reference:reference>/atgard/<slug:action>/", triage.transition, name="transition"),
    path("rapporter/<reference:reference>/tilldela/", triage.assign, name="assign"),
    path("rapporter/<reference:reference>/anteckning/<slug:visibility>/", triage.note, name="note"),
    path("rapporter/<reference:reference>/faktorer/", triage.set_factors, name="set_factors"),
    path(
        "rapporter/<reference:reference>/yttrande/<int:pk>/aterkalla/",
        triage.cancel_response,
        name="cancel_response",
    ),
    path("rapporter/<reference:reference>/maskera/", triage.redact, name="redact"),
    path(
        "rapporter/<reference:reference>/radera-kontaktuppgifter/",
        triage.erase_contact,
        name="erase_contact",
    ),
    path(
        "rapporter/<reference:reference>/ratta-kontaktuppgifter/",
        triage.correct_contact,
        name="correct_contact",
    ),
    path(
        "rapporter/<reference:reference>/systemfraga/",
        triage.report_systemic_link,
        name="report_systemic_link",
    ),
    path(
        "rapporter/<reference:reference>/yttrande/<int:pk>/forlang/",
        triage.extend_response,
        name="extend_response",
    ),
    path(
        "rapporter/<reference:reference>/yttrande/<int:pk>/skicka-igen/",
        triage.resend_response,
        name="resend_response",
    ),
    path("yttranden/", triage.my_response_requests, name="my_response_requests"),
    path("yttrande/<str:token>/", triage.respond, name="respond"),
    path("yttrande/<str:token>/mottaget/", triage.respond_done, name="respond_done"),
    path("systemfragor/", triage.systemic_list, name="systemic_list"),
    path("systemfragor/ny/", triage.systemic_edit, name="systemic_create"),
    path("systemfragor/<int:pk>/", triage.systemic_detail, name="systemic_detail"),
    path("systemfragor/<int:pk>/andra/", triage.systemic_edit, name="systemic_edit"),
    path("systemfragor/<int:pk>/koppla/", triage.systemic_link, name="systemic_link"),
    path(
        "systemfragor/<int:pk>/koppla-bort/<reference:reference>/",
        triage.systemic_unlink,
        name="systemic_unlink",
    ),
    path("systemfragor/<int:pk>/atgarder/", triage.systemic_action_add, name="systemic_action_add"),
    path(
        "systemfragor/<int:pk>/atgarder/<int:action_pk>/status/",
        triage.systemic_action_state,
        name="systemic_action_state",
    ),
    path("systemfragor/<int:pk>/los/", triage.systemic_resolve, name="systemic_resolve"),
]
