"""Password login that a deployment can switch off (``LOCAL_LOGIN_ENABLED=False``)."""

from functools import cache

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from config.compiled import CompiledRead

from .trust import subject_key


@cache
def _user_read() -> CompiledRead:
    """The user by id (as ``ModelBackend.get_user`` reads it)."""
    User = get_user_model()
    return CompiledRead(User, lambda pk: User._default_manager.filter(pk=pk), int)


class SessionUserMixin:
    """``get_user`` (the signed-in user of every request, by the id in the session) as ``ModelBackend``
    reads it, with the read compiled once per process instead of on every request (~0.15 ms of Python)."""

    def get_user(self, user_id):
        users = _user_read().instances(user_id)
        if not users:
            return None
        return users[0] if self.user_can_authenticate(users[0]) else None


class LocalPasswordBackend(SessionUserMixin, ModelBackend):
    """Django's username/password check, refused everywhere (login page, admin, password confirmations)
    when the deployment signs everyone in through an identity provider. Sessions keep working: only
    ``authenticate()`` is off."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if not settings.LOCAL_LOGIN_ENABLED:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def throttled_username(request, credentials=None) -> str | None:
    """The username django-axes counts failed logins by and stores (``AXES_USERNAME_CALLABLE``): as
    typed, unless it holds a personnummer or samordningsnummer (people type theirs into login boxes),
    then as a keyed hash (``trust.subject_key``), so the lockout still counts the same typed number but
    no login record (kept ``LOGIN_LOG_RETENTION_DAYS``, shown in the admin) holds it."""
    from axes.conf import settings as axes_settings  # axes fills in its defaults on import

    field = axes_settings.AXES_USERNAME_FORM_FIELD
    username = (credentials or getattr(request, "data", request.POST)).get(field)
    return None if username is None else subject_key(username)
