"""Admin for council meetings. The model belongs to ``councils`` (and is listed there in the admin),
but the personal-data guard lives above it, so its admin is registered here: the same refusal of
identity numbers in attendees and minutes as ``services.save_meeting``."""

from django import forms
from django.contrib import admin

from councils.models import CouncilMeeting

from .services import identity_number_errors


class CouncilMeetingAdminForm(forms.ModelForm):
    class Meta:
        model = CouncilMeeting
        fields = ["council", "held_on", "attendees", "minutes"]

    def clean(self):
        data = super().clean()
        texts = {name: data.get(name, "") for name in ("attendees", "minutes")}
        for name, message in identity_number_errors(**texts).items():
            self.add_error(name, message)
        return data


@admin.register(CouncilMeeting)
class CouncilMeetingAdmin(admin.ModelAdmin):
    form = CouncilMeetingAdminForm
    list_display = ["council", "held_on", "created_by"]
    list_filter = ["council"]
    date_hierarchy = "held_on"
    search_fields = ["council__name", "minutes"]
    list_select_related = ["council", "created_by"]
    autocomplete_fields = ["council"]
    readonly_fields = ["created_by", "created_at", "updated_at"]

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
