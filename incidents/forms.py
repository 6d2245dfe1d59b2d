"""Forms of the responder's pages. They validate input; the services in
`incidents/services.py` do the writes and have the last word (the same rules as the API)."""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from incidents import login_limits
from incidents.enums import (
    CancelReason,
    HoldReason,
    Impact,
    Priority,
    PublicStatus,
    ResolutionCode,
    RoleKind,
    Urgency,
    Visibility,
)
from incidents.models import Category, Incident, Runbook, Service, Team, User


def add_service_errors(form: forms.Form, error: ValidationError) -> None:
    """Put a service's ValidationError beside the fields it names (or above the form)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for field, messages in error.message_dict.items():
        target = field if field in form.fields else None
        if field == NON_FIELD_ERRORS:
            target = None
        for message in messages:
            form.add_error(target, message)


Saved = TypeVar("Saved")


def submit(form: forms.Form, write: Callable[[dict], Saved]) -> Saved | None:
    """`write(form.cleaned_data)` through a service, if the form is valid. None when the form
    or the service refuses; the service's errors are then beside the fields they name."""
    if not form.is_valid():
        return None
    try:
        return write(form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error)
        return None


def active_users() -> Any:
    return User.objects.filter(is_active=True).order_by("username")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user: User) -> str:
        name = user.get_full_name()
        return f"{name} ({user.username})" if name else user.username


def _level_choices(enum) -> list[tuple[int, str]]:
    return [(value, label) for value, label in enum.choices]


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class IncidentCreateForm(forms.Form):
    """Every logging field: identification, classification, assignment."""

    title = forms.CharField(max_length=200)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False)
    service = forms.ModelChoiceField(
        Service.objects.all(), required=False, to_field_name="slug", empty_label="(none)"
    )
    category = forms.ModelChoiceField(
        Category.objects.select_related("parent"),
        required=False,
        to_field_name="slug",
        empty_label="(none)",
    )
    impact = forms.TypedChoiceField(
        choices=_level_choices(Impact), coerce=int, initial=Impact.MEDIUM
    )
    urgency = forms.TypedChoiceField(
        choices=_level_choices(Urgency), coerce=int, initial=Urgency.MEDIUM
    )
    priority = forms.TypedChoiceField(
        choices=[("", "As the matrix gives"), *Priority.choices],
        coerce=int,
        empty_value=None,
        required=False,
        label="Override priority",
    )
    priority_override_reason = forms.CharField(
        max_length=500, required=False, label="Reason for the override"
    )
    error_codes = forms.CharField(max_length=500, required=False)
    reporter_name = forms.CharField(
        max_length=200,
        required=False,
        help_text="Someone outside Vigil who reported it; leave empty if it is you.",
    )
    reporter_email = forms.EmailField(required=False)
    occurred_at = forms.DateTimeField(widget=DateTimeInput(), required=False)
    detected_at = forms.DateTimeField(widget=DateTimeInput(), required=False)
    users_affected = forms.IntegerField(min_value=0, required=False)
    financial_implications = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    security_implications = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    compliance_implications = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False
    )
    team = forms.ModelChoiceField(
        Team.objects.all(),
        required=False,
        to_field_name="slug",
        empty_label="(the service's team)",
        label="Assignment group",
    )
    assignee = UserChoiceField(
        active_users(), required=False, to_field_name="username", empty_label="(nobody)"
    )
    war_room_url = forms.URLField(required=False, label="War room link", assume_scheme="https")
    is_major = forms.BooleanField(required=False, label="Major incident")
    is_private = forms.BooleanField(
        required=False, label="Private (only its team and role holders see it)"
    )


class PriorityPreviewForm(forms.Form):
    impact = forms.TypedChoiceField(choices=_level_choices(Impact), coerce=int)
    urgency = forms.TypedChoiceField(choices=_level_choices(Urgency), coerce=int)


class HoldForm(forms.Form):
    reason = forms.ChoiceField(choices=HoldReason.choices, label="Why on hold")


class ResolveForm(forms.Form):
    resolution_code = forms.ChoiceField(
        choices=[("", "Choose…"), *ResolutionCode.choices], label="Resolution code"
    )
    notes = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}), label="Resolution notes", required=True
    )


class ReopenForm(forms.Form):
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)


class CancelForm(forms.Form):
    reason = forms.ChoiceField(choices=CancelReason.choices)
    duplicate_of = forms.CharField(
        max_length=30, required=False, label="Duplicate of", help_text="e.g. INC-42"
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean_duplicate_of(self) -> Incident | None:
        number = self.cleaned_data["duplicate_of"].strip()
        if not number:
            return None
        pk = Incident.pk_from_number(number)
        incident = (
            Incident.objects.visible_to(self.user).filter(pk=pk).first() if pk is not None else None
        )
        if incident is None:
            raise ValidationError(f"There is no incident {number}.")
        return incident


# The lifecycle actions that ask for something; the others are one click.
TRANSITION_FORMS: dict[str, type[forms.Form]] = {
    "hold": HoldForm,
    "resolve": ResolveForm,
    "reopen": ReopenForm,
    "cancel": CancelForm,
}


class AssignForm(forms.Form):
    team = forms.ModelChoiceField(
        Team.objects.all(), required=False, to_field_name="slug", empty_label="(no team)"
    )
    assignee = UserChoiceField(
        active_users(), required=False, to_field_name="username", empty_label="(nobody)"
    )


class RoleForm(forms.Form):
    kind = forms.ChoiceField(choices=RoleKind.choices, label="Role")
    user = UserChoiceField(active_users(), to_field_name="username", label="Person")


class ReclassifyForm(forms.Form):
    impact = forms.TypedChoiceField(choices=_level_choices(Impact), coerce=int)
    urgency = forms.TypedChoiceField(choices=_level_choices(Urgency), coerce=int)
    priority_override_reason = forms.CharField(
        max_length=500, required=False, label="Reason (optional)"
    )


class TaskForm(forms.Form):
    title = forms.CharField(
        max_length=300, label="New task", widget=forms.TextInput(attrs={"data-shortcut": "t"})
    )


class RunbookForm(forms.Form):
    runbook = forms.ModelChoiceField(Runbook.objects.all(), empty_label="Choose a runbook…")


class UpdateForm(forms.Form):
    visibility = forms.ChoiceField(
        choices=Visibility.choices, widget=forms.RadioSelect, initial=Visibility.INTERNAL
    )
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "data-shortcut": "u"}), label="Text"
    )
    status = forms.ChoiceField(
        choices=[("", "(unchanged)"), *PublicStatus.choices],
        required=False,
        label="Status page status",
        help_text="Public updates of a published incident only.",
    )


class AttachmentForm(forms.Form):
    file = forms.FileField()


@cache
def time_zone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class ProfileForm(forms.Form):
    first_name = forms.CharField(max_length=150, required=False)
    last_name = forms.CharField(max_length=150, required=False)
    email = forms.EmailField(required=False)
    phone = forms.CharField(
        max_length=40,
        required=False,
        help_text="For pages and calls, in international form: +44 20 7946 0000.",
    )
    time_zone = forms.ChoiceField(choices=time_zone_choices, label="Time zone")

    def clean_phone(self) -> str:
        phone = self.cleaned_data["phone"].strip()
        digits = phone.replace(" ", "").replace("-", "").replace("(", "").replace(")", "")
        if phone and not (digits.lstrip("+").isdigit() and 6 <= len(digits.lstrip("+")) <= 15):
            raise ValidationError("Enter a phone number of 6 to 15 digits, e.g. +44 20 7946 0000.")
        return phone


class LoginForm(AuthenticationForm):
    """Django's login form, refusing before the password check once failures pile up."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        wait = login_limits.retry_after(username=username, request=self.request)
        if wait:
            raise ValidationError(login_limits.refusal_message(wait), code="throttled")
        return super().clean()
