from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Keyset pagination: page 20,000 of a million rows costs what page 1 does (no COUNT)."""

    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
