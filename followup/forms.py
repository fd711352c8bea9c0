"""Forms of the follow-up page (choosing what to follow up, the regional council's analysis) and of the
council meetings (the pack's dates, recording a meeting, the decisions taken at it)."""

import datetime
import re

from django import forms
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from agreements.models import Agreement
from councils.models import CouncilMeeting

from .meeting_pack import since_previous_meeting
from .selectors import DateBasis, Period, PeriodType, Scope
from .services import TEXT_FIELDS

MAX_CUSTOM_DAYS = 366 * 10


def _municipality_choice(municipality, council) -> tuple[str, str]:
    """A municipality, or (for local members) its reports handled by their council."""
    if council is None:
        return f"municipality:{municipality.pk}", str(municipality)
    label = _("%(municipality)s (rapporter i %(council)s)") % {
        "municipality": municipality,
        "council": council,
    }
    return f"municipality:{municipality.pk}:{council.pk}", label


class FollowUpForm(forms.Form):
    """GET form: agreement, period, scope and date basis. ``cleaned_data["period"]`` and ``["scope"]``
    hold the resolved ``Period`` and ``Scope``. Scopes outside the user's reach are not offered, and
    choosing one anyway is a form error."""

    agreement = forms.ModelChoiceField(
        label=_("Överenskommelse"), queryset=Agreement.objects.all(), empty_label=None
    )
    period_type = forms.ChoiceField(label=_("Period"), choices=PeriodType.CHOICES, initial=PeriodType.YEAR)
    year = forms.IntegerField(label=_("År"), min_value=2000, max_value=2100, required=False)
    half = forms.TypedChoiceField(
        label=_("Halvår"),
        choices=[(1, _("Första halvåret")), (2, _("Andra halvåret"))],
        coerce=int,
        required=False,
    )
    quarter = forms.TypedChoiceField(
        label=_("Kvartal"),
        choices=[(q, _("Kvartal %(q)s") % {"q": q}) for q in (1, 2, 3, 4)],
        coerce=int,
        required=False,
    )
    start = forms.DateField(
        label=_("Från och med"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("Till och med"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    scope = forms.ChoiceField(label=_("Område"))
    basis = forms.ChoiceField(
        label=_("Perioden avser"),
        choices=DateBasis.CHOICES,
        initial=DateBasis.REPORTED,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, options: dict, **kwargs):
        super().__init__(*args, **kwargs)
        self.options = options
        choices = []
        if options["county"]:
            choices.append((Scope.COUNTY, _("Hela länet")))
        if options["councils"]:
            choices.append((_("Samråd"), [(f"council:{c.pk}", str(c)) for c in options["councils"]]))
        if options["municipalities"]:
            choices.append((_("Kommun"), [_municipality_choice(m, c) for m, c in options["municipalities"]]))
        self.fields["scope"].choices = choices
        self.fields["year"].initial = timezone.localdate().year

    @classmethod
    def initial_data(cls, *, options: dict) -> dict:
        """Defaults when the page is opened without parameters: the first agreement, this year, the
        widest scope the user has, by reported date."""
        agreement = Agreement.objects.filter(active=True).first() or Agreement.objects.first()
        if options["county"]:
            scope = Scope.COUNTY
        elif options["councils"]:
            scope = f"council:{options['councils'][0].pk}"
        else:
            scope = ""
        return {
            "agreement": agreement.pk if agreement else "",
            "period_type": PeriodType.YEAR,
            "year": timezone.localdate().year,
            "scope": scope,
            "basis": DateBasis.REPORTED,
        }

    def clean(self):
        data = super().clean()
        kind, year = data.get("period_type"), data.get("year")
        period = None
        if kind == PeriodType.CUSTOM:
            start, end = data.get("start"), data.get("end")
            if not start:
                self.add_error("start", _("Ange ett startdatum."))
            if not end:
                self.add_error("end", _("Ange ett slutdatum."))
            if start and end:
                if end < start:
                    self.add_error("end", _("Slutdatumet kan inte ligga före startdatumet."))
                elif (end - start) > datetime.timedelta(days=MAX_CUSTOM_DAYS):
                    self.add_error("end", _("Perioden får vara högst tio år."))
                else:
                    period = Period.custom(start, end)
        elif year is None:
            if "year" not in self.errors:
                self.add_error("year", _("Ange år."))
        else:
            if kind == PeriodType.YEAR:
                period = Period.year(year)
            elif kind == PeriodType.HALF:
                if data.get("half") in (1, 2):
                    period = Period.half(year, data["half"])
                else:
                    self.add_error("half", _("Välj halvår."))
            elif kind == PeriodType.QUARTER:
                if data.get("quarter") in (1, 2, 3, 4):
                    period = Period.quarter(year, data["quarter"])
                else:
                    self.add_error("quarter", _("Välj kvartal."))
        data["period"] = period
        if "scope" in data:
            data["scope_obj"] = self._scope(data["scope"])
        return data

    def _scope(self, value: str) -> Scope:
        council_ids = self.options["council_ids"]
        if value == Scope.COUNTY:
            return Scope(Scope.COUNTY, council_ids=council_ids)
        kind, _sep, pk = value.partition(":")
        if kind == "council":
            council = next(c for c in self.options["councils"] if str(c.pk) == pk)
            return Scope(Scope.COUNCIL, council=council, council_ids=council_ids)
        municipality, council = next(
            (m, c) for m, c in self.options["municipalities"] if _municipality_choice(m, c)[0] == value
        )
        return Scope(Scope.MUNICIPALITY, municipality=municipality, council=council, council_ids=council_ids)

    def query_string(self) -> str:
        """The validated selection as a query string, for export links."""
        from django.http import QueryDict

        q = QueryDict(mutable=True)
        for name in ("period_type", "year", "half", "quarter", "start", "end", "scope", "basis"):
            value = self.cleaned_data.get(name)
            if value not in (None, ""):
                q[name] = value.isoformat() if isinstance(value, datetime.date) else str(value)
        q["agreement"] = str(self.cleaned_data["agreement"].pk)
        return q.urlencode()


class AnalysisForm(forms.Form):
    """A new version of the written analysis: the texts of a follow-up report's sections, the promoting
    and hindering factors one per line, and per commitment of the agreement its results and the analysis
    against it (fields ``results_<id>`` and ``analysis_<id>``)."""

    summary = forms.CharField(
        label=_("Sammanfattning"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    recommendations = forms.CharField(
        label=_("Rekommendationer"), required=False, widget=forms.Textarea(attrs={"rows": 5})
    )
    followup_areas = forms.CharField(
        label=_("Förslag till uppföljningsområden"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    purpose = forms.CharField(
        label=_("Uppdrag, syfte och fokusområden"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    promoting_factors = forms.CharField(
        label=_("Främjande faktorer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("En faktor per rad."),
    )
    hindering_factors = forms.CharField(
        label=_("Hindrande faktorer"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("En faktor per rad. Förslaget bygger på rapporternas bidragande faktorer."),
    )
    analysis = forms.CharField(
        label=_("Sammanfattande analys och slutsatser"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    references = forms.CharField(
        label=_("Referenser"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("En referens per rad. Överenskommelsen och uttaget ur systemet skrivs in automatiskt."),
    )

    def __init__(self, *args, commitments=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.commitments = list(commitments)
        for commitment in self.commitments:
            # The commitment is stored Swedish: marked so inside the label, also on the English page.
            swedish = format_html('<span lang="sv">{}</span>', commitment)
            self.fields[f"results_{commitment.pk}"] = forms.CharField(
                label=format_html(_("Resultat: {commitment}"), commitment=swedish),
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )
            self.fields[f"analysis_{commitment.pk}"] = forms.CharField(
                label=format_html(_("Analys mot målsättningen: {commitment}"), commitment=swedish),
                required=False,
                widget=forms.Textarea(attrs={"rows": 3}),
            )

    @staticmethod
    def initial_from(version, commitments, *, proposed_hindering=()) -> dict:
        """The form's starting texts: the current version, or the system's proposal of hindering factors
        when nothing is written yet."""
        if version is None:
            return {"hindering_factors": "\n".join(proposed_hindering)}
        initial = {name: getattr(version, name) for name in TEXT_FIELDS}
        initial["promoting_factors"] = "\n".join(version.promoting_factors)
        initial["hindering_factors"] = "\n".join(version.hindering_factors)
        for commitment in commitments:
            for part in ("results", "analysis"):
                initial[f"{part}_{commitment.pk}"] = version.commitment_text(commitment.pk, part)
        return initial

    def clean(self):
        data = super().clean()
        if not any((value or "").strip() for value in data.values()):
            raise forms.ValidationError(_("Skriv något i minst ett av fälten."))
        return data

    def service_arguments(self) -> dict:
        data = self.cleaned_data
        return {
            **{name: data.get(name) or "" for name in TEXT_FIELDS},
            "promoting_factors": (data.get("promoting_factors") or "").splitlines(),
            "hindering_factors": (data.get("hindering_factors") or "").splitlines(),
            "commitment_texts": {
                str(c.pk): {part: data.get(f"{part}_{c.pk}") or "" for part in ("results", "analysis")}
                for c in self.commitments
            },
        }


class MeetingPackForm(forms.Form):
    meeting_date = forms.DateField(label=_("Mötesdatum"), widget=forms.DateInput(attrs={"type": "date"}))
    previous_meeting = forms.DateField(
        label=_("Föregående möte"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_(
            "Lämna tomt för samrådets senaste registrerade möte före mötesdatumet (annars 30 dagar före)."
        ),
    )

    def __init__(self, *args, council, **kwargs):
        super().__init__(*args, **kwargs)
        self.council = council

    @staticmethod
    def initial_data() -> dict:
        return {"meeting_date": timezone.localdate().isoformat()}

    def clean(self):
        data = super().clean()
        meeting, previous = data.get("meeting_date"), data.get("previous_meeting")
        if meeting and not previous:
            data["previous_meeting"] = since_previous_meeting(self.council, meeting)
        elif meeting and previous and previous >= meeting:
            self.add_error("previous_meeting", _("Föregående möte måste ligga före mötesdatumet."))
        return data


class CouncilMeetingForm(forms.ModelForm):
    class Meta:
        model = CouncilMeeting
        fields = ["held_on", "attendees", "minutes"]
        widgets = {
            "held_on": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "attendees": forms.Textarea(attrs={"rows": 4}),
            "minutes": forms.Textarea(attrs={"rows": 10}),
        }


#: The most reports one decision of a meeting takes (each is its own transition and event).
MAX_DECISION_REPORTS = 200


class MeetingDecisionForm(forms.Form):
    """Decisions taken at a meeting: one action (from the council's level) for the chosen reports, with
    the motivation or feedback that each report's event gets."""

    action = forms.ChoiceField(label=_("Beslut"), widget=forms.RadioSelect)
    proposed = forms.MultipleChoiceField(
        label=_("Föreslagna för eskalering"), required=False, widget=forms.CheckboxSelectMultiple
    )
    references = forms.CharField(
        label=_("Fler rapporter (referensnummer)"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Ett eller flera, åtskilda med mellanslag, komma eller radbrytning, t.ex. SB-2026-00042."
        ),
    )
    text = forms.CharField(
        label=_("Motivering eller återkoppling"),
        max_length=10_000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Sparas på varje rapport. Vid avslut visas den för rapportören. Skriv inga personuppgifter."
        ),
    )

    def __init__(self, *args, actions: dict, proposed: list[tuple[str, str]], **kwargs):
        """``actions``: {action: label}; ``proposed``: (reference, label) of the pack's proposals."""
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = list(actions.items())
        self.fields["proposed"].choices = proposed
        if not proposed:
            del self.fields["proposed"]

    def clean(self):
        data = super().clean()
        typed = re.split(r"[\s,;]+", (data.get("references") or "").upper())
        chosen = [*data.get("proposed", []), *(ref for ref in typed if ref)]
        data["chosen"] = list(dict.fromkeys(chosen))
        if not data["chosen"] and not self.errors:
            raise forms.ValidationError(_("Välj eller skriv in minst en rapport."))
        if len(data["chosen"]) > MAX_DECISION_REPORTS:
            raise forms.ValidationError(_("Högst %(n)s rapporter per beslut.") % {"n": MAX_DECISION_REPORTS})
        return data
