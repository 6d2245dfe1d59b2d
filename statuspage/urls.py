"""Pages and API routes of the statuspage app, with their full paths (included at the root)."""

urlpatterns: list = []
