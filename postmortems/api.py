"""REST API of the postmortems app: thin views over services and selectors."""

from functools import cached_property

from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from incidents.models import Incident
from postmortems import serializers as s
from postmortems import services
from postmortems.export import to_markdown
from postmortems.filters import ActionItemFilter, PostmortemFilter
from postmortems.models import ActionItem, ContributingFactor, Postmortem, TimelinePick

ACTION_PATTERN = "|".join(services.TRANSITIONS)


def visible_postmortems(user):
    return Postmortem.objects.filter(incident__in=Incident.objects.visible_to(user).values("pk"))


class PostmortemViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    filterset_class = PostmortemFilter
    ordering_fields = ["id", "created_at"]
    http_method_names = ["get", "post", "patch", "options", "head"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Postmortem.objects.none()
        qs = visible_postmortems(self.request.user).select_related("incident", "author")
        if self.action == "list":
            return qs
        return qs.select_related("incident__service", "incident__team").prefetch_related(
            "reviewers",
            "factors",
            Prefetch("picks", TimelinePick.objects.select_related("event")),
            Prefetch("actions", ActionItem.objects.select_related("owner", "postmortem__incident")),
            "transitions__by",
        )

    def get_serializer_class(self):
        return s.PostmortemListSerializer if self.action == "list" else s.PostmortemSerializer

    def _respond(self, postmortem, code=status.HTTP_200_OK):
        postmortem = self.get_queryset().get(pk=postmortem.pk)
        return Response(s.PostmortemSerializer(postmortem).data, status=code)

    @extend_schema(request=s.PostmortemCreateSerializer, responses={201: s.PostmortemSerializer})
    def create(self, request):
        """Start a postmortem by hand, for any incident."""
        data = s.PostmortemCreateSerializer(data=request.data, context={"request": request})
        data.is_valid(raise_exception=True)
        postmortem = services.postmortem_create(
            incident=data.validated_data["incident"], by=request.user
        )
        return self._respond(postmortem, status.HTTP_201_CREATED)

    @extend_schema(request=s.PostmortemWriteSerializer, responses=s.PostmortemSerializer)
    def partial_update(self, request, pk=None):
        postmortem = self.get_object()
        data = s.PostmortemWriteSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        services.postmortem_update(postmortem=postmortem, by=request.user, **data.validated_data)
        return self._respond(postmortem)

    def update(self, request, *args, **kwargs):
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(
        request=s.PostmortemTransitionSerializer,
        responses=s.PostmortemSerializer,
        parameters=[OpenApiParameter("transition", str, "path", enum=list(services.TRANSITIONS))],
        operation_id="postmortems_transition",
    )
    @action(detail=True, methods=["post"], url_path=f"(?P<transition>{ACTION_PATTERN})")
    def transition(self, request, pk=None, transition=None):
        """draft → in review (name reviewers) → published; `return` sends it back to draft."""
        postmortem = self.get_object()
        data = s.PostmortemTransitionSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.postmortem_transition(
            postmortem=postmortem, action=transition, by=request.user, **data.validated_data
        )
        return self._respond(postmortem)

    @extend_schema(methods=["get"], responses=s.RevisionSerializer(many=True))
    @extend_schema(
        methods=["post"], request=s.RevisionWriteSerializer, responses=s.RevisionSerializer
    )
    @action(detail=True, methods=["get", "post"])
    def revisions(self, request, pk=None):
        """The published revisions; POST edits a published postmortem as a new revision."""
        postmortem = self.get_object()
        if request.method == "GET":
            revisions = postmortem.revisions.select_related("by")
            return Response(s.RevisionSerializer(revisions, many=True).data)
        data = s.RevisionWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        revision = services.postmortem_revise(
            postmortem=postmortem, by=request.user, **data.validated_data
        )
        return Response(s.RevisionSerializer(revision).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "text/markdown"): str})
    @action(detail=True, methods=["get"])
    def export(self, request, pk=None):
        postmortem = self.get_object()
        response = HttpResponse(
            to_markdown(postmortem), content_type="text/markdown; charset=utf-8"
        )
        filename = f"postmortem-{postmortem.incident.number}.md"
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


class PostmortemChildViewSet(viewsets.GenericViewSet):
    pagination_class = None

    @cached_property
    def postmortem(self) -> Postmortem:
        return get_object_or_404(
            visible_postmortems(self.request.user), pk=self.kwargs["postmortem_pk"]
        )

    def initial(self, request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)
        # 404 before the input is read: a 400 would tell an outsider the postmortem exists.
        self.postmortem  # noqa: B018

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.model.objects.none()
        return self.scoped(self.postmortem)


class FactorViewSet(
    mixins.ListModelMixin, mixins.CreateModelMixin, mixins.DestroyModelMixin, PostmortemChildViewSet
):
    serializer_class = s.FactorSerializer
    model = ContributingFactor

    def scoped(self, postmortem):
        return postmortem.factors.all()

    def perform_create(self, serializer):
        serializer.instance = services.factor_add(
            postmortem=self.postmortem, by=self.request.user, **serializer.validated_data
        )

    def perform_destroy(self, instance):
        services.factor_remove(factor=instance, by=self.request.user)


class PickViewSet(
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    PostmortemChildViewSet,
):
    """The postmortem's curated timeline: picks of incident events with annotations."""

    serializer_class = s.PickSerializer
    model = TimelinePick
    http_method_names = ["get", "post", "patch", "delete", "options", "head"]

    def scoped(self, postmortem):
        return postmortem.picks.select_related("event")

    def get_serializer_class(self):
        if self.action == "partial_update":
            return s.PickAnnotateSerializer
        return s.PickSerializer

    def perform_create(self, serializer):
        serializer.instance = services.pick_add(
            postmortem=self.postmortem, by=self.request.user, **serializer.validated_data
        )

    def partial_update(self, request, *args, **kwargs):
        pick = self.get_object()
        data = s.PickAnnotateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        pick = services.pick_annotate(pick=pick, by=request.user, **data.validated_data)
        return Response(s.PickSerializer(pick).data)

    def perform_destroy(self, instance):
        services.pick_remove(pick=instance, by=self.request.user)


class PostmortemActionViewSet(mixins.CreateModelMixin, PostmortemChildViewSet):
    serializer_class = s.ActionItemSerializer
    model = ActionItem

    def scoped(self, postmortem):
        return postmortem.actions.select_related("owner")

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data.pop("status", None)
        data.pop("wont_do_reason", None)
        serializer.instance = services.action_item_add(
            postmortem=self.postmortem, by=self.request.user, **data
        )


class ActionItemViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Action items across all postmortems; `?overdue=true`, `?mine=true`, `?status=`."""

    serializer_class = s.ActionItemSerializer
    filterset_class = ActionItemFilter
    ordering_fields = ["id", "due_date"]
    http_method_names = ["get", "patch", "options", "head"]

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ActionItem.objects.none()
        return ActionItem.objects.filter(
            postmortem__in=visible_postmortems(self.request.user).values("pk")
        ).select_related("owner", "postmortem__incident")

    def perform_update(self, serializer):
        serializer.instance = services.action_item_update(
            item=serializer.instance, by=self.request.user, **serializer.validated_data
        )
