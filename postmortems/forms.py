from django import forms

from incidents.models import User
from postmortems.enums import ActionStatus, FactorKind
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
