from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeviationsConfig(AppConfig):
    name = "deviations"
    verbose_name = _("Samverkansbrister")

    def ready(self):
        # The blank choice of every select in the project (forms, model forms, the admin's fields and
        # its action list) in Swedish instead of Django's "- Select an option -" (which Django
        # documents overriding here, in an app's ready()). django-filter's own: FILTERS_EMPTY_CHOICE_LABEL.
        from django.db.models import fields

        fields.BLANK_CHOICE_LABEL = _("– Välj –")
