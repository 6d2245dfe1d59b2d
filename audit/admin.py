from django.contrib import admin

from audit.models import AuditEvent
from incidents.admin import ReadOnlyAdmin


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    """Read-only: the log is written by Vigil, never by hand."""

    list_display = ["created_at", "actor_name", "action", "target_repr", "address"]
    list_filter = ["action"]
    search_fields = ["actor_name", "action", "target_repr"]
    date_hierarchy = "created_at"

    def has_view_permission(self, request, obj=None) -> bool:
        return request.user.is_active and request.user.is_manager
