from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from incidents.models import (
    Category,
    Incident,
    IncidentRole,
    PriorityMatrixEntry,
    Runbook,
    RunbookStep,
    Service,
    Team,
    TimelineEvent,
    User,
)


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ["username", "email", "first_name", "last_name", "role", "is_active"]
    list_filter = ["role", "is_active", "is_superuser"]
    fieldsets = [
        *BaseUserAdmin.fieldsets,
        ("Vigil", {"fields": ["role", "time_zone", "phone"]}),
    ]


@admin.register(Team)
class TeamAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "manager"]
    prepopulated_fields = {"slug": ["name"]}
    filter_horizontal = ["members"]
    search_fields = ["name"]


@admin.register(Service)
class ServiceAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "team"]
    list_select_related = ["team"]
    prepopulated_fields = {"slug": ["name"]}
    search_fields = ["name"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "parent"]
    list_select_related = ["parent"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(PriorityMatrixEntry)
class PriorityMatrixAdmin(admin.ModelAdmin):
    list_display = ["impact", "urgency", "priority"]
    list_editable = ["priority"]
    list_display_links = None

    def has_add_permission(self, request) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class RunbookStepInline(admin.TabularInline):
    model = RunbookStep
    extra = 1


@admin.register(Runbook)
class RunbookAdmin(admin.ModelAdmin):
    list_display = ["name"]
    filter_horizontal = ["services", "categories"]
    inlines = [RunbookStepInline]


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


class RoleInline(ReadOnlyInline):
    model = IncidentRole
    fields = ["kind", "user", "assigned_at"]


class TimelineInline(ReadOnlyInline):
    model = TimelineEvent
    fields = ["created_at", "kind", "actor_name", "data"]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows that only Vigil's services write: the admin shows them, never changes them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    """Read-only: incidents change through the services, so every change is on the timeline."""

    list_display = ["__str__", "status", "priority", "service", "team", "assignee", "created_at"]
    list_filter = ["status", "priority", "is_major", "team"]
    list_select_related = ["service", "team", "assignee"]
    search_fields = ["title"]
    show_full_result_count = False
    inlines = [RoleInline, TimelineInline]
