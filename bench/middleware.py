"""Tell the load generator what each response cost on the server: SQL queries and time."""

import time
from collections.abc import Callable

from django.db import connection
from django.http import HttpRequest, HttpResponse


def measure(get_response: Callable[[HttpRequest], HttpResponse]):
    def middleware(request: HttpRequest) -> HttpResponse:
        queries = 0

        def count(execute, sql, params, many, context):
            nonlocal queries
            queries += 1
            return execute(sql, params, many, context)

        started = time.perf_counter()
        with connection.execute_wrapper(count):
            response = get_response(request)
        response["X-Bench-Queries"] = str(queries)
        response["X-Bench-Server-Ms"] = f"{(time.perf_counter() - started) * 1000:.2f}"
        return response

    return middleware
