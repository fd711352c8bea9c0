from django.urls import path

from . import converters  # noqa: F401  (registers the "reference" converter)
from .views import triage

urlpatterns = [
    path("arenden/", triage.queue, name="queue"),
    path("arenden/eskalerade/", triage.escalated_queue, name="escalated"),
    path("rapporter/<reference:reference>/atgard/<slug:action>/", triage.transition, name="transition"),
    path("rapporter/<reference:reference>/tilldela/", triage.assign, name="assign"),
    path("rapporter/<reference:reference>/anteckning/<slug:visibility>/", triage.note, name="note"),
    path(
        "rapporter/<reference:reference>/yttrande/<int:pk>/aterkalla/",
        triage.cancel_response,
        name="cancel_response",
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
