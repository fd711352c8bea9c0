"""Forms of the triage pages. They validate input only; the services decide and write."""

import datetime

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement, ContributingFactor, Organization
from councils.models import Council

from .fields import DigestedModelChoiceField, ModelChoiceField, ModelMultipleChoiceField
from .models import (
    CONTACT_DETAIL_FIELDS,
    Deviation,
    ResponseTemplate,
    SavedFilter,
    SystemicAction,
    SystemicIssue,
)
from .selectors import ASSIGNEE_LABEL_FIELDS, EVERYWHERE
from .services.bulk import MAX_REPORTS
from .workflow import RejectReason

DATE_INPUT = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
TEXT_MAX = 10_000


class TemplateSelect(forms.Select):
    """A select of standard texts; each option carries its text (``data-text``), which
    static/js/response_templates.js inserts into the form's text field on choice."""

    def __init__(self, *args, texts=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.texts = texts or {}

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if str(value) in self.texts:
            option["attrs"]["data-text"] = self.texts[str(value)]
        return option


class StandardTextMixin:
    """Adds a choice of the administrators' standard texts (``ResponseTemplate``) for ``purpose`` before
    the text field ``target``. Without JavaScript the "use template" button posts the form and the
    view renders it again with the text inserted (``initial_with_template``)."""

    USE_TEMPLATE = "use_template"

    def add_standard_texts(self, *, purpose: str | None, deviation, target: str) -> None:
        self.template_target = target
        if purpose is None:
            return
        texts, choices = {}, [("", _("Välj en standardtext"))]
        for template in ResponseTemplate.objects.for_report(purpose=purpose, deviation=deviation):
            for language, text, label in (
                ("sv", template.text_sv, _("%(title)s (svenska)")),
                ("en", template.text_en, _("%(title)s (engelska)")),
            ):
                if text.strip():
                    value = f"{template.pk}:{language}"
                    choices.append((value, label % {"title": template.title}))
                    texts[value] = text.strip()
        if len(choices) == 1:
            return
        self.fields["template"] = forms.ChoiceField(
            label=_("Standardtext"),
            required=False,
            choices=choices,
            widget=TemplateSelect(texts=texts, attrs={"data-template-target": f"id_{target}"}),
            help_text=_("Infogas i textfältet nedan, där du kan ändra den."),
        )
        self.template_texts = texts
        order = list(self.fields)
        order.remove("template")
        order.insert(order.index(target), "template")
        self.order_fields(order)

    def initial_with_template(self) -> dict:
        """The submitted values as initial data, with the chosen standard text added to the text field
        (after what is already written)."""
        values = {name: self[name].value() for name in self.fields if name != "template"}
        text = getattr(self, "template_texts", {}).get(self.data.get(self.add_prefix("template"), ""))
        if text:
            written = (values.get(self.template_target) or "").strip()
            values[self.template_target] = f"{written}\n\n{text}" if written else text
        return values


#: Which standard texts a transition's form offers.
STANDARD_TEXT_PURPOSE = {
    "close": ResponseTemplate.Purpose.FEEDBACK,
    "reject": ResponseTemplate.Purpose.REJECTION,
}


class TransitionForm(StandardTextMixin, forms.Form):
    """The comment of a transition; required when the table says so (motivation, feedback, reason)."""

    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 5}), max_length=TEXT_MAX)

    def __init__(self, *args, transition, deviation=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.transition = transition
        field = self.fields["text"]
        field.required = transition.needs_text
        field.label = transition.text_label or _("Kommentar (valfri)")
        if transition.text_visible_to_reporter:
            field.help_text = _("Texten visas för rapportören.")
        else:
            field.help_text = _("Texten är intern och visas inte för rapportören.")
        field.error_messages["required"] = _("%(label)s måste fyllas i.") % {"label": field.label}
        self.add_standard_texts(
            purpose=STANDARD_TEXT_PURPOSE.get(transition.action) if deviation else None,
            deviation=deviation,
            target="text",
        )


class RejectForm(TransitionForm):
    reason = forms.ChoiceField(label=_("Avvisningsorsak"), choices=RejectReason.choices)
    duplicate_reference = forms.CharField(
        label=_("Referensnummer för rapporten det är en dubblett av"),
        required=False,
        max_length=20,
        help_text=_("T.ex. SB-2026-00042. Krävs när orsaken är dubblett."),
    )
    field_order = ["reason", "duplicate_reference", "text"]

    def __init__(self, *args, deviation, visible_reports, **kwargs):
        super().__init__(*args, deviation=deviation, **kwargs)
        self.deviation = deviation
        self.visible_reports = visible_reports
        self.duplicate_of = None

    def clean(self):
        cleaned = super().clean()
        reference = (cleaned.get("duplicate_reference") or "").strip().upper()
        if cleaned.get("reason") == RejectReason.DUPLICATE:
            if not reference:
                self.add_error("duplicate_reference", _("Ange referensnumret för den andra rapporten."))
            elif reference == self.deviation.reference:
                self.add_error("duplicate_reference", _("En rapport kan inte vara dubblett av sig själv."))
            else:
                self.duplicate_of = self.visible_reports.filter(reference=reference).first()
                if self.duplicate_of is None:
                    self.add_error(
                        "duplicate_reference",
                        _("Det finns ingen rapport med det referensnumret som du kan se."),
                    )
        return cleaned


class RerouteForm(TransitionForm):
    council = ModelChoiceField(label=_("Flytta till samråd"), queryset=Council.objects.none())
    field_order = ["council", "text"]

    def __init__(self, *args, deviation, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["council"].queryset = Council.objects.filter(
            active=True, level=Council.Level.LOCAL
        ).exclude(pk=deviation.council_id)


class ResponseRequestForm(StandardTextMixin, forms.Form):
    organizations = ModelMultipleChoiceField(
        label=_("Organisationer som ska yttra sig"),
        queryset=Organization.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Välj minst en organisation.")},
    )
    message = forms.CharField(
        label=_("Meddelande till organisationen (valfritt)"),
        required=False,
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Skriv inga personuppgifter. Meddelandet visas i svarsformuläret, inte i e-posten."),
    )
    due_on = forms.DateField(label=_("Svar senast"), widget=DATE_INPUT)

    def __init__(self, *args, deviation, today, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        ids = [
            deviation.reporting_organization_id,
            *deviation.counterpart_organizations.values_list("pk", flat=True),
        ]
        self.fields["organizations"].queryset = Organization.objects.filter(pk__in=ids, active=True).order_by(
            "name"
        )
        self.fields["due_on"].initial = today + datetime.timedelta(days=settings.RESPONSE_DEADLINE_DAYS)
        self.add_standard_texts(
            purpose=ResponseTemplate.Purpose.REQUEST, deviation=deviation, target="message"
        )

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        if due_on <= self.today:
            raise forms.ValidationError(_("Svarsdatumet måste ligga i framtiden."))
        return due_on


class ExtendDeadlineForm(forms.Form):
    """A later due date for an open response request (the service checks it against the current one)."""

    due_on = forms.DateField(label=_("Nytt svarsdatum"), widget=DATE_INPUT)


class NoteForm(forms.Form):
    text = forms.CharField(
        label=_("Anteckning"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=TEXT_MAX,
        error_messages={"required": _("Anteckningen får inte vara tom.")},
    )


class FactorsForm(forms.Form):
    """The contributing factors of a report. The template lists them grouped by main factor, each group a
    fieldset (``factor_groups``); what may be chosen is the service's rule."""

    factors = ModelMultipleChoiceField(
        label=_("Bidragande faktorer"),
        queryset=ContributingFactor.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )


class AssignForm(forms.Form):
    assignee = DigestedModelChoiceField(
        label=_("Handläggare"),
        queryset=None,
        required=False,
        empty_label=_("Ingen (ta bort tilldelning)"),
        label_fields=ASSIGNEE_LABEL_FIELDS,
        label_from_instance=lambda u: u.get_full_name() or u.username,
    )

    def __init__(self, *args, users, users_digest=None, **kwargs):
        """``users``: whom the report may be assigned to; ``users_digest``: a function returning the
        digest of their choices (``selectors.assignable_users_digest``), when there is one."""
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = users
        self.fields["assignee"].digest_of_queryset = users_digest


class ResponseAnswerForm(forms.Form):
    answered_by_name = forms.CharField(
        label=_("Ditt namn och din funktion"),
        max_length=150,
        help_text=_("T.ex. enhetschef, Psykiatri Södra."),
    )
    what_happened = forms.CharField(
        label=_("Vad hände enligt er?"), widget=forms.Textarea(attrs={"rows": 6}), max_length=TEXT_MAX
    )
    actions = forms.CharField(
        label=_("Åtgärder som vidtagits eller planeras"),
        widget=forms.Textarea(attrs={"rows": 6}),
        max_length=TEXT_MAX,
    )


class SystemicIssueForm(forms.ModelForm):
    agreements = ModelMultipleChoiceField(
        label=_("Överenskommelser"),
        queryset=Agreement.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Välj minst en överenskommelse.")},
    )

    class Meta:
        model = SystemicIssue
        fields = ["title", "description", "agreements", "state", "outcome"]
        widgets = {
            "description": forms.Textarea(attrs={"rows": 5}),
            "outcome": forms.Textarea(attrs={"rows": 4}),
        }

    def clean(self):
        cleaned = super().clean()
        if (
            cleaned.get("state") == SystemicIssue.State.RESOLVED
            and not (cleaned.get("outcome") or "").strip()
        ):
            self.add_error("outcome", _("Beskriv resultatet när frågan är löst."))
        return cleaned


class SystemicActionForm(forms.ModelForm):
    class Meta:
        model = SystemicAction
        fields = ["description", "owner", "due_on"]
        widgets = {"description": forms.Textarea(attrs={"rows": 3}), "due_on": DATE_INPUT}

    def __init__(self, *args, today=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.today = today
        self.fields["owner"].empty_label = _("Välj organisation")
        if today is not None:
            self.fields["due_on"].widget.attrs["min"] = today.isoformat()

    def clean_due_on(self):
        due_on = self.cleaned_data["due_on"]
        if self.today is not None and due_on < self.today:
            raise forms.ValidationError(_("Datumet kan inte ligga i det förflutna."))
        return due_on


class SystemicActionStateForm(forms.Form):
    state = forms.ChoiceField(label=_("Status"), choices=SystemicAction.State.choices)


class LinkReportForm(forms.Form):
    reference = forms.CharField(label=_("Referensnummer"), max_length=20, help_text=_("T.ex. SB-2026-00042."))

    def __init__(self, *args, visible_reports, **kwargs):
        super().__init__(*args, **kwargs)
        self.visible_reports = visible_reports
        self.deviation = None

    def clean_reference(self):
        reference = self.cleaned_data["reference"].strip().upper()
        self.deviation = self.visible_reports.filter(reference=reference).first()
        if self.deviation is None:
            raise forms.ValidationError(_("Det finns ingen rapport med det referensnumret."))
        return reference


def _unresolved_issues():
    return SystemicIssue.objects.exclude(state=SystemicIssue.State.RESOLVED).order_by("title")


#: How many systemic issues the report page offers: the unresolved issues of the report's agreement that
#: changed last. The list stays the same size however many issues there are; any other issue is linked
#: from its own page (``LinkReportForm``, with the warning when the agreements differ).
ISSUE_CHOICES = 50


def _issues_of_agreement(agreement_pk: int):
    """The ``ISSUE_CHOICES`` unresolved issues of an agreement changed last, by title."""
    recent = (
        SystemicIssue.objects.exclude(state=SystemicIssue.State.RESOLVED)
        .filter(agreements=agreement_pk)
        .order_by("-updated_at", "-pk")
        .values("pk")[:ISSUE_CHOICES]
    )
    return SystemicIssue.objects.filter(pk__in=recent).order_by("title", "pk")


#: The digest of the report page's choices, compiled once per process (the list is on every report page
#: of the regional level).
_ISSUES_OF_AGREEMENT_DIGEST = DigestedModelChoiceField.compiled_digest(
    SystemicIssue, _issues_of_agreement, int, label_fields=("title",)
)


class LinkToIssueForm(forms.Form):
    """The detail page's choice of a systemic issue for the report. Rendered for a report (``agreement``):
    the ``ISSUE_CHOICES`` unresolved issues of its agreement changed last. Accepted: any unresolved issue
    (the view asks to confirm a link across agreements)."""

    issue = DigestedModelChoiceField(
        label=_("Systemfråga"),
        queryset=_unresolved_issues(),
        label_fields=("title",),
        label_from_instance=lambda issue: issue.title,
        empty_label=_("Välj systemfråga"),
        error_messages={"required": _("Välj en systemfråga."), "invalid_choice": _("Välj en systemfråga.")},
        help_text=_(
            "Öppna systemfrågor för rapportens överenskommelse, de senast ändrade. "
            "En annan fråga kopplar du från frågans egen sida."
        ),
    )

    def __init__(self, *args, agreement_pk: int | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        if agreement_pk is not None:
            field = self.fields["issue"]
            field.queryset = _issues_of_agreement(agreement_pk)
            field.digest_of_queryset = lambda: _ISSUES_OF_AGREEMENT_DIGEST.read(agreement_pk)[0][0]


class ResolveIssueForm(forms.Form):
    outcome = forms.CharField(
        label=_("Resultat"), widget=forms.Textarea(attrs={"rows": 4}), max_length=TEXT_MAX
    )
    feedback = forms.CharField(
        label=_("Återkoppling till rapportörerna (valfri)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        max_length=TEXT_MAX,
        help_text=_("Visas för rapportören på varje kopplad rapport och aviseras per e-post."),
    )
    close_open_reports = forms.BooleanField(
        label=_("Avsluta kopplade öppna rapporter med denna återkoppling"), required=False
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("close_open_reports") and not (cleaned.get("feedback") or "").strip():
            self.add_error("feedback", _("Skriv återkopplingen som de avslutade rapporterna ska få."))
        return cleaned


class RedactForm(forms.Form):
    """A passage to remove from the report's texts (``services.redaction``)."""

    target = forms.ChoiceField(label=_("Var finns texten?"), choices=())
    passage = forms.CharField(
        label=_("Text som ska tas bort"),
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_(
            "Kopiera texten som den står på sidan. Varje förekomst ersätts med [borttaget] och "
            "originalet raderas; det går inte att ångra."
        ),
    )
    reason = forms.CharField(
        label=_("Skäl"),
        max_length=500,
        help_text=_("Sparas i rapportens händelselogg. Upprepa inte texten som tas bort."),
    )

    def __init__(self, *args, texts, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [
            (EVERYWHERE, _("Alla texter i rapporten")),
            *((text.key, text.label) for text in texts),
        ]
        self.fields["target"].initial = EVERYWHERE


class EraseContactForm(forms.Form):
    """Why the reporter's contact details are erased before their retention (``services.retention``).
    Prefixed: the report's page holds the redaction form's ``reason`` too."""

    prefix = "kontakt"
    reason = forms.CharField(
        label=_("Skäl"),
        max_length=500,
        help_text=_(
            "Till exempel att rapportören har begärt radering. Sparas i rapportens händelselogg; skriv "
            "inte kontaktuppgifterna här."
        ),
    )


class ContactDetailsForm(forms.ModelForm):
    """The reporter's contact details as they should be, and why (``services.contacts``). Never saved
    as a model form: the service writes them and records the correction."""

    prefix = "rattelse"
    reason = forms.CharField(
        label=_("Skäl"),
        max_length=500,
        help_text=_(
            "Till exempel att rapportören har meddelat en ny e-postadress. Sparas i rapportens händelselogg; "
            "skriv inte kontaktuppgifterna här."
        ),
    )

    class Meta:
        model = Deviation
        fields = CONTACT_DETAIL_FIELDS
        # Someone else's details: the browser must not offer the staff member's own.
        widgets = {
            "reporter_name": forms.TextInput(attrs={"autocomplete": "off"}),
            "reporter_email": forms.EmailInput(attrs={"autocomplete": "off"}),
            "reporter_phone": forms.TextInput(attrs={"autocomplete": "off"}),
        }


class ReferenceListField(forms.Field):
    """The references of the rows ticked in a queue (several values of one name), without repeats."""

    widget = forms.MultipleHiddenInput
    default_error_messages = {
        "required": _("Markera minst en rapport."),
        "too_many": _("Markera högst %(n)d rapporter åt gången."),
        "invalid": _("Ogiltigt referensnummer."),
    }

    def to_python(self, value):
        if not value:
            return []
        if isinstance(value, str):
            value = [value]
        references = list(dict.fromkeys(str(v).strip().upper() for v in value if str(v).strip()))
        if len(references) > MAX_REPORTS:
            raise forms.ValidationError(self.error_messages["too_many"] % {"n": MAX_REPORTS}, code="too_many")
        if any(len(reference) > 20 for reference in references):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return references


class BulkActionForm(forms.Form):
    """An action on the rows ticked in a queue."""

    queue = forms.ChoiceField(choices=SavedFilter.Queue.choices, widget=forms.HiddenInput)
    action = forms.ChoiceField(
        label=_("Åtgärd"),
        choices=[("assign", _("Tilldela handläggare")), ("start_triage", _("Påbörja bedömning"))],
    )
    assignee = ModelChoiceField(label=_("Tilldela till"), queryset=None, required=False, empty_label=None)
    reports = ReferenceListField()

    def __init__(self, *args, users, listed_users=None, **kwargs):
        """``users``: whom the form may assign to (a queryset); ``listed_users``: those users, when the
        caller has read them already (the choices are then made of them instead of a query)."""
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        field.queryset = users
        field.label_from_instance = lambda u: u.get_full_name() or u.username
        if listed_users is not None:
            # As ModelChoiceIterator makes them (value: the primary key), without its query.
            empty = [("", field.empty_label)] if field.empty_label is not None else []
            field.choices = empty + [(u.pk, field.label_from_instance(u)) for u in listed_users]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "assign" and not cleaned.get("assignee"):
            self.add_error("assignee", _("Välj vem rapporterna ska tilldelas."))
        return cleaned


class SaveFilterForm(forms.Form):
    """The queue's current filter under a name, for oneself or shared with a council."""

    queue = forms.ChoiceField(choices=SavedFilter.Queue.choices, widget=forms.HiddenInput)
    query = forms.CharField(required=False, max_length=2000, widget=forms.HiddenInput)
    name = forms.CharField(label=_("Namn på filtret"), max_length=100)
    council = forms.TypedChoiceField(label=_("Dela med"), coerce=int, required=False, empty_value=None)

    def __init__(self, *args, councils, **kwargs):
        """``councils``: (id, name) of the councils the user may share with (their own)."""
        super().__init__(*args, **kwargs)
        self.fields["council"].choices = [("", _("Ingen (bara för mig)")), *councils]
        self.fields["name"].error_messages["required"] = _("Ge filtret ett namn.")
