"""Admin: every save goes through the services, so history rows and the cache follow."""

from django.contrib import admin

from statuspage import services
from statuspage.models import (
    Component,
    ComponentGroup,
    Maintenance,
    MaintenanceUpdate,
    Notification,
    PageSettings,
    PublicIncident,
    PublicUpdate,
    Subscriber,
)


@admin.register(PageSettings)
class PageSettingsAdmin(admin.ModelAdmin):
    list_display = ["name", "url", "time_zone", "support_url"]

    def has_add_permission(self, request) -> bool:
        return not PageSettings.objects.exists()

    def save_model(self, request, obj, form, change):
        services.page_settings_save(page=obj)


@admin.register(ComponentGroup)
class ComponentGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "position"]
    list_editable = ["position"]

    def save_model(self, request, obj, form, change):
        services.group_save(group=obj)

    def delete_model(self, request, obj):
        services.group_delete(group=obj)


@admin.register(Component)
class ComponentAdmin(admin.ModelAdmin):
    list_display = ["name", "group", "service", "status", "position"]
    list_filter = ["status", "group"]
    list_select_related = ["group", "service"]

    def save_model(self, request, obj, form, change):
        fields = {
            f: form.cleaned_data[f] for f in services.COMPONENT_FIELDS if f in form.cleaned_data
        }
        status = form.cleaned_data.get("status", obj.status)
        if change:
            services.component_update(
                component=obj, status=status, reason=f"admin: {request.user}", **fields
            )
        else:
            created = services.component_create(status=status, **fields)
            obj.pk = created.pk

    def delete_model(self, request, obj):
        services.component_delete(component=obj)


class MaintenanceUpdateInline(admin.TabularInline):
    model = MaintenanceUpdate
    extra = 0
    readonly_fields = ["status", "body", "created_at"]
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Maintenance)
class MaintenanceAdmin(admin.ModelAdmin):
    list_display = ["name", "status", "scheduled_for", "scheduled_until"]
    list_filter = ["status"]
    readonly_fields = ["status", "started_at", "completed_at"]
    filter_horizontal = ["components"]
    inlines = [MaintenanceUpdateInline]

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.maintenance_edit(
                maintenance=obj,
                name=data["name"],
                scheduled_for=data["scheduled_for"] if obj.status == "scheduled" else None,
                scheduled_until=data["scheduled_until"],
            )
        else:
            created = services.maintenance_create(
                name=data["name"],
                scheduled_for=data["scheduled_for"],
                scheduled_until=data["scheduled_until"],
            )
            obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        services.maintenance_edit(
            maintenance=form.instance, components=form.cleaned_data["components"]
        )

    def delete_model(self, request, obj):
        services.maintenance_cancel(maintenance=obj)


class PublicUpdateInline(admin.TabularInline):
    model = PublicUpdate
    extra = 0
    fields = ["status", "body", "created_at"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(PublicIncident)
class PublicIncidentAdmin(admin.ModelAdmin):
    """Read-only: publish and update from the incident (page or API)."""

    list_display = ["name", "incident", "impact", "status", "started_at"]
    list_select_related = ["incident"]
    inlines = [PublicUpdateInline]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "confirmed_at", "created_at"]
    list_filter = ["kind"]
    search_fields = ["email", "webhook_url"]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["subject", "subscriber", "state", "attempts", "next_at"]
    list_filter = ["state"]
    list_select_related = ["subscriber"]
    readonly_fields = [f.name for f in Notification._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False
