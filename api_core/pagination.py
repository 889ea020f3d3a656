from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Keyset pagination: stable under concurrent inserts and as fast on page
    10,000 as on page 1. Views set ``ordering`` to a unique-ending key."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-pk")
