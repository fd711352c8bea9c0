"""The read API, /api/v1/. Every resource starts from the same selectors as the web pages, so it shows a
user exactly what the pages show them (tests/security/test_access_matrix.py covers both)."""

import django_filters
from django.db.models import Prefetch
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from agreements.models import Organization
from config.db_routing import replica_reads
from deviations import selectors
from deviations.models import Deviation, SystemicIssue
from deviations.services.access import record_access
from deviations.workflow import Status
from followup import selectors as followup
from followup.forms import FollowUpForm

from .serializers import ReportSerializer, StatisticsSerializer, SystemicIssueSerializer

API_VERSION = "1.0.0"


class ApiInfoView(APIView):
    """``/api/v1/api-info``: what this API is (the national REST API profile's info resource)."""

    permission_classes = [AllowAny]

    @extend_schema(
        summary=_("Om API:t"),
        description=_("Namn, version, status och var dokumentationen finns. Kräver ingen inloggning."),
        responses=inline_serializer(
            "ApiInfo",
            {
                "apiName": serializers.CharField(),
                "apiVersion": serializers.CharField(),
                "apiReleased": serializers.DateField(),
                "apiDocumentation": serializers.URLField(),
                "apiStatus": serializers.CharField(),
                "description": serializers.CharField(),
            },
        ),
    )
    def get(self, request):
        return Response(
            {
                "apiName": "samverkansbrister",
                "apiVersion": API_VERSION,
                "apiReleased": "2026-12-01",
                "apiDocumentation": request.build_absolute_uri(reverse("api_pages:documentation")),
                "apiStatus": "active",
                "description": str(
                    _("Läs-API för samverkansbrister: rapporter, systemfrågor och uppföljningsstatistik.")
                ),
            }
        )


class ReportFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(
        choices=[c for c in Status.choices if c[0] != Status.UNCONFIRMED], distinct=False
    )
    agreement = django_filters.CharFilter(field_name="agreement__code", help_text="PSYK, MISSBRUK, SPEL …")
    council = django_filters.NumberFilter(field_name="council_id")
    municipality = django_filters.NumberFilter(field_name="municipality_id")
    reported_from = django_filters.DateFilter(field_name="reported_on", lookup_expr="gte")
    reported_to = django_filters.DateFilter(field_name="reported_on", lookup_expr="lte")

    class Meta:
        model = Deviation
        fields = []


def _reports(user):
    return (
        selectors.deviations_visible_to(user)
        .select_related(
            "agreement",
            "category",
            "commitment",
            "municipality",
            "district",
            "council",
            "reporting_organization",
        )
        .prefetch_related(
            Prefetch("counterpart_organizations", queryset=Organization.objects.only("name").order_by("name"))
        )
    )


@extend_schema(
    summary=_("Rapporter"), description=_("Rapporter som du får se, nyast först, utan kontaktuppgifter.")
)
class ReportList(generics.ListAPIView):
    serializer_class = ReportSerializer
    filterset_class = ReportFilter

    def get_queryset(self):
        return _reports(self.request.user).order_by("-created_at", "-id")

    def list(self, request, *args, **kwargs):
        # A filter named without a value is a mistake in the call, not "no filter".
        empty = [name for name in ReportFilter.base_filters if request.query_params.get(name, None) == ""]
        if empty:
            raise ValidationError({name: [_("Ange ett värde.")] for name in empty})
        return super().list(request, *args, **kwargs)


@extend_schema(summary=_("En rapport"), description=_("Rapporten med referensnumret, om du får se den."))
class ReportDetail(generics.RetrieveAPIView):
    serializer_class = ReportSerializer
    lookup_field = "reference"
    lookup_url_kwarg = "reference"

    def get_queryset(self):
        return _reports(self.request.user)

    def get_object(self):
        deviation = super().get_object()
        # Like the detail page: who read which report is logged (AccessLog).
        record_access(user=self.request.user, deviation=deviation)
        return deviation


def _require_regional(user):
    if not selectors.sees_whole_county(user):
        raise NotFound


def _issues(view):
    if getattr(view, "swagger_fake_view", False):  # the schema generator has no user
        return SystemicIssue.objects.none()
    _require_regional(view.request.user)
    return selectors.systemic_issues().prefetch_related("actions__owner")


@extend_schema(summary=_("Systemfrågor"), description=_("Regional nivå: systemfrågor med åtgärder."))
class SystemicIssueList(generics.ListAPIView):
    serializer_class = SystemicIssueSerializer

    def get_queryset(self):
        return _issues(self).order_by("-pk")


@extend_schema(summary=_("En systemfråga"))
class SystemicIssueDetail(generics.RetrieveAPIView):
    serializer_class = SystemicIssueSerializer

    def get_queryset(self):
        return _issues(self)


STATISTICS_PARAMETERS = [
    OpenApiParameter("agreement", OpenApiTypes.INT, required=True, description=_("Överenskommelsens id.")),
    OpenApiParameter(
        "period_type",
        OpenApiTypes.STR,
        enum=["year", "half", "quarter", "custom"],
        description=_("Periodtyp."),
    ),
    OpenApiParameter("year", OpenApiTypes.INT, description=_("År (helår, halvår, kvartal).")),
    OpenApiParameter("half", OpenApiTypes.INT, enum=[1, 2]),
    OpenApiParameter("quarter", OpenApiTypes.INT, enum=[1, 2, 3, 4]),
    OpenApiParameter("start", OpenApiTypes.DATE, description=_("Egna datum: från och med.")),
    OpenApiParameter("end", OpenApiTypes.DATE, description=_("Egna datum: till och med.")),
    OpenApiParameter(
        "scope", OpenApiTypes.STR, description=_("county, council:<id> eller municipality:<id>.")
    ),
    OpenApiParameter("basis", OpenApiTypes.STR, enum=["reported_on", "occurred_on"]),
]


class StatisticsView(APIView):
    """The follow-up figures of one agreement, period and scope, as on the follow-up page (with the
    small-number rule outside the regional level)."""

    @extend_schema(
        summary=_("Uppföljningsstatistik"),
        description=_(
            "Uppföljningens siffror för en överenskommelse, period och område, som på sidan Uppföljning. "
            "Utanför regional nivå visas små antal som ”< 3”."
        ),
        parameters=STATISTICS_PARAMETERS,
        responses=StatisticsSerializer,
    )
    @method_decorator(replica_reads)
    def get(self, request):
        options = followup.scope_options(request.user)
        if not options["county"] and not options["councils"]:
            raise NotFound
        data = {**FollowUpForm.initial_data(options=options), **request.query_params.dict()}
        form = FollowUpForm(data, options=options)
        if not form.is_valid():
            raise ValidationError({field: [str(e) for e in errors] for field, errors in form.errors.items()})
        cleaned = form.cleaned_data
        stats = followup.followup_statistics(
            agreement=cleaned["agreement"],
            period=cleaned["period"],
            scope=cleaned["scope_obj"],
            basis=cleaned["basis"],
            masked=not options["regional"],
        )
        return Response(StatisticsSerializer(stats).data)
