"""Pages and API routes of the postmortems app, with their full paths (included at the root)."""

urlpatterns: list = []
