"""Identifiers that identity providers use for an organisation (organisation number, HSA-id), so a
federated login can place the user in their organisation without relying on the e-mail domain."""

from cryptography import x509
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils.translation import gettext_lazy as _

from config.personal_data import validate_no_identity_number


def validate_pem_certificate(value) -> None:
    if value and value.strip():
        try:
            x509.load_pem_x509_certificate(value.strip().encode())
        except ValueError:
            raise ValidationError(
                _("Klistra in ett certifikat i PEM-format (-----BEGIN CERTIFICATE----- …)."),
                code="certificate",
            ) from None


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
    metadata_signing_certificate = models.TextField(
        _("certifikat för metadatans signatur"),
        blank=True,
        help_text=_(
            "Federationens (eller identitetsleverantörens) certifikat i PEM-format, t.ex. Sambis "
            "metadatacertifikat. Är det ifyllt används metadata från URL:en bara om den är signerad "
            "med det."
        ),
        validators=[validate_no_identity_number, validate_pem_certificate],
    )
    email_domains = models.TextField(
        _("betrodda e-postdomäner"),
        blank=True,
        help_text=_(
            "De e-postdomäner som identitetsleverantören får logga in konton för, en per rad eller "
            "kommaseparerade (t.ex. regionstockholm.se). Underdomäner räknas inte in. Utan domäner "
            "och organisationer loggar identitetsleverantören inte in någon."
        ),
        validators=[validate_no_identity_number],
    )
    organizations = models.ManyToManyField(
        "agreements.Organization",
        blank=True,
        related_name="+",
        verbose_name=_("betrodda organisationer"),
        help_text=_(
            "Organisationer vars registrerade e-postdomäner identitetsleverantören får logga in konton "
            "för. Är några valda placeras användare bara i någon av dem."
        ),
    )
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


class SamlIdentity(models.Model):
    """The link between an account and its persistent NameID at a SAML identity provider, made at the
    first login: later logins from that IdP find the account by it, never by the e-mail address (an
    address handed on to someone else at the organisation does not open the old account). A NameID
    that holds an identity number is stored as a keyed hash (``identity.trust.subject_key``)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="saml_identities",
        verbose_name=_("användare"),
    )
    idp_entity_id = models.CharField(_("identitetsleverantör (entity id)"), max_length=255)
    name_id = models.CharField(_("namnidentifierare (NameID)"), max_length=255)
    created_at = models.DateTimeField(_("kopplad"), auto_now_add=True)

    class Meta:
        verbose_name = _("SAML-identitet")
        verbose_name_plural = _("SAML-identiteter")
        constraints = [
            models.UniqueConstraint(fields=["idp_entity_id", "name_id"], name="samlidentity_unique_name_id"),
            models.UniqueConstraint(
                fields=["idp_entity_id", "user"], name="samlidentity_one_per_user_and_idp"
            ),
        ]

    def __str__(self):
        return f"{self.idp_entity_id}: {self.user}"
