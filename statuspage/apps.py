from django.apps import AppConfig


class StatuspageConfig(AppConfig):
    name = "statuspage"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from statuspage import receivers  # noqa: F401 - connects the event receivers
