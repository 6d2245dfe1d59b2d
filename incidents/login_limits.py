"""Failed logins counted per username and per client address; past a limit, refused.

Both the web login and the API token login ask `retry_after()` before checking a
password, and Django's `user_login_failed` signal counts every failure (receivers.py).
Counters live in the cache, each with a window that starts at its first failure. When the
cache is unreachable, logins go on unlimited (and say so in the log): a Redis outage must
not lock every responder out in the middle of an incident.
"""

import functools
import hashlib
import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest
from redis.exceptions import RedisError

log = logging.getLogger("vigil.security")


def client_address(request: HttpRequest | None) -> str:
    return (request.META.get("REMOTE_ADDR") if request else None) or "unknown"


def _fail_open(function):
    @functools.wraps(function)
    def guarded(*args, **kwargs):
        try:
            return function(*args, **kwargs)
        except RedisError as error:
            log.error("login limits off: the cache is unreachable (%s)", error)
            return None

    return guarded


def _user_key(username: str) -> str:
    # Hashed: a username is user input, and cache keys must stay short and plain.
    digest = hashlib.sha256(username.lower().encode()).hexdigest()[:32]
    return f"login-failures:user:{digest}"


def _keys(username: str, address: str) -> list[tuple[str, int]]:
    return [
        (_user_key(username), settings.LOGIN_FAILURES_PER_USER),
        (f"login-failures:address:{address}", settings.LOGIN_FAILURES_PER_ADDRESS),
    ]


@_fail_open
def retry_after(*, username: str, request: HttpRequest) -> int | None:
    """Seconds until this username may try again from this address, or None if it may now."""
    now = time.time()
    waits = []
    for key, limit in _keys(username, client_address(request)):
        window = cache.get_many([key, f"{key}:start"])
        if window.get(key, 0) >= limit:
            started = window.get(f"{key}:start", now)
            waits.append(max(1, int(started + settings.LOGIN_FAILURE_WINDOW - now)))
    return max(waits) if waits else None


@_fail_open
def record_failure(*, username: str, request: HttpRequest | None) -> None:
    address = client_address(request)
    window = settings.LOGIN_FAILURE_WINDOW
    for key, _ in _keys(username, address):
        cache.add(f"{key}:start", time.time(), window)
        cache.add(key, 0, window)
        cache.incr(key)
    log.warning("login failed for %r from %s", username, address)


@_fail_open
def record_success(*, username: str) -> None:
    """The owner got in: earlier failures against the name no longer count (the address's do)."""
    key = _user_key(username)
    cache.delete_many([key, f"{key}:start"])


def refusal_message(seconds: int) -> str:
    minutes = -(-seconds // 60)
    return f"Too many failed logins. Try again in {minutes} minute{'s' * (minutes != 1)}."
