"""Identifiers that identity providers use for an organisation (organisation number, HSA-id), so a
federated login can place the user in their organisation without relying on the e-mail domain."""

from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from config.personal_data import validate_no_identity_number


class OrganizationIdentifier(models.Model):
    class Kind(models.TextChoices):
        ORGANIZATION_NUMBER = "org_number", _("Organisationsnummer")
        HSA_ID = "hsa_id", _("HSA-id")
        OTHER = "other", _("Annan identitet")

    organization = models.ForeignKey(
        "agreements.Organization",
        on_delete=models.CASCADE,
        related_name="identifiers",
        verbose_name=_("organisation"),
    )
    kind = models.CharField(_("typ"), max_length=12, choices=Kind.choices)
    value = models.CharField(
        _("värde"),
        max_length=100,
        help_text=_("Som identitetsleverantören skickar det, t.ex. 2120001234 eller SE2321000016-1234."),
        validators=[validate_no_identity_number],
    )

    class Meta:
        verbose_name = _("organisationsidentitet")
        verbose_name_plural = _("organisationsidentiteter")
        ordering = ["organization__name", "kind"]
        constraints = [
            models.UniqueConstraint(Lower("value"), name="organizationidentifier_unique_value_ci"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.value}"


class SamlIdentityProvider(models.Model):
    """A SAML 2.0 identity provider added in the admin (next to those in settings,
    ``SSO_SAML_IDP_METADATA``): its metadata from a URL or pasted as XML."""

    name = models.CharField(
        _("namn"),
        max_length=100,
        help_text=_("Texten på inloggningsknappen."),
        validators=[validate_no_identity_number],
    )
    entity_id = models.CharField(
        _("entity id"), max_length=255, unique=True, validators=[validate_no_identity_number]
    )
    metadata_url = models.URLField(_("metadata-URL"), blank=True, validators=[validate_no_identity_number])
    # Guarded too: metadata carries contact persons (names, addresses) written by the IdP's staff.
    metadata_xml = models.TextField(_("metadata (XML)"), blank=True, validators=[validate_no_identity_number])
    active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        verbose_name = _("SAML-identitetsleverantör")
        verbose_name_plural = _("SAML-identitetsleverantörer")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(metadata_url="") | ~models.Q(metadata_xml=""),
                name="samlidp_metadata_url_or_xml",
                violation_error_message=_("Ange metadata-URL eller klistra in metadata."),
            ),
        ]

    def __str__(self):
        return self.name
