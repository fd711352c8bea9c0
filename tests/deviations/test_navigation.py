"""The main menu offers each person only the areas they may use."""

import pytest
from django.urls import reverse

from councils.models import CouncilMembership
from tests import factories

pytestmark = pytest.mark.django_db


def menu_links(client, user):
    if user is not None:
        client.force_login(user)
    html = client.get(reverse("home")).content.decode()
    return {
        name: reverse(name) in html
        for name in (
            "deviations:queue",
            "deviations:systemic_list",
            "followup:followup",
            "followup:meeting_packs",
        )
    }


def test_anonymous_and_plain_reporters_see_no_work_areas(client):
    assert not any(menu_links(client, None).values())
    assert not any(menu_links(client, factories.UserFactory()).values())


def test_local_member_sees_queue_followup_and_packs_but_not_systemic_issues(client):
    member = factories.CouncilMembershipFactory(role=CouncilMembership.Role.MEMBER).user
    assert menu_links(client, member) == {
        "deviations:queue": True,
        "deviations:systemic_list": False,
        "followup:followup": True,
        "followup:meeting_packs": True,
    }


def test_regional_coordinator_sees_every_area(client, regional_coordinator):
    assert all(menu_links(client, regional_coordinator).values())


def test_inactive_council_gives_no_work_areas(client):
    membership = factories.CouncilMembershipFactory(council__active=False)
    assert not any(menu_links(client, membership.user).values())
