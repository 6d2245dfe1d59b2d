from datetime import timedelta
from urllib.parse import urlencode

from django import forms
from django.utils import timezone

from incidents.models import Service, Team, User
from postmortems.enums import ActionStatus, FactorKind
from postmortems.metrics import Period
from postmortems.models import EDITABLE_FIELDS, ActionItem, Postmortem


class PostmortemForm(forms.ModelForm):
    class Meta:
        model = Postmortem
        fields = list(EDITABLE_FIELDS)
        widgets = {
            "impact_started_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            "impact_ended_at": forms.DateTimeInput(attrs={"type": "datetime-local"}),
            **{
                f: forms.Textarea(attrs={"rows": 3})
                for f in EDITABLE_FIELDS
                if f not in ("title", "users_affected", "customer_facing") and not f.endswith("_at")
            },
        }
        labels = {
            "impact_description": "Impact: who and how many were affected",
            "went_well": "What went well",
            "went_badly": "What went badly",
            "got_lucky": "Where we got lucky",
        }


class RevisionForm(PostmortemForm):
    note = forms.CharField(label="What this revision changes, and why")

    class Meta(PostmortemForm.Meta):
        fields = ["note", *EDITABLE_FIELDS]


class SubmitForm(forms.Form):
    reviewers = forms.ModelMultipleChoiceField(
        queryset=User.objects.filter(is_active=True).order_by("username"),
        widget=forms.CheckboxSelectMultiple,
    )


class FactorForm(forms.Form):
    kind = forms.ChoiceField(choices=FactorKind.choices)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}))
    is_root_cause = forms.BooleanField(required=False, label="This is a root cause")


class ActionItemForm(forms.ModelForm):
    external_url = forms.URLField(
        required=False, max_length=500, assume_scheme="https", label="External ticket link"
    )

    class Meta:
        model = ActionItem
        fields = ["title", "owner", "due_date", "priority", "external_url"]
        widgets = {"due_date": forms.DateInput(attrs={"type": "date"})}


class ActionStatusForm(forms.Form):
    status = forms.ChoiceField(choices=ActionStatus.choices)
    wont_do_reason = forms.CharField(required=False, label="Reason (for won't do)")


class MetricsFilterForm(forms.Form):
    """The scope of every metric: a period of days, optionally one team or one service."""

    DEFAULT_DAYS = 90
    MAX_DAYS = 3 * 366

    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    team = forms.ModelChoiceField(
        Team.objects.all(), required=False, to_field_name="slug", empty_label="All teams"
    )
    service = forms.ModelChoiceField(
        Service.objects.all(), required=False, to_field_name="slug", empty_label="All services"
    )

    def clean(self):
        data = super().clean()
        until = data.get("until") or timezone.localdate()
        since = data.get("since") or until - timedelta(days=self.DEFAULT_DAYS - 1)
        if since > until:
            self.add_error("since", "Start on or before the end date.")
        elif (until - since).days >= self.MAX_DAYS:
            self.add_error("since", f"A period is at most {self.MAX_DAYS} days.")
        data["since"], data["until"] = since, until
        return data

    def scope(self) -> dict:
        """Keyword arguments of the metric functions: period, team, service."""
        data = self.cleaned_data
        return {
            "period": Period.dates(data["since"], data["until"]),
            "team": data["team"].pk if data["team"] else None,
            "service": data["service"].pk if data["service"] else None,
        }

    def query(self) -> str:
        """The filters as a query string, for links (CSV) that keep the scope."""
        data = self.cleaned_data
        params = {"since": data["since"].isoformat(), "until": data["until"].isoformat()}
        for name in ("team", "service"):
            if data[name]:
                params[name] = data[name].slug
        return urlencode(params)
