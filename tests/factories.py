import factory
from factory.django import DjangoModelFactory

from incidents import services
from incidents.models import Category, Incident, Runbook, RunbookStep, Service, Team, User

PASSWORD = "correct horse battery staple"


class UserFactory(DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ["username"]
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    role = "responder"
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def _save_password(self, create, extracted, **kwargs):
        if create:
            self.save(update_fields=["password"])


class TeamFactory(DjangoModelFactory):
    class Meta:
        model = Team
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Team {n}")
    slug = factory.Sequence(lambda n: f"team-{n}")

    @factory.post_generation
    def members(self, create, extracted, **kwargs):
        if create and extracted:
            self.members.set(extracted)


class ServiceFactory(DjangoModelFactory):
    class Meta:
        model = Service

    name = factory.Sequence(lambda n: f"Service {n}")
    slug = factory.Sequence(lambda n: f"service-{n}")


class CategoryFactory(DjangoModelFactory):
    class Meta:
        model = Category

    name = factory.Sequence(lambda n: f"Category {n}")
    slug = factory.Sequence(lambda n: f"category-{n}")


class RunbookFactory(DjangoModelFactory):
    class Meta:
        model = Runbook
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Runbook {n}")

    @factory.post_generation
    def steps(self, create, extracted, **kwargs):
        for i, title in enumerate(extracted or ["Look", "Fix"]):
            RunbookStep.objects.create(runbook=self, position=i, title=title)


class IncidentFactory(DjangoModelFactory):
    """Incidents are logged through the service, exactly as the API and UI log them."""

    class Meta:
        model = Incident

    title = factory.Sequence(lambda n: f"Something broke #{n}")
    by = factory.SubFactory(UserFactory)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        return services.incident_create(**kwargs)
