"""Deploy checks: the legal pages must name the real organisation, not the development examples."""

from django.conf import settings
from django.core import checks

#: Settings that must be set for a real deployment (their defaults are examples).
REQUIRED_IN_PRODUCTION = ("ORGANIZATION_NAME", "ORGANIZATION_EMAIL", "DPO_EMAIL")
_EXAMPLES = {"Exempelorganisationen", "registrator@example.se", "dataskyddsombud@example.se"}


@checks.register(checks.Tags.security, deploy=True)
def legal_pages_name_the_organisation(app_configs, **kwargs):
    return [
        checks.Warning(
            f"{name} still has its example value: the accessibility statement and the privacy page "
            "name the deploying organisation from it.",
            hint=f"Set the {name} environment variable (README, 'Legal pages').",
            id="pages.W001",
        )
        for name in REQUIRED_IN_PRODUCTION
        if getattr(settings, name) in _EXAMPLES
    ]
