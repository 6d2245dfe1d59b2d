from django.apps import AppConfig
from django.db.backends.signals import connection_created


class PostmortemsConfig(AppConfig):
    name = "postmortems"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here: these modules import models, which are not ready before now.
        from postmortems import metrics, receivers  # noqa: F401 - connects the receivers

        connection_created.connect(metrics.sqlite_functions, dispatch_uid="vigil-sqlite-median")
