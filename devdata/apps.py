from django.apps import AppConfig


class DevdataConfig(AppConfig):
    """Development only: demo data (``manage.py seed_demo``). Installed only when DEBUG is on and left
    out of the wheel, so production has neither the command nor the demo accounts' password."""

    name = "devdata"
