"""Federated login: OpenID Connect through django-allauth (only the views the flow needs, not
allauth's account pages), mounted at /konto/sso/."""

from allauth.socialaccount.providers.openid_connect import views as oidc_views
from django.urls import path
from djangosaml2 import views as saml_views

from . import saml, views_sso

urlpatterns = [
    # allauth's OIDC views under the names allauth reverses: the login (POST from the login page) and
    # the callback registered at the IdP.
    path("oidc/<str:provider_id>/login/", views_sso.oidc_login, name="openid_connect_login"),
    path("oidc/<str:provider_id>/login/callback/", oidc_views.callback, name="openid_connect_callback"),
    # Where allauth sends the browser when the IdP reports a cancel or an error: the service's own
    # page (allauth's link to its account pages, which are not mounted).
    path("avbruten/", views_sso.login_cancelled, name="socialaccount_login_cancelled"),
    path("fel/", views_sso.login_error, name="socialaccount_login_error"),
    # Reached only if an automatic signup failed: refused rather than allauth's signup form.
    path("registrera/", views_sso.login_error, name="socialaccount_signup"),
]

# SAML 2.0 (djangosaml2): login (?idp=<entity id>&next=…), the assertion consumer service, the service
# provider's metadata for the IdPs. Single logout is not offered.
urlpatterns += [
    path("saml2/login/", saml.LoginView.as_view(), name="saml2_login"),
    path("saml2/acs/", saml.AssertionConsumerServiceView.as_view(), name="saml2_acs"),
    path("saml2/metadata/", saml_views.MetadataView.as_view(), name="saml2_metadata"),
]
