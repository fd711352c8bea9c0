from django.contrib import admin

from .models import AccessLog


@admin.register(AccessLog)
class AccessLogAdmin(admin.ModelAdmin):
    """Read-only: who opened which report and when. Rows are written by ``services.record_access``."""

    list_display = ["at", "user", "deviation"]
    list_filter = ["at", "deviation__council"]
    search_fields = ["deviation__reference", "user__username"]
    date_hierarchy = "at"
    list_select_related = ["user", "deviation"]
    list_per_page = 100
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
