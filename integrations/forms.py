from django import forms

from integrations.models import Integration


class IntegrationForm(forms.ModelForm):
    class Meta:
        model = Integration
        fields = [
            "name",
            "service",
            "kind",
            "auto_resolve",
            "group_window_seconds",
            "heartbeat_interval_seconds",
            "heartbeat_grace_seconds",
        ]
