"""Who is told what after each transition. Mails carry references and links, never report text."""

from django.urls import reverse

from councils.models import CouncilMembership

from .emails import absolute_url, queue_email
from .models import Deviation


def coordinator_emails(council) -> list[str]:
    if council is None:
        return []
    return list(
        CouncilMembership.objects.filter(
            council=council,
            role__in=[CouncilMembership.Role.COORDINATOR, CouncilMembership.Role.CHAIR],
            user__is_active=True,
        )
        .exclude(user__email="")
        .values_list("user__email", flat=True)
    ) + ([council.email] if council.email else [])


def after_transition(*, deviation: Deviation, action: str, from_status: str) -> None:
    link = absolute_url(reverse("deviations:detail", args=[deviation.reference]))
    context = {
        "deviation": deviation,
        "link": link,
        "agreement": deviation.agreement,
        "category": deviation.category,
    }
    if action in {"confirm", "reroute"}:
        queue_email(template="new_report", to=coordinator_emails(deviation.council), context=context)
