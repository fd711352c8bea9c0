"""The signed-in user's account pages, mounted at /konto/ (next to login and logout)."""

from django.urls import path

from . import views_account

app_name = "account"

urlpatterns = [
    path("profil/", views_account.profile, name="profile"),
    path("profil/aviseringar/", views_account.notification_mode, name="notification_mode"),
    path("byt-losenord/", views_account.PasswordChangeView.as_view(), name="password_change"),
    path("logga-ut-overallt/", views_account.sign_out_everywhere, name="sign_out_everywhere"),
]
