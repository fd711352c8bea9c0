from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from config.views import healthz
from councils.forms import LoginForm
from deviations.views.common import home
from identity import views as identity_views

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    # Outside i18n_patterns and exempt from the HTTPS redirect (SECURE_REDIRECT_EXEMPT).
    path("healthz", healthz, name="healthz"),
    path("api/v1/", include("api.urls")),
    # Federated login: outside the language prefix, so the addresses registered at the identity
    # providers (callback, SAML ACS) are the same whatever language the user reads in.
    path("konto/sso/", include("identity.urls_sso")),
]

urlpatterns += i18n_patterns(
    path("admin/", admin.site.urls),
    path(
        "konto/logga-in/",
        identity_views.LoginView.as_view(authentication_form=LoginForm),
        name="login",
    ),
    path("konto/logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("konto/", include("councils.urls_account")),
    path("konto/", include("identity.urls")),
    path("", include("api.urls_tokens")),
    path("", include("deviations.urls")),
    path("", include("followup.urls")),
    path("", include("pages.urls")),
    path("", home, name="home"),
    prefix_default_language=False,
)
