from django.contrib import admin, messages

from integrations import services
from integrations.models import (
    Alert,
    AutomationCall,
    AutomationRule,
    Integration,
    WebhookDelivery,
    WebhookEndpoint,
)


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ["name", "service", "kind", "enabled", "key_prefix", "auto_resolve"]
    list_filter = ["kind", "enabled", "service"]
    search_fields = ["name", "key_prefix"]
    readonly_fields = ["key_prefix", "key_rotated_at", "last_ping_at", "heartbeat_due_at"]
    actions = ["rotate_keys"]

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        fields = {f: form.cleaned_data[f] for f in services.INTEGRATION_SETTINGS}
        integration, key = services.integration_create(
            service=form.cleaned_data["service"], kind=form.cleaned_data["kind"], **fields
        )
        obj.pk = integration.pk
        obj.__dict__.update(integration.__dict__)
        messages.warning(
            request, f"The key of {integration.name} is {key} - copy it now, it is shown once."
        )

    @admin.action(description="Rotate the keys (each new key is shown once)")
    def rotate_keys(self, request, queryset):
        for integration in queryset:
            key = services.integration_rotate_key(integration=integration)
            messages.warning(request, f"New key of {integration.name}: {key}")


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    list_display = ["dedup_key", "summary", "severity", "status", "count", "incident", "last_seen"]
    list_filter = ["status", "severity", "integration"]
    search_fields = ["dedup_key", "summary"]
    raw_id_fields = ["incident"]
    list_select_related = ["incident", "integration"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "url", "enabled", "consecutive_failures", "disabled_reason"]
    list_filter = ["kind", "enabled"]
    readonly_fields = ["secret", "consecutive_failures", "disabled_reason", "disabled_at"]


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["message_id", "endpoint", "event_type", "status", "attempts",
                    "response_code", "duration_ms", "created_at"]  # fmt: skip
    list_filter = ["status", "event_type", "endpoint"]
    list_select_related = ["endpoint"]
    raw_id_fields = ["incident"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a log


@admin.register(AutomationRule)
class AutomationRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "enabled", "position", "max_priority", "service", "category", "source"]
    list_filter = ["enabled"]
    list_editable = ["enabled", "position"]


@admin.register(AutomationCall)
class AutomationCallAdmin(admin.ModelAdmin):
    list_display = ["rule", "incident", "status", "attempts", "response_code", "duration_ms"]
    list_filter = ["status", "rule"]
    raw_id_fields = ["incident"]

    def has_change_permission(self, request, obj=None) -> bool:
        return False  # a log
