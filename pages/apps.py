from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PagesConfig(AppConfig):
    """The pages the law requires: accessibility statement, personal data and cookies."""

    name = "pages"
    verbose_name = _("Information om tjänsten")

    def ready(self):
        from . import checks  # noqa: F401  (registers the deploy checks)
