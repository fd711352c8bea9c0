"""A small county for the triage tests: two local councils, the regional council, reporters, a
counterpart responder and one report per council. Built with factories."""

from types import SimpleNamespace

import pytest

from councils.models import CouncilMembership
from tests import factories

# The queue page once its filter form and the reference data's names are cached (the usual case):
# session, user, memberships (once for scope, menu and visibility), the reference data's version,
# counts (one bounded statement), page (one statement, joined to the assignee only, the counterparts'
# ids in it), saved filters, assignees of the bulk form; no session write (SessionRefreshMiddleware).
QUEUE_BUDGET = 8


@pytest.fixture(autouse=True)
def fast_passwords(settings):
    """Users are created by the dozen here; hash their passwords cheaply (import this fixture)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def build_world():
    w = SimpleNamespace()
    w.regional_council = factories.RegionalCouncilFactory(
        name="Regionala samrådet", email="regional@example.se"
    )
    w.regional = factories.UserFactory(username="regional")
    factories.CouncilMembershipFactory(council=w.regional_council, user=w.regional)

    w.muni_x = factories.MunicipalityFactory(name="Xköping")
    w.muni_y = factories.MunicipalityFactory(name="Ystad län")
    w.council_x = factories.CouncilFactory(name="Samråd X", municipalities=[w.muni_x], email="x@example.se")
    w.council_y = factories.CouncilFactory(name="Samråd Y", municipalities=[w.muni_y])
    w.council_z = factories.CouncilFactory(name="Samråd Z")

    w.coord_x = factories.UserFactory(username="coord_x")
    factories.CouncilMembershipFactory(council=w.council_x, user=w.coord_x)
    w.member_x = factories.UserFactory(username="member_x")
    factories.CouncilMembershipFactory(
        council=w.council_x, user=w.member_x, role=CouncilMembership.Role.MEMBER
    )
    w.coord_y = factories.UserFactory(username="coord_y")
    factories.CouncilMembershipFactory(council=w.council_y, user=w.coord_y)

    w.reporter_a = factories.UserFactory(username="reporter_a")
    w.reporter_b = factories.UserFactory(username="reporter_b")

    w.org_social = factories.OrganizationFactory(name="Socialtjänst X", principal_municipality=w.muni_x)
    w.org_psych = factories.RegionOrganizationFactory(
        name="Psykiatri Syd", contact_email="yttrande@psyk.example.se"
    )
    w.responder = factories.UserFactory(username="responder", organization=w.org_psych)

    w.agreement = factories.AgreementFactory(code="PSYK", name="Psykisk ohälsa")
    w.category = factories.DeviationCategoryFactory(name="Utskrivning", agreements=[w.agreement])

    w.dev_x = factories.DeviationFactory(
        council=w.council_x,
        municipality=w.muni_x,
        reporter=w.reporter_a,
        reporter_email="a@example.se",
        reporting_organization=w.org_social,
        agreement=w.agreement,
        category=w.category,
        counterparts=[w.org_psych],
    )
    w.dev_y = factories.DeviationFactory(
        council=w.council_y,
        municipality=w.muni_y,
        reporter=w.reporter_b,
        reporter_email="b@example.se",
        agreement=w.agreement,
        category=w.category,
    )
    return w


def login(client, user):
    client.force_login(user)
    return client
