"""Forms of the on-call pages. They validate input; `escalation/services.py` writes."""

from __future__ import annotations

import re
from datetime import time
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from escalation.models import (
    WEEKDAYS,
    ChannelKind,
    ContactMethod,
    EscalationPolicy,
    LayerRestriction,
    LevelHours,
    Schedule,
    TurnUnit,
)
from incidents.forms import DateTimeInput, UserChoiceField, active_users, time_zone_choices
from incidents.models import Team, User

WEEKDAY_CHOICES = list(enumerate(WEEKDAYS))


class DateInput(forms.DateInput):
    input_type = "date"


class TimeInput(forms.TimeInput):
    input_type = "time"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="%H:%M", **kwargs)


class ScheduleForm(forms.Form):
    name = forms.CharField(max_length=100)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    time_zone = forms.ChoiceField(choices=time_zone_choices, initial="UTC", label="Time zone")
    description = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}), required=False, max_length=2000
    )


def _usernames(value: str) -> list[str]:
    return [name for name in re.split(r"[\s,]+", value) if name]


def _parse_days(text: str) -> list[int]:
    """`Mon-Fri`, `Sat,Sun` or `Mon-Wed,Fri` into weekday numbers."""
    days: list[int] = []
    names = [d.lower() for d in WEEKDAYS]
    for part in text.split(","):
        ends = [e.strip().lower()[:3] for e in part.split("-")]
        if len(ends) > 2 or any(e not in names for e in ends):
            raise ValidationError(f"Unknown days {part.strip()!r}: use Mon..Sun.")
        first, last = names.index(ends[0]), names.index(ends[-1])
        span = (last - first) % 7
        days += [(first + i) % 7 for i in range(span + 1) if (first + i) % 7 not in days]
    return sorted(days)


RESTRICTION = re.compile(
    r"^(?P<days>[A-Za-z ,\-]+?)\s+(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})$"
)


def parse_restrictions(text: str) -> list[dict]:
    found = []
    for line in text.splitlines():
        if not line.strip():
            continue
        match = RESTRICTION.match(line.strip())
        if not match:
            raise ValidationError(f"Write {line.strip()!r} like “Mon-Fri 09:00-17:00”.")
        try:
            start, end = (time.fromisoformat(match[g].zfill(5)) for g in ("start", "end"))
        except ValueError as error:
            raise ValidationError(f"Unknown time in {line.strip()!r}.") from error
        found.append({"days": _parse_days(match["days"]), "start_time": start, "end_time": end})
    return found


def restrictions_text(restrictions: list[LayerRestriction]) -> str:
    return "\n".join(str(r) for r in restrictions)


class LayerForm(forms.Form):
    name = forms.CharField(max_length=100, required=False, help_text="Defaults to “Layer N”.")
    users = forms.CharField(
        label="Rotation",
        help_text="Usernames in the order they take turns, separated by commas.",
    )
    turn_length = forms.IntegerField(min_value=1, max_value=1000, initial=1, label="Turn length")
    turn_unit = forms.ChoiceField(choices=TurnUnit.choices, initial=TurnUnit.WEEKS, label="Unit")
    start_date = forms.DateField(widget=DateInput, label="First turn starts on")
    handoff_time = forms.TimeField(widget=TimeInput, initial=time(9, 0), label="Handoff time")
    time_zone = forms.ChoiceField(choices=time_zone_choices, label="Time zone")
    restrictions = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
        help_text="Optional: on call only inside these windows, one a line, "
        "e.g. “Mon-Fri 09:00-17:00”. An end before the start crosses midnight.",
    )

    def clean_users(self) -> list[User]:
        names = _usernames(self.cleaned_data["users"])
        users = {u.username: u for u in active_users().filter(username__in=names)}
        unknown = [n for n in names if n not in users]
        if unknown:
            raise ValidationError(f"No active user named {', '.join(unknown)}.")
        return [users[n] for n in names]

    def clean_restrictions(self) -> list[dict]:
        return parse_restrictions(self.cleaned_data["restrictions"])


class OverrideForm(forms.Form):
    """Start and end are read in the viewer's time zone (the view activates it)."""

    user = UserChoiceField(queryset=active_users(), label="Who covers")
    start = forms.DateTimeField(widget=DateTimeInput)
    end = forms.DateTimeField(widget=DateTimeInput)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", "An override ends after it starts.")
        return data


class WeeklyHoursForm(forms.Form):
    """A time zone and weekly hours, as `<hours>_days`, `<hours>_start`, `<hours>_end`."""

    hours = ""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        noun = self.hours.capitalize()
        self.fields["time_zone"] = forms.ChoiceField(
            choices=time_zone_choices, initial="UTC", label="Time zone"
        )
        self.fields[f"{self.hours}_days"] = forms.TypedMultipleChoiceField(
            choices=WEEKDAY_CHOICES,
            coerce=int,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            label=f"{noun} days",
        )
        self.fields[f"{self.hours}_start"] = forms.TimeField(
            widget=TimeInput, required=False, label=f"{noun} hours from"
        )
        self.fields[f"{self.hours}_end"] = forms.TimeField(
            widget=TimeInput, required=False, label="to"
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if bool(data.get(f"{self.hours}_start")) != bool(data.get(f"{self.hours}_end")):
            self.add_error(
                f"{self.hours}_end", f"Give both ends of the {self.hours} hours, or neither."
            )
        return data


class PolicyForm(WeeklyHoursForm):
    hours = "business"

    name = forms.CharField(max_length=100)
    team = forms.ModelChoiceField(queryset=Team.objects.all(), required=False)
    is_team_default = forms.BooleanField(
        required=False, label="The team's default policy (for services without their own)"
    )
    repeat = forms.IntegerField(
        min_value=0, max_value=20, initial=0, help_text="Run all levels again this many times."
    )


class LevelForm(forms.Form):
    delay_minutes = forms.IntegerField(
        min_value=0,
        max_value=7 * 24 * 60,
        initial=30,
        label="Escalate after (minutes)",
        help_text="Minutes before the next level if nobody acknowledges.",
    )
    hours = forms.ChoiceField(
        choices=LevelHours.choices, initial=LevelHours.ALWAYS, label="Applies"
    )
    users = forms.ModelMultipleChoiceField(
        queryset=active_users(), required=False, widget=forms.CheckboxSelectMultiple
    )
    schedules = forms.ModelMultipleChoiceField(
        queryset=Schedule.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )
    teams = forms.ModelMultipleChoiceField(
        queryset=Team.objects.all(), required=False, widget=forms.CheckboxSelectMultiple
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        targets = [*data.get("users", []), *data.get("schedules", []), *data.get("teams", [])]
        if not targets and not self.errors:
            raise ValidationError("Choose at least one user, schedule or team to page.")
        data["targets"] = targets
        return data


class ServiceOnCallForm(WeeklyHoursForm):
    hours = "support"

    policy = forms.ModelChoiceField(
        queryset=EscalationPolicy.objects.all(),
        required=False,
        empty_label="(the team's default policy)",
    )


class ContactMethodForm(forms.Form):
    kind = forms.ChoiceField(choices=ChannelKind.choices, label="Kind")
    address = forms.CharField(max_length=500, help_text="An email address, or the webhook's URL.")
    label = forms.CharField(max_length=100, required=False)


class NotificationRuleForm(forms.Form):
    contact_method = forms.ModelChoiceField(
        queryset=ContactMethod.objects.none(), label="Method", empty_label=None
    )
    delay_minutes = forms.IntegerField(
        min_value=0, max_value=24 * 60, initial=0, label="After (minutes)"
    )

    def __init__(self, *args: Any, user: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["contact_method"].queryset = user.contact_methods.all()


class EscalateForm(forms.Form):
    level = forms.IntegerField(min_value=1, required=False, help_text="Empty: the next level.")
