"""factory-boy factories for every model. Tests build exactly the data they need with these."""

import datetime

import factory
from django.utils import timezone
from factory.django import DjangoModelFactory

from agreements.models import (
    Agreement,
    Commitment,
    ContributingFactor,
    DeviationCategory,
    EmailDomain,
    FollowUpAnalysis,
    Organization,
)
from councils.models import Council, CouncilMeeting, CouncilMembership, District, Municipality, Region, User
from deviations.models import (
    AccessLog,
    Deviation,
    DeviationEvent,
    FollowUpPending,
    FollowUpSummary,
    PendingNotification,
    ResponseRequest,
    ResponseTemplate,
    SavedFilter,
    SystemicAction,
    SystemicIssue,
    YesNoUnknown,
)
from deviations.workflow import Status
from identity.models import OrganizationIdentifier, SamlIdentityProvider

DEFAULT_PASSWORD = "korrekt-hast-batteri-42"


class RegionFactory(DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("code",)

    name = "Region Stockholm"
    code = "01"


class MunicipalityFactory(DjangoModelFactory):
    class Meta:
        model = Municipality

    name = factory.Sequence(lambda n: f"Kommun {n}")
    code = factory.Sequence(lambda n: f"{5000 + n:04d}")
    region = factory.SubFactory(RegionFactory)


class DistrictFactory(DjangoModelFactory):
    class Meta:
        model = District

    municipality = factory.SubFactory(MunicipalityFactory)
    name = factory.Sequence(lambda n: f"Stadsdel {n}")


class CouncilFactory(DjangoModelFactory):
    class Meta:
        model = Council
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Lokalt samråd {n}")
    level = Council.Level.LOCAL

    @factory.post_generation
    def municipalities(self, create, extracted, **kwargs):
        if create and extracted:
            self.municipalities.set(extracted)

    @factory.post_generation
    def districts(self, create, extracted, **kwargs):
        if create and extracted:
            self.districts.set(extracted)


class CouncilMeetingFactory(DjangoModelFactory):
    class Meta:
        model = CouncilMeeting

    council = factory.SubFactory(CouncilFactory)
    held_on = factory.Sequence(lambda n: datetime.date(2026, 1, 1) + datetime.timedelta(days=30 * n))
    attendees = "Samordnare, Socialtjänsten\nEnhetschef, Psykiatrin"


class RegionalCouncilFactory(CouncilFactory):
    name = factory.Sequence(lambda n: f"Regionalt samråd {n}")
    level = Council.Level.REGIONAL


class OrganizationFactory(DjangoModelFactory):
    class Meta:
        model = Organization
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Socialtjänst {n}")
    kind = Organization.Kind.SOCIAL_SERVICES
    principal_municipality = factory.SubFactory(MunicipalityFactory)
    principal_region = None
    contact_email = factory.Sequence(lambda n: f"yttrande{n}@org{n}.example.se")

    @factory.post_generation
    def domains(self, create, extracted, **kwargs):
        if create and extracted:
            for domain in extracted:
                EmailDomain.objects.create(organization=self, domain=domain)


class RegionOrganizationFactory(OrganizationFactory):
    name = factory.Sequence(lambda n: f"Psykiatri {n}")
    kind = Organization.Kind.PSYCHIATRY
    principal_municipality = None
    principal_region = factory.SubFactory(RegionFactory)


class EmailDomainFactory(DjangoModelFactory):
    class Meta:
        model = EmailDomain

    organization = factory.SubFactory(OrganizationFactory)
    domain = factory.Sequence(lambda n: f"org{n}.example.se")


class OrganizationIdentifierFactory(DjangoModelFactory):
    """An organisation number (or, with ``kind``, an HSA-id) a federated login may assert."""

    class Meta:
        model = OrganizationIdentifier

    organization = factory.SubFactory(OrganizationFactory)
    kind = OrganizationIdentifier.Kind.ORGANIZATION_NUMBER
    value = factory.Sequence(lambda n: f"212000{n:04d}")


class SamlIdentityProviderFactory(DjangoModelFactory):
    """A SAML IdP added in the admin, known by its metadata URL."""

    class Meta:
        model = SamlIdentityProvider

    name = factory.Sequence(lambda n: f"Identitetsleverantör {n}")
    entity_id = factory.Sequence(lambda n: f"https://idp{n}.example.se/saml")
    metadata_url = factory.LazyAttribute(lambda idp: f"{idp.entity_id}/metadata")


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    first_name = factory.Faker("first_name", locale="sv_SE")
    last_name = factory.Faker("last_name", locale="sv_SE")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.se")
    password = factory.django.Password(DEFAULT_PASSWORD)


class CouncilMembershipFactory(DjangoModelFactory):
    class Meta:
        model = CouncilMembership

    council = factory.SubFactory(CouncilFactory)
    user = factory.SubFactory(UserFactory)
    role = CouncilMembership.Role.COORDINATOR


class AgreementFactory(DjangoModelFactory):
    class Meta:
        model = Agreement

    code = factory.Sequence(lambda n: f"AGR{n}")
    name = factory.Sequence(lambda n: f"Överenskommelse {n}")
    valid_from = datetime.date(2020, 1, 1)
    valid_to = None


class CommitmentFactory(DjangoModelFactory):
    class Meta:
        model = Commitment

    agreement = factory.SubFactory(AgreementFactory)
    number = factory.Sequence(lambda n: n + 1)
    title = factory.Sequence(lambda n: f"Åtagande {n}")


class DeviationCategoryFactory(DjangoModelFactory):
    class Meta:
        model = DeviationCategory
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Kategori {n}")

    @factory.post_generation
    def agreements(self, create, extracted, **kwargs):
        if create and extracted:
            self.agreements.set(extracted)


class ContributingFactorFactory(DjangoModelFactory):
    """A main factor; pass ``parent`` for a sub-factor."""

    class Meta:
        model = ContributingFactor

    name = factory.Sequence(lambda n: f"Faktor {n}")


class DeviationFactory(DjangoModelFactory):
    """A submitted, routed report. Pass ``status=Status.UNCONFIRMED`` for one awaiting confirmation."""

    class Meta:
        model = Deviation
        skip_postgeneration_save = True

    reference = factory.Sequence(lambda n: f"SB-2026-{n + 1:05d}")
    status = Status.SUBMITTED
    agreement = factory.SubFactory(AgreementFactory)
    category = factory.SubFactory(DeviationCategoryFactory)
    occurred_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=3))
    reported_on = factory.LazyFunction(timezone.localdate)
    municipality = factory.SubFactory(MunicipalityFactory)
    council = factory.SubFactory(CouncilFactory)
    reporting_organization = factory.SubFactory(OrganizationFactory)
    description = "Patienten skrevs ut från slutenvården utan att socialtjänsten fick information."
    consequence = "Ingen insats var planerad vid hemkomsten."
    sip_involved = YesNoUnknown.NO
    discharge_involved = YesNoUnknown.YES
    reporter_name = "Rapportör Exempel"
    reporter_email = "rapportor@example.se"
    submitted_at = factory.LazyAttribute(lambda o: None if o.status == Status.UNCONFIRMED else timezone.now())

    @factory.post_generation
    def counterparts(self, create, extracted, **kwargs):
        if not create:
            return
        self.counterpart_organizations.set(
            extracted if extracted is not None else [RegionOrganizationFactory()]
        )

    @factory.post_generation
    def factors(self, create, extracted, **kwargs):
        if create and extracted:
            self.contributing_factors.set(extracted)


class FollowUpSummaryFactory(DjangoModelFactory):
    """A row of the follow-up summary; the services and ``deviations.summary.rebuild`` make the real ones."""

    class Meta:
        model = FollowUpSummary

    agreement_pk = 1
    basis = "reported_on"
    month = datetime.date(2026, 1, 1)
    council_pk = 0
    municipality_pk = 0
    measure = "total"
    n = 1


class FollowUpPendingFactory(FollowUpSummaryFactory):
    """A pending change to the follow-up summary; the services write the real ones."""

    class Meta:
        model = FollowUpPending


class DeviationEventFactory(DjangoModelFactory):
    class Meta:
        model = DeviationEvent

    deviation = factory.SubFactory(DeviationFactory)
    kind = DeviationEvent.Kind.NOTE
    text = "En intern anteckning."


class ResponseRequestFactory(DjangoModelFactory):
    class Meta:
        model = ResponseRequest

    deviation = factory.SubFactory(DeviationFactory, status=Status.AWAITING_RESPONSE)
    organization = factory.SubFactory(RegionOrganizationFactory)
    email = factory.LazyAttribute(lambda o: o.organization.contact_email or "yttrande@example.se")
    requested_by = factory.SubFactory(UserFactory)
    due_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=60))

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        """As the services do: the report's response summaries follow its requests."""
        from deviations.services.responses import sync_response_summaries

        request = super()._create(model_class, *args, **kwargs)
        sync_response_summaries([request.deviation_id])
        return request


class ResponseTemplateFactory(DjangoModelFactory):
    class Meta:
        model = ResponseTemplate

    title = factory.Sequence(lambda n: f"Standardtext {n}")
    purpose = ResponseTemplate.Purpose.REQUEST
    text_sv = "Beskriv hur er rutin ser ut och vad ni gör för att bristen inte ska upprepas."
    text_en = "Describe your routine and what you do so that the deviation does not recur."


class PendingNotificationFactory(DjangoModelFactory):
    class Meta:
        model = PendingNotification

    user = factory.SubFactory(UserFactory)
    subject = factory.Sequence(lambda n: f"Tilldelad dig: samverkansbrist SB-2026-{n + 1:05d}")
    link = "http://testserver/rapporter/SB-2026-00001/"


class SystemicIssueFactory(DjangoModelFactory):
    class Meta:
        model = SystemicIssue
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Systemfråga {n}")
    description = "Återkommande brist i informationsöverföringen vid utskrivning."
    created_by = factory.SubFactory(UserFactory)

    @factory.post_generation
    def agreements(self, create, extracted, **kwargs):
        if create and extracted:
            self.agreements.set(extracted)


class SystemicActionFactory(DjangoModelFactory):
    class Meta:
        model = SystemicAction

    issue = factory.SubFactory(SystemicIssueFactory)
    description = "Gemensam rutin för utskrivningsmeddelanden."
    owner = factory.SubFactory(RegionOrganizationFactory)
    due_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=90))


class AccessLogFactory(DjangoModelFactory):
    class Meta:
        model = AccessLog

    user = factory.SubFactory(UserFactory)
    deviation = factory.SubFactory(DeviationFactory)


class FollowUpAnalysisFactory(DjangoModelFactory):
    class Meta:
        model = FollowUpAnalysis

    agreement = factory.SubFactory(AgreementFactory)
    period_start = datetime.date(2026, 1, 1)
    period_end = datetime.date(2026, 12, 31)
    analysis = "Utskrivningar utan information återkommer."
    recommendations = "Gemensam rutin för utskrivningsmeddelanden."
    followup_areas = "SIP"
    author = factory.SubFactory(UserFactory)


class SavedFilterFactory(DjangoModelFactory):
    class Meta:
        model = SavedFilter

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Filter {n}")
    query = "status=submitted"


class TOTPDeviceFactory(DjangoModelFactory):
    """A confirmed authenticator app (random key); ``tests.identity.totp.code(device)`` gives its code."""

    class Meta:
        model = "otp_totp.TOTPDevice"

    user = factory.SubFactory(UserFactory)
    name = "Autentiseringsapp"
    confirmed = True
