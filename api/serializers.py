"""What the API shows. Reports never carry the reporter's contact data (name, e-mail, phone, account)."""

from rest_framework import serializers

from deviations.models import Deviation, SystemicAction, SystemicIssue


class NamedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class AgreementRefSerializer(NamedSerializer):
    code = serializers.CharField()


class CommitmentRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.IntegerField()
    title = serializers.CharField()


class ReportSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display")
    agreement = AgreementRefSerializer()
    category = NamedSerializer()
    commitment = CommitmentRefSerializer(allow_null=True)
    municipality = NamedSerializer()
    district = NamedSerializer(allow_null=True)
    council = NamedSerializer(allow_null=True)
    reporting_organization = NamedSerializer()
    counterpart_organizations = NamedSerializer(many=True)
    systemic_issue = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = Deviation
        fields = [
            "reference",
            "status",
            "status_label",
            "agreement",
            "category",
            "commitment",
            "occurred_on",
            "reported_on",
            "municipality",
            "district",
            "council",
            "reporting_organization",
            "counterpart_organizations",
            "description",
            "consequence",
            "actions_taken",
            "suggested_improvement",
            "sip_involved",
            "discharge_involved",
            "systemic_issue",
            "submitted_at",
            "first_response_at",
            "closed_at",
        ]
        read_only_fields = fields


class SystemicActionSerializer(serializers.ModelSerializer):
    owner = NamedSerializer(allow_null=True)

    class Meta:
        model = SystemicAction
        fields = ["id", "description", "owner", "due_on", "state"]
        read_only_fields = fields


class SystemicIssueSerializer(serializers.ModelSerializer):
    agreements = AgreementRefSerializer(many=True)
    report_count = serializers.IntegerField()
    actions = SystemicActionSerializer(many=True)

    class Meta:
        model = SystemicIssue
        fields = ["id", "title", "description", "state", "outcome", "agreements", "report_count", "actions"]
        read_only_fields = fields


# --- Follow-up statistics -------------------------------------------------------------------------


class CountRowSerializer(serializers.Serializer):
    label = serializers.CharField()
    #: Below the small-number threshold outside the regional level: "< 3" instead of a number.
    count = serializers.JSONField()
    share = serializers.JSONField(allow_null=True)


class DurationSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    median_days = serializers.FloatField(allow_null=True)
    p90_days = serializers.FloatField(allow_null=True)


class StatisticsSerializer(serializers.Serializer):
    agreement = AgreementRefSerializer()
    period = serializers.DictField()
    scope = serializers.DictField()
    basis = serializers.CharField()
    masked = serializers.BooleanField()
    total = serializers.IntegerField()
    summary = serializers.DictField()
    by_month = serializers.ListField(child=serializers.DictField())
    by_category = CountRowSerializer(many=True)
    by_commitment = CountRowSerializer(many=True)
    by_organization_pair = serializers.ListField(child=serializers.DictField())
    by_principal_pair = serializers.ListField(child=serializers.DictField())
    durations = serializers.DictField(child=DurationSerializer())

    def to_representation(self, stats):
        return {
            "agreement": {
                "id": stats.agreement.pk,
                "code": stats.agreement.code,
                "name": stats.agreement.name,
            },
            "period": {"start": stats.period.start, "end": stats.period.end, "label": stats.period.label},
            "scope": {
                "kind": stats.scope.kind,
                "label": str(stats.scope.label),
                "council": stats.scope.council.pk if stats.scope.council else None,
                "municipality": stats.scope.municipality.pk if stats.scope.municipality else None,
            },
            "basis": stats.basis,
            "masked": stats.masked,
            "total": stats.total,
            "summary": _plain(stats.summary),
            "by_month": _plain(stats.by_month),
            "by_category": _plain(stats.by_category),
            "by_commitment": _plain(stats.by_commitment),
            "by_organization_pair": _plain(stats.by_organization_pair),
            "by_principal_pair": _plain(stats.by_principal_pair),
            "durations": _plain(stats.durations),
        }


def _plain(value):
    """Lazy strings and model instances in the statistics' rows as JSON-friendly values."""
    import datetime

    from django.db.models import Model
    from django.utils.functional import Promise

    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, Model):
        return {"id": value.pk, "name": str(value)}
    if isinstance(value, datetime.date | datetime.datetime):
        return value.isoformat()
    return value
