import factory
from factory.django import DjangoModelFactory

from statuspage import services
from statuspage.models import Component, ComponentGroup


class GroupFactory(DjangoModelFactory):
    class Meta:
        model = ComponentGroup

    name = factory.Sequence(lambda n: f"Group {n}")
    position = factory.Sequence(int)


class ComponentFactory(DjangoModelFactory):
    """Components are created through the service, so each has its first history row."""

    class Meta:
        model = Component

    name = factory.Sequence(lambda n: f"Component {n}")
    position = factory.Sequence(int)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.component_create(**kwargs)
