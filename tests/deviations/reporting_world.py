"""A small county for the reporter-journey tests: places, councils, agreements and organisations."""

import datetime
from types import SimpleNamespace

from django.utils import timezone

from councils.models import CouncilMembership
from tests import factories


def build_world() -> SimpleNamespace:
    w = SimpleNamespace()
    w.region = factories.RegionFactory()
    w.regional_council = factories.RegionalCouncilFactory(
        name="Regionala samrådet", email="regionalt@storsthlm.example.se"
    )
    w.regional_coordinator = factories.UserFactory(username="regional", email="regional@storsthlm.se")
    factories.CouncilMembershipFactory(council=w.regional_council, user=w.regional_coordinator)

    w.nacka = factories.MunicipalityFactory(name="Nacka", code="0182")
    w.vaxholm = factories.MunicipalityFactory(name="Vaxholm", code="0187")  # covered by no local council
    w.stockholm = factories.MunicipalityFactory(name="Stockholm", code="0180")
    w.spanga = factories.DistrictFactory(municipality=w.stockholm, name="Spånga-Tensta")
    w.skarholmen = factories.DistrictFactory(municipality=w.stockholm, name="Skärholmen")

    w.nacka_council = factories.CouncilFactory(name="Lokalt samråd Nacka", municipalities=[w.nacka])
    w.nacka_coordinator = factories.UserFactory(username="nackasam", email="samordnare@nacka.se")
    factories.CouncilMembershipFactory(council=w.nacka_council, user=w.nacka_coordinator)
    w.nacka_member = factories.UserFactory(username="nackaledamot", email="ledamot@nacka.se")
    factories.CouncilMembershipFactory(
        council=w.nacka_council, user=w.nacka_member, role=CouncilMembership.Role.MEMBER
    )
    w.vasterort_council = factories.CouncilFactory(name="Lokalt samråd Västerort", districts=[w.spanga])
    w.vasterort_coordinator = factories.UserFactory(username="vasterort", email="vasterort@stockholm.se")
    factories.CouncilMembershipFactory(council=w.vasterort_council, user=w.vasterort_coordinator)

    w.psyk = factories.AgreementFactory(
        code="PSYK", name="Psykisk sjukdom", valid_from=datetime.date(2020, 1, 1)
    )
    w.old = factories.AgreementFactory(
        code="GAMMAL",
        name="Gammal överenskommelse",
        valid_from=datetime.date(2015, 1, 1),
        valid_to=datetime.date(2019, 12, 31),
    )
    w.psyk_commitment = factories.CommitmentFactory(agreement=w.psyk, title="SIP upprättas vid behov")
    w.old_commitment = factories.CommitmentFactory(agreement=w.old, title="Gammalt åtagande")
    w.category = factories.DeviationCategoryFactory(name="Utskrivning utan information", agreements=[w.psyk])
    w.old_category = factories.DeviationCategoryFactory(name="Gammal kategori", agreements=[w.old])

    w.own = factories.OrganizationFactory(
        name="Socialtjänst Nacka vuxen", principal_municipality=w.nacka, domains=["nacka.se"]
    )
    w.counterpart = factories.RegionOrganizationFactory(
        name="Psykiatri Södra", principal_region=w.region, domains=["RegionStockholm.se"]
    )
    w.inactive = factories.OrganizationFactory(
        name="Nedlagd enhet", principal_municipality=w.nacka, domains=["nedlagd.se"], active=False
    )
    return w


def valid_post(w, **overrides) -> dict:
    data = {
        "idempotency_key": "7f8f7d0e-7c5b-4a57-9b8a-2d4b1f0b1c11",
        "concerns_child": "no",
        "occurred_on": (timezone.localdate() - datetime.timedelta(days=2)).isoformat(),
        "agreement": w.psyk.pk,
        "commitment": w.psyk_commitment.pk,
        "category": w.category.pk,
        "municipality": w.nacka.pk,
        "district": "",
        "reporting_organization": w.own.pk,
        "counterpart_organizations": [w.counterpart.pk],
        "description": "Utskrivning från slutenvården skedde utan att socialtjänsten fick information.",
        "consequence": "Ingen insats var planerad vid hemkomsten.",
        "actions_taken": "Vi kontaktade avdelningen dagen efter.",
        "suggested_improvement": "Följ rutinen för utskrivningsmeddelanden.",
        "sip_involved": "no",
        "discharge_involved": "yes",
        "reporter_name": "Rapportör Exempel",
        "reporter_email": "rapportor@Nacka.se",
        "reporter_phone": "08-123 456 78",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def service_data(w, **overrides) -> dict:
    """Cleaned data as the form hands it to ``services.reporting.submit_deviation``."""
    data = {
        "occurred_on": timezone.localdate() - datetime.timedelta(days=2),
        "agreement": w.psyk,
        "commitment": None,
        "category": w.category,
        "municipality": w.nacka,
        "district": None,
        "reporting_organization": w.own,
        "counterpart_organizations": [w.counterpart],
        "description": "Utskrivning utan information till socialtjänsten.",
        "consequence": "Ingen insats planerad.",
        "actions_taken": "",
        "suggested_improvement": "",
        "sip_involved": "no",
        "discharge_involved": "yes",
        "reporter_name": "Rapportör Exempel",
        "reporter_email": "rapportor@nacka.se",
        "reporter_phone": "",
    }
    data.update(overrides)
    return data
