"""Forms of the deviations app. Business rules live in ``services.reporting.report_errors``; forms
collect input, call the rules and put each error next to its field."""

import uuid
from collections import defaultdict
from functools import partial

from crispy_forms.helper import FormHelper
from crispy_forms.layout import HTML, Div, Fieldset, Layout, Submit
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.forms.models import ModelChoiceIteratorValue
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import cached_property
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement, Organization
from config.forms import CachedField

from . import pii, reference
from .models import SEVERITY_HELP, Severity, YesNoUnknown
from .services import reporting


class GroupedOptionsMixin:
    """Options in optgroups; each option gets ``data-group`` with its group's key, so
    ``static/js/report_form.js`` can show only the groups matching another field. ``group_keys`` (a
    list, or a callable giving it when the widget renders) is parallel to the field's choices
    (``None`` for ungrouped entries)."""

    group_keys: list = []

    def optgroups(self, name, value, attrs=None):
        groups = super().optgroups(name, value, attrs)
        keys = self.group_keys() if callable(self.group_keys) else self.group_keys
        for _group_name, options, index in groups:
            key = keys[index] if index < len(keys) else None
            if key is not None:
                for option in options:
                    option["attrs"]["data-group"] = str(key)
        return groups


class GroupedSelect(GroupedOptionsMixin, forms.Select):
    pass


class GroupedCheckboxSelectMultiple(GroupedOptionsMixin, forms.CheckboxSelectMultiple):
    """Checkboxes in groups; rendered by ``COUNTERPART_TEMPLATE`` (a fieldset per group) and enhanced
    with a filter field and a list of what is chosen by ``static/js/report_form.js``."""

    def optgroups(self, name, value, attrs=None):
        groups = super().optgroups(name, value, attrs)
        # One running number (id_x_0, id_x_1, ...) instead of Django's per-group "0_0", "1_0": the
        # error summary links a checkbox list's first box as ``<auto_id>_0``.
        if attrs and attrs.get("id"):
            options = (option for _group, group_options, _index in groups for option in group_options)
            for number, option in enumerate(options):
                option["attrs"]["id"] = f"{attrs['id']}_{number}"
        return groups


class SwedishOptionsMixin:
    """Options labelled with stored Swedish names (agreements, commitments, categories) get
    ``lang="sv"``, so an English page says which language they are in (WCAG 3.1.2). The empty choice is
    interface text and keeps the page's language."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        if value != "":
            option["attrs"]["lang"] = "sv"
        return option


class SwedishSelect(SwedishOptionsMixin, forms.Select):
    pass


class SwedishGroupedSelect(SwedishOptionsMixin, GroupedSelect):
    pass


class AgreementSelect(SwedishOptionsMixin, forms.Select):
    """Each agreement option carries its validity period, so the script can hide agreements that were
    not in force on the chosen date. The server checks it again (``report_errors``)."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        agreement = getattr(value, "instance", None)
        if agreement is not None:
            option["attrs"]["data-valid-from"] = agreement.valid_from.isoformat()
            if agreement.valid_to:
                option["attrs"]["data-valid-to"] = agreement.valid_to.isoformat()
        return option


def _grouped(groups, *, empty_label) -> tuple[list, list]:
    """Grouped choices ``[(label, [(value, label), ...]), ...]`` and their group keys, from
    ``[(key, label, [(value, label), ...]), ...]``; empty groups are left out."""
    choices, keys = [], []
    if empty_label is not None:
        choices.append(("", empty_label))
        keys.append(None)
    for key, label, options in groups:
        if options:
            choices.append((label, options))
            keys.append(key)
    return choices, keys


def _model_choices(field, instances) -> list:
    """The choices ``ModelChoiceIterator`` would give for ``instances``, without querying again."""
    choices = [] if field.empty_label is None else [("", field.empty_label)]
    return choices + [
        (ModelChoiceIteratorValue(field.prepare_value(o), o), field.label_from_instance(o)) for o in instances
    ]


class ReferenceChoiceField(forms.ModelChoiceField):
    """A ``ModelChoiceField`` that finds the submitted value among ``rows()`` (its queryset's rows by
    primary key, from ``deviations.reference``, set by the form) instead of querying the queryset: the
    same answers and errors, no statement."""

    rows = None

    def to_python(self, value):
        if value in self.empty_values:
            return None
        self.validate_no_null_characters(value)
        if isinstance(value, self.queryset.model):
            value = value.pk
        try:
            found = self.rows().get(self.queryset.model._meta.pk.get_prep_value(value))
        except (ValueError, TypeError):
            found = None
        if found is None:
            raise ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": value}
            )
        return found


class ReferenceMultipleChoiceField(forms.ModelMultipleChoiceField):
    """``ReferenceChoiceField`` for several values: a list of the chosen rows, in the queryset's order."""

    rows = None

    def _check_values(self, value):
        try:
            value = frozenset(value)
        except TypeError:
            raise ValidationError(self.error_messages["invalid_list"], code="invalid_list") from None
        rows, chosen = self.rows(), set()
        for pk in value:
            self.validate_no_null_characters(pk)
            try:
                key = self.queryset.model._meta.pk.get_prep_value(pk)
            except (ValueError, TypeError):
                raise ValidationError(
                    self.error_messages["invalid_pk_value"], code="invalid_pk_value", params={"pk": pk}
                ) from None
            # As ModelMultipleChoiceField: the value as written must be the key ("01" is not 1).
            if key not in rows or str(key) != str(pk):
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": pk}
                )
            chosen.add(key)
        return [row for key, row in rows.items() if key in chosen]


#: The reference data (``deviations.reference.ReferenceData``) each choice field of ``ReportForm`` is
#: checked against.
REFERENCE_ROWS = {
    "agreement": "agreement",
    "commitment": "commitment",
    "category": "category",
    "municipality": "municipality",
    "district": "district",
    "reporting_organization": "organization",
    "counterpart_organizations": "organization",
}

#: The choice fields of ``ReportForm`` whose lists come from ``ReportForm._choices``.
LISTED_CHOICES = (
    "agreement",
    "commitment",
    "category",
    "municipality",
    "district",
    "reporting_organization",
    "counterpart_organizations",
)
YES_NO_UNKNOWN = YesNoUnknown.choices
TEXTAREA = {"rows": 5}
COUNTERPART_TEMPLATE = "deviations/reporting/counterpart_field.html"


class ReportForm(forms.Form):
    """The deviation report (samverkansbrist). Works without JavaScript: dependent choices are grouped
    and the combination is validated on the server."""

    idempotency_key = forms.UUIDField(label=_("Formulärnyckel"), widget=forms.HiddenInput)
    concerns_child = forms.ChoiceField(
        label=_("Gäller bristen ett barn eller en ung person under 18 år?"),
        choices=[
            ("no", _("Nej, personen är 18 år eller äldre")),
            (reporting.CONCERNS_CHILD, _("Ja, personen är under 18 år")),
        ],
        widget=forms.RadioSelect,
        help_text=_("Brister i samverkan kring barn och unga rapporteras i BUS-processen, inte här."),
    )
    occurred_on = forms.DateField(
        label=_("Datum då bristen inträffade"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Ange ungefärligt datum om du inte vet exakt. Datumet kan inte ligga i framtiden."),
    )
    agreement = ReferenceChoiceField(
        label=_("Överenskommelse"),
        queryset=reference.agreements(),
        empty_label=_("Välj överenskommelse"),
        widget=AgreementSelect,
        help_text=_("Den överenskommelse som inte följdes. Den måste ha gällt när bristen inträffade."),
    )
    commitment = ReferenceChoiceField(
        label=_("Åtagande som bristen gäller"),
        queryset=reference.commitments(),
        required=False,
        widget=SwedishGroupedSelect,
        help_text=_("Frivilligt. Välj ett åtagande under den överenskommelse du valt."),
    )
    category = ReferenceChoiceField(
        label=_("Kategori"),
        queryset=reference.categories(),
        widget=SwedishGroupedSelect,
        help_text=_("Välj en kategori under den överenskommelse du valt."),
    )
    municipality = ReferenceChoiceField(
        label=_("Kommun där bristen inträffade"),
        queryset=reference.municipalities(),
        empty_label=_("Välj kommun"),
    )
    district = ReferenceChoiceField(
        label=_("Stadsdel"),
        queryset=reference.districts(),
        required=False,
        widget=GroupedSelect,
        help_text=_("Behövs bara för kommuner som är indelade i stadsdelar, som Stockholms stad."),
    )
    reporting_organization = ReferenceChoiceField(
        label=_("Din organisation"),
        queryset=reference.organizations(),
        widget=GroupedSelect,
        help_text=_("Den verksamhet du arbetar i och rapporterar från."),
    )
    counterpart_organizations = ReferenceMultipleChoiceField(
        label=_("Motpart(er)"),
        queryset=reference.organizations(),
        widget=GroupedCheckboxSelectMultiple,
        help_text=_("Den eller de organisationer som samverkan brast med. Du kan välja flera."),
    )
    description = forms.CharField(
        label=_("Vad hände"),
        max_length=5000,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text=_(
            "Beskriv vad som hände i samverkan, inte vem det gällde. Skriv inga namn, personnummer eller "
            "andra uppgifter som kan identifiera personen."
        ),
    )
    consequence = forms.CharField(
        label=_("Konsekvens för individen"),
        max_length=5000,
        widget=forms.Textarea(attrs=TEXTAREA),
        help_text=_("Vad blev följden för personen? Skriv utan namn och personnummer."),
    )
    severity = forms.ChoiceField(
        label=_("Hur allvarlig var följden för personen?"),
        choices=Severity.choices,
        required=False,
        widget=forms.RadioSelect,
        help_text=SEVERITY_HELP,
    )
    actions_taken = forms.CharField(
        label=_("Åtgärder som redan vidtagits"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    suggested_improvement = forms.CharField(
        label=_("Förslag till förbättring"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs=TEXTAREA),
    )
    sip_involved = forms.ChoiceField(
        label=_("Gällde det en SIP (samordnad individuell plan)?"),
        choices=YES_NO_UNKNOWN,
        widget=forms.RadioSelect,
    )
    discharge_involved = forms.ChoiceField(
        label=_("Gällde det utskrivning från slutenvård?"),
        choices=YES_NO_UNKNOWN,
        widget=forms.RadioSelect,
    )
    names_checked = forms.BooleanField(
        label=_("Jag har kontrollerat att texten inte innehåller namn"),
        required=False,
    )
    #: Which texts ``names_checked`` confirmed: a digest of them, rendered after a name warning. When
    #: any text changes afterwards, every text is checked again.
    names_checked_for = forms.CharField(required=False, widget=forms.HiddenInput)
    reporter_name = forms.CharField(label=_("Ditt namn"), max_length=150, widget=forms.TextInput())
    reporter_email = forms.EmailField(
        label=_("Din e-postadress i tjänsten"),
        help_text=_(
            "Utan konto måste adressen höra till en ansluten organisation. Dit skickar vi en länk som "
            "bekräftar rapporten, och senare återkopplingen."
        ),
    )
    reporter_phone = forms.CharField(label=_("Telefon"), max_length=40, required=False)

    def __init__(self, *args, user=None, **kwargs):
        self.user = user if user is not None and user.is_authenticated else None
        initial = kwargs.setdefault("initial", {})
        initial.setdefault("idempotency_key", uuid.uuid4())
        if self.user is not None:
            initial.setdefault("reporter_name", self.user.get_full_name())
            initial.setdefault("reporter_email", self.user.email)
            initial.setdefault("reporter_phone", self.user.phone)
            if self.user.organization_id:
                initial.setdefault("reporting_organization", self.user.organization_id)
        super().__init__(*args, **kwargs)
        self.name_warning = False
        self.names_digest = ""
        self._checked_report = None
        self.fields["occurred_on"].widget.attrs["max"] = timezone.localdate().isoformat()
        self.fields["reporter_name"].widget.attrs["autocomplete"] = "name"
        self.fields["reporter_email"].widget.attrs["autocomplete"] = "email"
        self.fields["reporter_phone"].widget.attrs["autocomplete"] = "tel"
        if self.user is not None:
            self.fields["reporter_email"].help_text = _("Dit skickar vi kvittot och senare återkopplingen.")
        # The lists of choices are loaded when a widget renders them, all at once (a valid POST never
        # renders them); validation looks up only the submitted values, as ModelChoiceField does.
        for name in LISTED_CHOICES:
            field = self.fields[name]
            field.choices = partial(self._choice_list, name)
            # What the choices are made of, for the key of their cached HTML (config.render_cache): the
            # reference data's version (the labels' language is in that key already).
            field.choices_digest = self._reference_version
            if isinstance(field.widget, GroupedOptionsMixin):
                field.widget.group_keys = partial(self._group_keys, name)
        # Validation finds the submitted values in the reference data kept by the process.
        for name, rows in REFERENCE_ROWS.items():
            self.fields[name].rows = partial(self._reference_rows, rows)

    @cached_property
    def _reference(self) -> reference.ReferenceData:
        return reference.current()

    def _reference_version(self) -> tuple:
        return ("reference data", self._reference.version)

    def _reference_rows(self, name) -> dict:
        return getattr(self._reference, name)

    def _choice_list(self, name):
        return self._choices[name][0]

    def _group_keys(self, name):
        return self._choices[name][1]

    @property
    def agreement_guide(self) -> list[Agreement]:
        """The agreements offered, each with ``scope``: what it covers, in plain Swedish."""
        return self._choices["agreements"]

    @property
    def first_agreement_date(self):
        """The earliest date an offered agreement applied from (``None`` without agreements)."""
        return min((a.valid_from for a in self.agreement_guide), default=None)

    @property
    def belongs_to_bus(self) -> bool:
        """The reporter answered that it concerns a child: the report belongs to the BUS process (set
        by ``clean``, before the refusal takes the answer out of ``cleaned_data``)."""
        return getattr(self, "_belongs_to_bus", False)

    @property
    def bus_url(self) -> str:
        return settings.BUS_URL

    @property
    def municipalities_with_districts(self) -> list[int]:
        return self._choices["municipalities_with_districts"]

    @property
    def known_names(self) -> list[str]:
        """Names of agreements, places and organisations: not names of people."""
        return self._choices["known_names"]

    @cached_property
    def _choices(self) -> dict:
        """Every list of choices, grouped, from the reference data the process keeps
        (``deviations.reference``: the same rows as the fields' querysets)."""
        fields, data = self.fields, self._reference
        agreements = list(data.agreement.values())
        commitments = defaultdict(list)
        for commitment in data.commitment.values():
            commitments[commitment.agreement_id].append((commitment.pk, str(commitment)))
        # The categories in order under each of their agreements (a category in several agreements is
        # listed under each).
        categories = defaultdict(list)
        for category in data.category.values():
            for agreement in category.agreements.all():
                categories[agreement.pk].append((category.pk, str(category)))
        municipalities = data.municipality
        districts = defaultdict(list)
        for district in data.district.values():
            districts[district.municipality_id].append((district.pk, str(district)))
        organizations = defaultdict(list)
        principals = {}
        for organization in data.organization.values():
            if organization.principal_region_id:
                principal = organization.principal_region
            else:
                principal = municipalities[organization.principal_municipality_id]
            key = (organization.principal_kind, principal.pk)
            principals[key] = principal
            organizations[key].append((organization.pk, str(organization)))
        order = sorted(
            principals, key=lambda k: (k[0] != Organization.PrincipalKind.REGION, str(principals[k]))
        )
        org_groups = [(None, str(principals[k]), organizations[k]) for k in order]
        by_agreement = [(a.pk, str(a)) for a in agreements]
        known_names = [str(a) for a in agreements] + [str(p) for p in principals.values()]
        known_names += [label for group in organizations.values() for _pk, label in group]
        known_names += [label for group in districts.values() for _pk, label in group]
        known_names += [str(m) for m in municipalities.values()]
        return {
            "agreements": agreements,
            "agreement": (_model_choices(fields["agreement"], agreements), []),
            "commitment": _grouped(
                [(pk, label, commitments[pk]) for pk, label in by_agreement],
                empty_label=_("Inget särskilt åtagande"),
            ),
            "category": _grouped(
                [(pk, label, categories[pk]) for pk, label in by_agreement], empty_label=_("Välj kategori")
            ),
            "municipality": (_model_choices(fields["municipality"], municipalities.values()), []),
            "district": _grouped(
                [(pk, str(municipalities[pk]), options) for pk, options in districts.items()],
                empty_label=_("Välj stadsdel"),
            ),
            "reporting_organization": _grouped(org_groups, empty_label=_("Välj organisation")),
            "counterpart_organizations": _grouped(org_groups, empty_label=None),
            "municipalities_with_districts": sorted(districts),
            "known_names": known_names,
        }

    def clean(self):
        cleaned = super().clean()
        self._belongs_to_bus = reporting.belongs_to_bus(cleaned)
        errors, self._checked_report = reporting.check_report(
            cleaned, reporter=self.user, reference_data=self._reference
        )
        for field, message in errors.items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
        if not any(field in self.errors for field in reporting.TEXT_FIELDS):
            self._warn_about_names(cleaned)
        return cleaned

    def _warn_about_names(self, cleaned):
        """A name in a text is an error on that field until the reporter removes it or confirms it is
        not a name. The confirmation holds for the texts it was given for only: after any change every
        text is checked again."""
        texts = {field: cleaned.get(field) or "" for field in reporting.TEXT_FIELDS}
        self.names_digest = salted_hmac(
            "deviations.ReportForm.names_checked", "\0".join(texts.values()), algorithm="sha256"
        ).hexdigest()
        if cleaned.get("names_checked") and cleaned.get("names_checked_for") == self.names_digest:
            return
        # Known names only take suspects away: without a suspect there is nothing to load them for.
        warnings = {
            field: names
            for field, text in texts.items()
            if (names := pii.suspected_names(text) and pii.suspected_names(text, known=self.known_names))
        }
        if not warnings:
            return
        self.name_warning = True
        # The box is shown again unticked, and confirms the texts as they are now once ticked.
        self.data = self.data.copy()
        self.data.pop("names_checked", None)
        self.data["names_checked_for"] = self.names_digest
        confirm = self.fields["names_checked"].label
        for field, names in warnings.items():
            message = _(
                "Texten verkar innehålla ett namn (”{name}”). Ta bort namn på personer, eller kryssa i "
                "rutan ”{confirm}” om det inte är ett namn."
            )
            self.add_error(field, format_lazy(message, name=names[0], confirm=confirm))
        fields = ", ".join(
            str(format_lazy(_("”{label}”"), label=self.fields[field].label)) for field in warnings
        )
        message = _("Kontrollera {fields}: kryssa i rutan om det som markerats inte är namn på personer.")
        self.add_error("names_checked", format_lazy(message, fields=fields))

    @property
    def checked_report(self) -> "reporting.CheckedReport | None":
        """The valid form's report as the service checked it (``reporting.check_report``), to file with
        ``reporting.submit_deviation`` without checking its rules a second time; ``None`` unless valid."""
        if not self.is_valid():
            return None
        return self._checked_report

    @property
    def show_names_checked(self) -> bool:
        return self.name_warning or bool(self.data.get("names_checked"))

    @property
    def helper(self):
        helper = FormHelper(self)
        helper.form_method = "post"
        helper.attrs = {"novalidate": "", "id": "report-form"}
        # The fields' HTML comes from the cache while the form is unbound (config.forms.CachedField):
        # not the form key, nor the reporter's own name and addresses.
        helper.layout = Layout(
            "idempotency_key",
            # Asked first: reports about children go to the BUS process (report_form.js shows the rest
            # of the form only after "Nej").
            CachedField("concerns_child"),
            HTML('{% include "deviations/reporting/bus_notice.html" %}'),
            Div(
                Fieldset(
                    _("Vad gäller bristen?"),
                    CachedField("occurred_on"),
                    CachedField("agreement"),
                    HTML('{% include "deviations/reporting/agreement_guide.html" %}'),
                    CachedField("commitment"),
                    CachedField("category"),
                ),
                Fieldset(_("Var inträffade den?"), CachedField("municipality"), CachedField("district")),
                Fieldset(
                    _("Mellan vilka organisationer?"),
                    CachedField("reporting_organization"),
                    CachedField("counterpart_organizations", template=COUNTERPART_TEMPLATE),
                ),
                Fieldset(
                    _("Beskrivning"),
                    HTML(
                        format_lazy(
                            '<p class="alert alert-warning">{}</p>',
                            _(
                                "Beskriv vad som hände i samverkan – inte vem det gällde. Skriv aldrig namn, "
                                "personnummer, samordningsnummer eller andra uppgifter som kan identifiera "
                                "personen."
                            ),
                        )
                    ),
                    *(
                        CachedField(name)
                        for name in (
                            "description",
                            "consequence",
                            "severity",
                            "actions_taken",
                            "suggested_improvement",
                            "sip_involved",
                            "discharge_involved",
                        )
                    ),
                    *(["names_checked", "names_checked_for"] if self.show_names_checked else []),
                ),
                Fieldset(_("Dina kontaktuppgifter"), "reporter_name", "reporter_email", "reporter_phone"),
                Submit("submit", _("Skicka rapporten")),
                css_id="report-details",
            ),
        )
        return helper
