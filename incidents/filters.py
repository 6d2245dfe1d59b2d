from datetime import timedelta

import django_filters
from django import forms
from django.core.validators import EMPTY_VALUES
from django.db.models import Q, QuerySet, Subquery
from django_filters.fields import IsoDateTimeField

from incidents.enums import Priority, Status
from incidents.models import Incident, TimelineEvent, Update

MAX_UTC_OFFSET = timedelta(hours=14)  # the furthest real zone (Line Islands, UTC+14)


class ChoiceInFilter(django_filters.BaseInFilter, django_filters.ChoiceFilter):
    """`?status=triggered,acknowledged`: any of several values."""


class KeyFilter(django_filters.CharFilter):
    """`?service=checkout` with field_name `service__slug`: the row is found by its unique
    key first (a scalar subquery), so the query filters on `service_id` itself. PostgreSQL
    then reads the newest matches from the (service, -id) index; with a join it scanned the
    whole table backwards whenever the named row had few incidents."""

    def filter(self, qs: QuerySet, value: str) -> QuerySet:
        if value in EMPTY_VALUES:
            return qs
        relation, key = self.field_name.split("__")
        model = qs.model._meta.get_field(relation).related_model
        target = model.objects.filter(**{key: value}).values("pk")[:1]
        return qs.filter(**{f"{relation}_id": Subquery(target)})


class StorableDateTimeField(IsoDateTimeField):
    """PostgreSQL refuses UTC offsets past 15:59 that Python accepts (up to 23:59)."""

    def clean(self, value):
        moment = super().clean(value)
        if moment is not None and abs(moment.utcoffset() or timedelta()) > MAX_UTC_OFFSET:
            raise forms.ValidationError("The UTC offset must be within ±14:00.")
        return moment


class StorableDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = StorableDateTimeField


class IncidentFilter(django_filters.FilterSet):
    status = ChoiceInFilter(choices=Status.choices)
    priority = ChoiceInFilter(choices=Priority.choices)
    service = KeyFilter(field_name="service__slug")
    team = KeyFilter(field_name="team__slug")
    assignee = KeyFilter(field_name="assignee__username")
    category = KeyFilter(field_name="category__slug")
    major = django_filters.BooleanFilter(field_name="is_major")
    is_open = django_filters.BooleanFilter(method="filter_open", label="Open")
    opened_after = StorableDateTimeFilter(field_name="created_at", lookup_expr="gte")
    opened_before = StorableDateTimeFilter(field_name="created_at", lookup_expr="lt")
    q = django_filters.CharFilter(method="search", label="Search")

    class Meta:
        model = Incident
        fields = []

    def filter_open(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        return queryset.open() if value else queryset.exclude(pk__in=queryset.open().values("pk"))

    def search(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        match = (
            Q(title__icontains=value)
            | Q(description__icontains=value)
            | Q(error_codes__icontains=value)
        )
        pk = Incident.pk_from_number(value)
        if pk is not None:
            match |= Q(pk=pk)
        return queryset.filter(match)


class TimelineFilter(django_filters.FilterSet):
    kind = django_filters.BaseInFilter()

    class Meta:
        model = TimelineEvent
        fields = ["kind"]


class UpdateFilter(django_filters.FilterSet):
    class Meta:
        model = Update
        fields = ["visibility"]
