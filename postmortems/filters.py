import django_filters
from django.db.models import QuerySet
from django.utils import timezone

from postmortems.enums import ActionStatus, PostmortemStatus
from postmortems.models import ActionItem, Postmortem


class PostmortemFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=PostmortemStatus.choices)
    service = django_filters.CharFilter(field_name="incident__service__slug")
    team = django_filters.CharFilter(field_name="incident__team__slug")

    class Meta:
        model = Postmortem
        fields = []


class ActionItemFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=ActionStatus.choices)
    owner = django_filters.CharFilter(field_name="owner__username")
    postmortem = django_filters.NumberFilter(field_name="postmortem_id")
    overdue = django_filters.BooleanFilter(method="filter_overdue", label="Overdue")
    mine = django_filters.BooleanFilter(method="filter_mine", label="Mine")

    class Meta:
        model = ActionItem
        fields = []

    def filter_overdue(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        overdue = ActionItem.objects.overdue(timezone.localdate()).values("pk")
        return queryset.filter(pk__in=overdue) if value else queryset.exclude(pk__in=overdue)

    def filter_mine(self, queryset: QuerySet, name: str, value: bool) -> QuerySet:
        user = self.request.user
        return queryset.filter(owner=user) if value else queryset.exclude(owner=user)
