import factory
from factory.django import DjangoModelFactory

from integrations import services
from integrations.models import Integration
from tests.factories import ServiceFactory


class IntegrationFactory(DjangoModelFactory):
    """Created through the service; the plain key is on `.key` (as the API shows it once)."""

    class Meta:
        model = Integration

    name = factory.Sequence(lambda n: f"Monitor {n}")
    service = factory.SubFactory(ServiceFactory)
    kind = "generic"

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        integration, key = services.integration_create(**kwargs)
        integration.key = key
        return integration
