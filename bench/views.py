"""The baselines: what Django itself costs on this stack, with no Vigil code."""

import json

from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

# Created by bench/run.py; not a model, so production has no trace of it.
BARE_TABLE = "bench_bare_alert"


def bare(request: HttpRequest) -> HttpResponse:
    return JsonResponse({"ok": True})


@csrf_exempt
@require_POST
def bare_insert(request: HttpRequest) -> HttpResponse:
    """Parse a JSON alert and insert it as one row: the floor under any ingestion."""
    data = json.loads(request.body)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {BARE_TABLE} (body, created_at) VALUES (%s, now()) RETURNING id",  # noqa: S608
            [json.dumps(data)],
        )
        (pk,) = cursor.fetchone()
    return JsonResponse({"id": pk}, status=202)
