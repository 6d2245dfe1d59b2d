"""The public outputs' cache: one version key, bumped after every change they show.

Each entry carries the version it was rendered at, and a hit is an entry whose version is
the current one, so a bump retires all of them at once and nothing has to know which
outputs a change touched. The version and the entry are read in one round trip (MGET).
The version is the time of the change in milliseconds, which also gives Last-Modified.
Every call survives Redis being down: the view then renders from the database.

In front of Redis, each process keeps the outputs it served and trusts the version it last
read for STATUSPAGE_LOCAL_SECONDS, so most hits touch no network at all. A change shows at
once in the process that made it and within that time in the others: well inside the
STATUSPAGE_BROWSER_CACHE_SECONDS that browsers may keep a page anyway.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

logger = logging.getLogger(__name__)

VERSION_KEY = "statuspage:version"


def _now_ms() -> int:
    return int(time.time() * 1000)


def bump() -> None:
    """Retire every cached public output once the current transaction commits."""

    def set_version() -> None:
        _Local.checked = float("-inf")  # this process sees its own change at once
        try:
            cache.set(VERSION_KEY, _now_ms(), timeout=None)
        except Exception:
            # Entries also expire on their own (STATUSPAGE_CACHE_SECONDS), which bounds
            # how stale a page can be when Redis missed the bump.
            logger.warning("Cache unavailable: status page version not bumped", exc_info=True)

    transaction.on_commit(set_version)


def current_version() -> int | None:
    try:
        version = cache.get(VERSION_KEY)
        if version is None:
            version = _now_ms()
            if not cache.add(VERSION_KEY, version, timeout=None):
                version = cache.get(VERSION_KEY)
        return version
    except Exception:
        logger.warning("Cache unavailable: serving the status page from the database")
        return None


@dataclass(frozen=True)
class Rendered:
    body: bytes
    content_type: str
    etag: str
    last_modified: float | None
    status: int = 200


LOCAL_OUTPUTS_MAX = 256


class _Local:
    """This process's copy: the version read at `checked` (monotonic seconds), and the
    outputs served, each with the version it was rendered at."""

    version: int | None = None
    checked: float = float("-inf")
    outputs: dict[str, tuple[int, Rendered]] = {}


def _local_hit(key: str) -> Rendered | None:
    if time.monotonic() - _Local.checked >= settings.STATUSPAGE_LOCAL_SECONDS:
        return None
    version, rendered = _Local.outputs.get(key, (None, None))
    return rendered if version is not None and version == _Local.version else None


def _keep_local(key: str, version: int, rendered: Rendered, checked: float) -> None:
    if len(_Local.outputs) >= LOCAL_OUTPUTS_MAX:  # bounded: query strings vary
        _Local.outputs = {}
    _Local.outputs[key] = (version, rendered)
    _Local.version, _Local.checked = version, checked


def _respond(request: HttpRequest, rendered: Rendered) -> HttpResponse:
    conditional = get_conditional_response(
        request, etag=rendered.etag, last_modified=rendered.last_modified
    )
    if isinstance(conditional, HttpResponseNotModified):
        response = conditional
    else:
        response = HttpResponse(
            rendered.body, content_type=rendered.content_type, status=rendered.status
        )
    response["ETag"] = rendered.etag
    if rendered.last_modified:
        response["Last-Modified"] = http_date(rendered.last_modified)
    response["Cache-Control"] = f"public, max-age={settings.STATUSPAGE_BROWSER_CACHE_SECONDS}"
    return response


def cached_output(
    request: HttpRequest, key: str, render: Callable[[], HttpResponse]
) -> HttpResponse:
    """Serve `key` from the cache, or render it, store it and serve it."""
    if rendered := _local_hit(key):
        return _respond(request, rendered)
    checked = time.monotonic()
    entry_key = f"statuspage:output:{key}"
    try:
        found = cache.get_many([VERSION_KEY, entry_key])
    except Exception:
        found = {}
    version = found.get(VERSION_KEY) or current_version()
    entry_version, rendered = found.get(entry_key) or (None, None)
    if version is not None and entry_version == version:
        _keep_local(key, version, rendered, checked)
        return _respond(request, rendered)
    response = render()
    if response.status_code != 200:
        return response
    body = response.content
    rendered = Rendered(
        body=body,
        content_type=response["Content-Type"],
        etag=f'"{hashlib.blake2b(body, digest_size=16).hexdigest()}"',
        last_modified=version // 1000 if version else None,  # HTTP dates have seconds
    )
    if version is not None:
        try:
            cache.set(entry_key, (version, rendered), timeout=settings.STATUSPAGE_CACHE_SECONDS)
        except Exception:
            logger.warning("Cache unavailable: status page output not stored")
        else:
            _keep_local(key, version, rendered, checked)
    return _respond(request, rendered)


def version_time(version: int | None) -> datetime | None:
    return datetime.fromtimestamp(version / 1000, tz=UTC) if version else None
