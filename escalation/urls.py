"""Pages and API routes of the escalation app, with their full paths (included at the root)."""

urlpatterns: list = []
