from django.urls import path

from . import views_docs, views_tokens

app_name = "api_pages"

# Pages of the site about the API, in Swedish and English (inside i18n_patterns).
urlpatterns = [
    path("konto/api-nycklar/", views_tokens.tokens, name="tokens"),
    path("konto/api-nycklar/<str:token_key>/aterkalla/", views_tokens.revoke, name="revoke"),
    path("api/dokumentation/", views_docs.documentation, name="documentation"),
]
