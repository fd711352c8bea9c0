"""The signed-in user's API tokens, from the profile: make one (shown once), see them, revoke one."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from config.errors import Invalid

from . import services
from .forms import TokenForm
from .models import ApiToken


@never_cache
@login_required
@require_http_methods(["GET", "POST"])
def tokens(request):
    form = TokenForm(request.POST or None)
    new_token = None
    if request.method == "POST" and form.is_valid():
        try:
            token, new_token = services.create_token(
                user=request.user, name=form.cleaned_data["name"], days=form.cleaned_data["days"]
            )
        except Invalid as error:
            for field, message in error.errors.items():
                form.add_error(field, message)
        else:
            form = TokenForm()
            messages.success(request, _("Nyckeln ”%(name)s” är skapad.") % {"name": token.name})
    return render(
        request,
        "api/tokens.html",
        {
            "form": form,
            "new_token": new_token,
            "tokens": ApiToken.objects.filter(user=request.user),
            "docs_url": reverse("api_pages:documentation"),
        },
    )


@login_required
@require_POST
def revoke(request, token_key: str):
    services.revoke_token(user=request.user, token_key=token_key)
    messages.success(request, _("Nyckeln är återkallad och fungerar inte längre."))
    return redirect("api_pages:tokens")
