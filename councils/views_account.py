"""The signed-in user's own account: profile, password change, signing out on all devices."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.messages.views import SuccessMessageMixin
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_http_methods, require_POST

from . import services
from .forms import ConfirmPasswordForm, NotificationModeForm


@login_required
def profile(request):
    user = request.user
    memberships = user.memberships.select_related("council").order_by("council__level", "council__name")
    organization = user.organization
    # Changing the password and signing out everywhere both ask for the password: not offered to an
    # account made by a federated login (no usable password), nor where password login is off.
    password_pages = settings.LOCAL_LOGIN_ENABLED and user.has_usable_password()
    return render(
        request,
        "councils/profile.html",
        {
            "profile_user": user,
            "organization": organization,
            "memberships": memberships,
            "notification_form": NotificationModeForm(user=user),
            "password_pages": password_pages,
        },
    )


@login_required
@require_POST
def notification_mode(request):
    form = NotificationModeForm(request.POST, user=request.user)
    if form.is_valid():
        services.set_notification_mode(user=request.user, mode=form.cleaned_data["notification_mode"])
        messages.success(request, _("Ditt val av e-postaviseringar är sparat."))
    else:
        messages.error(request, _("Välj hur du vill få e-post."))
    return redirect("account:profile")


class PasswordChangeView(SuccessMessageMixin, auth_views.PasswordChangeView):
    """Django's password change (validators apply; this session stays, others end)."""

    template_name = "councils/password_change.html"
    success_url = reverse_lazy("account:profile")
    success_message = _("Ditt lösenord är bytt. Du är utloggad på dina andra enheter.")


@login_required
@require_http_methods(["GET", "POST"])
def sign_out_everywhere(request):
    form = ConfirmPasswordForm(request.POST or None, request=request)
    if request.method == "POST" and form.is_valid():
        services.sign_out_everywhere(user=request.user, raw_password=form.cleaned_data["password"])
        logout(request)
        messages.success(request, _("Du är nu utloggad på alla enheter, även den här."))
        return redirect("login")
    return render(request, "councils/sign_out_everywhere.html", {"form": form})
