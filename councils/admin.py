"""Admin for places, councils, users and memberships. Rights are granted by superusers only and
memberships are delegated per council (``councils.rights``)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from config.admin_lookups import FilterLookupsOnlyMixin

from .models import Council, CouncilMeeting, CouncilMembership, District, Municipality, Region, User
from .rights import PRIVILEGE_FIELDS, councils_managed_by, may_manage_account

admin.site.site_header = _("Samverkansbrister – administration")
admin.site.site_title = _("Samverkansbrister")
admin.site.index_title = _("Administration")


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["name", "code"]
    search_fields = ["name", "code"]
    ordering = ["code"]


class DistrictInline(admin.TabularInline):
    model = District
    extra = 0
    fields = ["name", "active"]


@admin.register(Municipality)
class MunicipalityAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "region"]
    list_filter = ["region"]
    search_fields = ["name", "=code"]
    ordering = ["name"]
    list_select_related = ["region"]
    inlines = [DistrictInline]


@admin.register(District)
class DistrictAdmin(admin.ModelAdmin):
    list_display = ["name", "municipality", "active"]
    list_filter = ["active", "municipality"]
    search_fields = ["name", "municipality__name"]
    ordering = ["municipality__name", "name"]
    list_select_related = ["municipality"]
    autocomplete_fields = ["municipality"]


class ManagedMembershipsMixin:
    """Memberships only of the councils the user manages (``rights.councils_managed_by``): the rows
    listed, the councils offered, and a check when saving."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(council__in=councils_managed_by(request.user))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "council" and not request.user.is_superuser:
            kwargs["queryset"] = councils_managed_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_autocomplete_fields(self, request):
        fields = list(super().get_autocomplete_fields(request))
        if not request.user.is_superuser:
            # A plain list of the few councils they manage (the autocomplete would offer every council).
            fields = [name for name in fields if name != "council"]
        return fields

    @staticmethod
    def check_managed(request, membership):
        if request.user.is_superuser:
            return
        if not councils_managed_by(request.user).filter(pk=membership.council_id).exists():
            raise PermissionDenied


class CouncilMembershipInline(ManagedMembershipsMixin, admin.TabularInline):
    model = CouncilMembership
    extra = 0
    autocomplete_fields = ["user", "council"]


class SavesManagedMembershipsMixin:
    """For an admin with a memberships inline: every membership saved is checked (defence in depth:
    the inline offers only managed councils)."""

    def save_formset(self, request, form, formset, change):
        if formset.model is CouncilMembership:
            for membership_form in formset.forms:
                instance = membership_form.instance
                if (membership_form.has_changed() or membership_form in formset.deleted_forms) and (
                    instance.council_id
                ):
                    ManagedMembershipsMixin.check_managed(request, instance)
        super().save_formset(request, form, formset, change)


@admin.register(Council)
class CouncilAdmin(SavesManagedMembershipsMixin, admin.ModelAdmin):
    list_display = ["name", "level", "member_count", "is_example", "active"]
    list_filter = ["level", "is_example", "active"]
    search_fields = ["name"]
    ordering = ["level", "name"]
    filter_horizontal = ["municipalities", "districts"]
    inlines = [CouncilMembershipInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(member_count=Count("memberships", distinct=True))

    @admin.display(description=_("medlemmar"), ordering="member_count")
    def member_count(self, obj):
        return obj.member_count


@admin.register(CouncilMembership)
class CouncilMembershipAdmin(ManagedMembershipsMixin, FilterLookupsOnlyMixin, admin.ModelAdmin):
    """Superusers manage every membership; a council's coordinators (given the membership permissions)
    manage their council's memberships only."""

    list_display = ["user", "council", "role"]
    list_filter = ["role", "council__level", "council"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email", "council__name"]
    ordering = ["council__name", "user__last_name"]
    list_select_related = ["user", "council"]
    autocomplete_fields = ["user", "council"]

    def has_add_permission(self, request):
        return super().has_add_permission(request) and councils_managed_by(request.user).exists()

    def save_model(self, request, obj, form, change):
        self.check_managed(request, obj)
        if change and "council" in form.changed_data:
            # Moving a membership out of a council is managing that council too.
            self.check_managed(request, CouncilMembership.objects.get(pk=obj.pk))
        super().save_model(request, obj, form, change)

    def delete_model(self, request, obj):
        self.check_managed(request, obj)
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            self.check_managed(request, membership)
        super().delete_queryset(request, queryset)


class UserMembershipInline(CouncilMembershipInline):
    fk_name = "user"
    autocomplete_fields = ["council"]


@admin.register(User)
class UserAdmin(SavesManagedMembershipsMixin, FilterLookupsOnlyMixin, DjangoUserAdmin):
    """Only superusers grant rights (superuser, staff, groups, permissions): for everyone else those
    fields are read-only and saving refuses any change to them. Staff who manage users change ordinary
    accounts and their own, not other staff's or superusers' (``councils.rights``); the lookups in the
    list's URL are limited to its filters (no probing of password hashes or e-mail addresses)."""

    list_display = ["username", "email", "first_name", "last_name", "organization", "is_staff", "is_active"]
    list_filter = [*DjangoUserAdmin.list_filter, "organization__kind", "memberships__council__level"]
    search_fields = [*DjangoUserAdmin.search_fields, "organization__name"]
    list_select_related = ["organization"]
    autocomplete_fields = ["organization"]
    fieldsets = [
        *DjangoUserAdmin.fieldsets[:2],
        (_("Arbetsplats"), {"fields": ["organization", "phone", "notification_mode"]}),
        *DjangoUserAdmin.fieldsets[2:],
    ]
    add_fieldsets = [
        (
            None,
            {
                "classes": ["wide"],
                "fields": ["username", "email", "organization", "usable_password", "password1", "password2"],
            },
        ),
    ]
    inlines = [UserMembershipInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += [name for name in PRIVILEGE_FIELDS if name not in fields]
        return fields

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        return allowed and (obj is None or may_manage_account(request.user, obj))

    def has_delete_permission(self, request, obj=None):
        allowed = super().has_delete_permission(request, obj)
        if obj is None or request.user.is_superuser:
            return allowed
        return allowed and obj.pk != request.user.pk and may_manage_account(request.user, obj)

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            if not may_manage_account(request.user, obj):
                raise PermissionDenied
            stored = User.objects.filter(pk=obj.pk).values_list("is_superuser", "is_staff").first()
            if (obj.is_superuser, obj.is_staff) != (stored if change else (False, False)):
                raise PermissionDenied
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        if not request.user.is_superuser and {"groups", "user_permissions"} & set(form.fields):
            raise PermissionDenied
        super().save_related(request, form, formsets, change)


@admin.register(CouncilMeeting)
class CouncilMeetingAdmin(admin.ModelAdmin):
    """Council meetings; attendees and minutes refuse identity numbers (the model's validators), as
    ``followup.services.save_meeting`` does."""

    fields = ["council", "held_on", "attendees", "minutes", "created_by", "created_at", "updated_at"]
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
