"""Places, councils and the people who work in them.

A report happens somewhere (a municipality, and a district in Stockholm city). Local councils
(lokala samråd) cover a set of municipalities and/or districts; the regional council (regionalt
samråd) covers the whole county. Users work for an organisation and sit in councils.
"""

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from agreements.models import EmailDomain, domain_of
from config.personal_data import validate_no_identity_number


class Region(models.Model):
    """A region (healthcare principal, e.g. Region Stockholm); also the county its municipalities lie in."""

    name = models.CharField(_("namn"), max_length=100, unique=True, validators=[validate_no_identity_number])
    code = models.CharField(
        _("länskod"), max_length=2, unique=True, help_text=_("Officiell tvåsiffrig länskod.")
    )

    class Meta:
        verbose_name = _("region")
        verbose_name_plural = _("regioner")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Municipality(models.Model):
    name = models.CharField(_("namn"), max_length=100, unique=True, validators=[validate_no_identity_number])
    code = models.CharField(
        _("kommunkod"), max_length=4, unique=True, help_text=_("Officiell fyrsiffrig kommunkod, t.ex. 0180.")
    )
    region = models.ForeignKey(
        Region, on_delete=models.PROTECT, related_name="municipalities", verbose_name=_("län")
    )

    class Meta:
        verbose_name = _("kommun")
        verbose_name_plural = _("kommuner")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(code__regex=r"^[0-9]{4}$"), name="municipality_code_four_digits"
            ),
        ]

    def __str__(self):
        return self.name


class District(models.Model):
    """A district (stadsdelsområde) of a municipality organised in districts, i.e. Stockholm city."""

    municipality = models.ForeignKey(
        Municipality,
        on_delete=models.PROTECT,
        related_name="districts",
        verbose_name=_("kommun"),
        db_index=False,  # district_unique_name_per_municipality starts with it
    )
    name = models.CharField(_("namn"), max_length=100, validators=[validate_no_identity_number])
    active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        verbose_name = _("stadsdel")
        verbose_name_plural = _("stadsdelar")
        ordering = ["municipality__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name"], name="district_unique_name_per_municipality"
            ),
        ]

    def __str__(self):
        return self.name


class Council(models.Model):
    class Level(models.TextChoices):
        LOCAL = "local", _("Lokalt samråd")
        REGIONAL = "regional", _("Regionalt samråd")

    name = models.CharField(_("namn"), max_length=150, unique=True, validators=[validate_no_identity_number])
    level = models.CharField(_("nivå"), max_length=10, choices=Level.choices, default=Level.LOCAL)
    municipalities = models.ManyToManyField(
        Municipality,
        blank=True,
        related_name="councils",
        verbose_name=_("kommuner"),
        help_text=_("Hela kommuner som samrådet täcker."),
    )
    districts = models.ManyToManyField(
        District,
        blank=True,
        related_name="councils",
        verbose_name=_("stadsdelar"),
        help_text=_("Stadsdelar som samrådet täcker (för kommuner indelade i stadsdelar)."),
    )
    email = models.EmailField(_("funktionsbrevlåda"), blank=True, validators=[validate_no_identity_number])
    is_example = models.BooleanField(
        _("exempel"),
        default=False,
        help_text=_(
            "Exempelindelning för demo och test; den verkliga indelningen underhålls av administratör."
        ),
    )
    active = models.BooleanField(_("aktiv"), default=True)

    class Meta:
        verbose_name = _("samråd")
        verbose_name_plural = pgettext_lazy("plural", "samråd")
        ordering = ["level", "name"]

    def __str__(self):
        return self.name

    @property
    def is_regional(self) -> bool:
        return self.level == self.Level.REGIONAL


def _guarded(name: str) -> models.Field:
    """``AbstractUser``'s field ``name`` as Django defines it, also refusing identity numbers."""
    field = AbstractUser._meta.get_field(name)
    *_names, args, kwargs = field.deconstruct()
    kwargs["validators"] = [*field._validators, validate_no_identity_number]
    return type(field)(*args, **kwargs)


class User(AbstractUser):
    """A person who signs in: coordinators, council members, responders, reporters and admins."""

    # Django's own fields, with the personal-data guard (config.personal_data) added.
    username = _guarded("username")
    first_name = _guarded("first_name")
    last_name = _guarded("last_name")
    email = _guarded("email")

    class NotificationMode(models.TextChoices):
        IMMEDIATE = "immediate", _("Ett e-postmeddelande för varje händelse")
        DAILY = "daily", _("En daglig sammanfattning")

    organization = models.ForeignKey(
        "agreements.Organization",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("organisation"),
    )
    phone = models.CharField(
        _("telefon"), max_length=40, blank=True, validators=[validate_no_identity_number]
    )
    notification_mode = models.CharField(
        _("e-postaviseringar"),
        max_length=10,
        choices=NotificationMode.choices,
        default=NotificationMode.IMMEDIATE,
        help_text=_("Hur du får besked när något väntar på dig (tilldelningar, nya och återförda ärenden)."),
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("användare")
        verbose_name_plural = pgettext_lazy("plural", "användare")
        constraints = [
            models.UniqueConstraint(
                Lower("email"), name="user_unique_email_ci", condition=~models.Q(email="")
            ),
        ]

    def clean(self):
        """A user's address must be at a domain registered on their organisation (admin forms call
        this): reports they file count for that organisation in the statistics."""
        super().clean()
        if self.organization_id and self.email:
            domains = EmailDomain.objects.of_addresses(self.email)
            if not domains.filter(organization_id=self.organization_id).exists():
                raise ValidationError(
                    {
                        "organization": _(
                            "E-postadressens domän ”%(domain)s” är inte registrerad för organisationen. "
                            "Registrera domänen på organisationen, eller välj den organisation "
                            "användaren arbetar i."
                        )
                        % {"domain": domain_of(self.email)}
                    }
                )


class CouncilMembership(models.Model):
    class Role(models.TextChoices):
        COORDINATOR = "coordinator", _("Samordnare")
        MEMBER = "member", _("Ledamot")
        CHAIR = "chair", _("Ordförande")

    council = models.ForeignKey(
        Council,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("samråd"),
        db_index=False,  # membership_unique_user_per_council starts with it
    )
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("användare")
    )
    role = models.CharField(_("roll"), max_length=12, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        verbose_name = _("medlemskap i samråd")
        verbose_name_plural = pgettext_lazy("plural", "medlemskap i samråd")
        ordering = ["council__name", "user__last_name"]
        constraints = [
            models.UniqueConstraint(fields=["council", "user"], name="membership_unique_user_per_council"),
        ]

    def __str__(self):
        return f"{self.user} – {self.council} ({self.get_role_display()})"

    @property
    def is_coordinator(self) -> bool:
        return self.role in (self.Role.COORDINATOR, self.Role.CHAIR)


class CouncilMeeting(models.Model):
    """A meeting of a council: its date, who attended (free text) and the minutes. The meeting pack of
    a meeting covers the time since the council's previous meeting; decisions taken at it are applied
    to the reports from the minutes page (``followup.services.apply_meeting_decisions``). Written by
    ``followup.services.save_meeting`` and its admin, which refuse identity numbers in the texts
    (the fields' validators, ``config.personal_data``)."""

    council = models.ForeignKey(
        Council,
        on_delete=models.PROTECT,
        related_name="meetings",
        verbose_name=_("samråd"),
        db_index=False,  # councilmeeting_one_per_day starts with it
    )
    held_on = models.DateField(_("mötesdatum"))
    attendees = models.TextField(
        _("närvarande"),
        blank=True,
        max_length=2000,
        help_text=_("Namn och organisation, en per rad."),
        validators=[validate_no_identity_number],
    )
    minutes = models.TextField(
        _("minnesanteckningar"),
        blank=True,
        max_length=20_000,
        help_text=_("Skriv inga uppgifter om enskilda personer; hänvisa till rapporternas referensnummer."),
        validators=[validate_no_identity_number],
    )
    created_by = models.ForeignKey(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("skapat av"),
    )
    created_at = models.DateTimeField(_("skapat"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("uppdaterat"), auto_now=True)

    class Meta:
        verbose_name = _("samrådsmöte")
        verbose_name_plural = _("samrådsmöten")
        ordering = ["council", "-held_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["council", "held_on"],
                name="councilmeeting_one_per_day",
                violation_error_message=_("Samrådet har redan ett möte det datumet."),
            ),
        ]

    def __str__(self):
        return f"{self.council} {self.held_on:%Y-%m-%d}"
