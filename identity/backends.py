"""Password login that a deployment can switch off (``LOCAL_LOGIN_ENABLED=False``)."""

from django.conf import settings
from django.contrib.auth.backends import ModelBackend


class LocalPasswordBackend(ModelBackend):
    """Django's username/password check, refused everywhere (login page, admin, password confirmations)
    when the deployment signs everyone in through an identity provider. Sessions keep working: only
    ``authenticate()`` is off."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.LOCAL_LOGIN_ENABLED:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
