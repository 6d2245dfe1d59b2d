from django.contrib import admin

from postmortems.models import ActionItem, Postmortem, Reminder, ServiceLevelObjective


@admin.register(Postmortem)
class PostmortemAdmin(admin.ModelAdmin):
    list_display = ["incident", "title", "status", "revision", "created_at"]
    list_filter = ["status"]
    raw_id_fields = ["incident", "author"]
    # Writes go through services (state flow, revisions); the admin only reads them.
    readonly_fields = ["status", "revision", "submitted_at", "published_at"]


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    list_display = ["title", "owner", "due_date", "priority", "status"]
    list_filter = ["status", "priority"]
    raw_id_fields = ["postmortem", "owner"]


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    list_display = ["kind", "recipient", "day", "sent_at"]
    list_filter = ["kind"]


@admin.register(ServiceLevelObjective)
class ServiceLevelObjectiveAdmin(admin.ModelAdmin):
    list_display = ["service", "target", "window_days"]
