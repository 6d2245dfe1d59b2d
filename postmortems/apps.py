from django.apps import AppConfig


class PostmortemsConfig(AppConfig):
    name = "postmortems"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from postmortems import receivers  # noqa: F401 - connects the receivers
