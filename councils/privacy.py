"""The register extract's sections for accounts and councils (``config.subject_access``)."""

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from config.subject_access import rows_section

from .models import Council, CouncilMeeting, CouncilMembership, User

rows_section(
    "account",
    User.objects.order_by("pk"),
    description=_(
        "Användarkontot: namn, e-postadress, telefon, organisation, val av aviseringar, grupper och "
        "behörigheter, när det skapades och senast användes (aldrig lösenordet)."
    ),
    where=lambda subject: Q(pk__in=subject.user_ids),
    covers=["councils.User.email", "councils.User_groups.user", "councils.User_user_permissions.user"],
    fields=[
        "username",
        "first_name",
        "last_name",
        "email",
        "phone",
        "organization__name",
        "notification_mode",
        "is_active",
        "is_staff",
        "is_superuser",
        "date_joined",
        "last_login",
    ],
    named=lambda subject: {
        "group_names": ArrayAgg("groups__name", distinct=True, filter=Q(groups__isnull=False), default=[]),
        "permissions": ArrayAgg(
            "user_permissions__codename", distinct=True, filter=Q(user_permissions__isnull=False), default=[]
        ),
    },
)
rows_section(
    "council_memberships",
    CouncilMembership.objects.order_by("council__name"),
    description=_("De samråd kontot är medlem i, och dess roll i vart och ett."),
    by_account=["user"],
    fields=["council__name", "role"],
)
rows_section(
    "council_meetings_recorded",
    CouncilMeeting.objects.order_by("held_on", "pk"),
    description=_(
        "Samrådsmöten som kontot registrerade (mötets datum; deltagare och protokoll är samrådets "
        "handlingar)."
    ),
    by_account=["created_by"],
    fields=["council__name", "held_on", "created_at"],
)
rows_section(
    "council_mailboxes",
    Council.objects.order_by("name"),
    description=_("Samråd vars funktionsbrevlåda är adressen."),
    by_address=["email"],
    fields=["name", "email"],
)
