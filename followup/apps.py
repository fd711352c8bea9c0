from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FollowupConfig(AppConfig):
    """Everything that reads reports for statistics: the follow-up per agreement (figures, charts,
    exports, PDF) and the council meeting packs. It sits above ``deviations``; nothing below imports it."""

    name = "followup"
    verbose_name = _("Uppföljning")
