from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from .models import Council, CouncilMembership, District, Municipality, Region, User

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


class CouncilMembershipInline(admin.TabularInline):
    model = CouncilMembership
    extra = 0
    autocomplete_fields = ["user", "council"]


@admin.register(Council)
class CouncilAdmin(admin.ModelAdmin):
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
class CouncilMembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "council", "role"]
    list_filter = ["role", "council__level", "council"]
    search_fields = ["user__username", "user__first_name", "user__last_name", "user__email", "council__name"]
    ordering = ["council__name", "user__last_name"]
    list_select_related = ["user", "council"]
    autocomplete_fields = ["user", "council"]


class UserMembershipInline(CouncilMembershipInline):
    fk_name = "user"
    autocomplete_fields = ["council"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
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
