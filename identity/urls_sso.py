"""Federated login: OpenID Connect through django-allauth (only the views the flow needs, not
allauth's account pages), mounted at /konto/sso/."""

from django.urls import include, path

from . import views_sso

urlpatterns = [
    # oidc/<provider_id>/login/ (POST from the login page) and oidc/<provider_id>/login/callback/
    # (allauth's OPENID_CONNECT_URL_PREFIX is "oidc").
    path("", include("allauth.socialaccount.providers.openid_connect.urls")),
    # Where allauth sends the browser when the IdP reports a cancel or an error: the service's own
    # page (allauth's link to its account pages, which are not mounted).
    path("avbruten/", views_sso.login_cancelled, name="socialaccount_login_cancelled"),
    path("fel/", views_sso.login_error, name="socialaccount_login_error"),
    # Reached only if an automatic signup failed: refused rather than allauth's signup form.
    path("registrera/", views_sso.login_error, name="socialaccount_signup"),
]
