"""Who is posting, and how often: the integration behind a key, and the key's count in
this minute's window (the per-key rate limit), read on every alert.

On Redis both come from one pipelined round trip: the key's cached entry, the generation
that entry must carry, and INCR + EXPIRE of the key's counter. Every integration save or
delete sets a new generation (receivers.py), so a disabled, rotated or deleted key stops
working with the first request after its change commits. Unknown and disabled keys are
not cached (a flood of bad keys costs queries, not Redis memory); their counters expire
with their window. Without Redis (the embedded mode) the key is read from the database
and counted in Django's cache.
"""

from __future__ import annotations

import functools
import logging
import pickle
import secrets
import time

import redis
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from redis.exceptions import RedisError

from integrations.models import Integration, hash_key

logger = logging.getLogger(__name__)

GENERATION = "integration-keys:generation"
ENTRY_SECONDS = 300
WINDOW = 60


def integration_for_key(key: str | None) -> Integration | None:
    """The enabled integration with this key; None alike for unknown and disabled keys."""
    integration, _ = _read(key, window=None)
    return integration


def admit(key: str | None, now: float | None = None) -> tuple[Integration | None, int | None]:
    """The integration behind `key` (as integration_for_key), with this request counted:
    and, when the key is over its limit, the seconds to wait (else None)."""
    now = time.time() if now is None else now
    window = int(now // WINDOW)
    integration, count = _read(key, window=window)
    if integration is None or count <= integration.rate_limit_per_minute:
        return integration, None
    return integration, max(1, int((window + 1) * WINDOW - now) + 1)


def _read(key: str | None, window: int | None) -> tuple[Integration | None, int]:
    """The integration, and the key's count in `window` with this request (0 uncounted)."""
    if not key or len(key) > 200:
        return None, 0
    key_hash = hash_key(key)
    counter = f"integration-rate:{key_hash}:{window}"
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        count = _count_in_cache(cache, counter) if window is not None else 0
        return _from_database(key_hash), count

    try:
        return _read_redis(cache, key_hash, counter, window)
    except RedisError as error:
        # An alert matters more than its rate limit: the key is read from the database and
        # the request is not counted until Redis is back.
        logger.error("alerts not rate limited: the cache is unreachable (%s)", error)
        return _from_database(key_hash), 0


def _read_redis(
    cache: RedisCache, key_hash: str, counter: str, window: int | None
) -> tuple[Integration | None, int]:
    entry_key = cache.make_key(f"integration-key:{key_hash}")
    generation_key = cache.make_key(GENERATION)
    counter_key = cache.make_key(counter)
    client = _client(cache)
    pipe = client.pipeline(transaction=False)
    pipe.get(entry_key).get(generation_key)
    if window is not None:
        pipe.incr(counter_key).expire(counter_key, WINDOW * 2)
    entry, generation, *counted = pipe.execute()
    count = counted[0] if counted else 0
    if entry is not None and generation is not None:
        entry_generation, integration = pickle.loads(entry)  # noqa: S301 - written below
        if entry_generation == int(generation):
            return integration, count
    # The generation is read before the row: an entry written from a row that a change
    # was about to replace carries a generation that change has already replaced.
    integration = _from_database(key_hash)
    if generation is None:  # first use, or evicted: start one, cache from the next read
        client.set(generation_key, secrets.randbits(62), nx=True)
    elif integration is not None:
        entry = pickle.dumps((int(generation), integration))
        client.set(entry_key, entry, ex=ENTRY_SECONDS)
    return integration, count


@functools.lru_cache(maxsize=16)
def _client(cache: RedisCache) -> redis.Redis:
    """The cache's Redis client, kept: Django builds a new one per call (its command table
    each time), and its cache API has no pipeline (its incr() alone is two round trips).
    Each thread has its own RedisCache, so each keeps its own client."""
    return cache._cache.get_client(write=True)


def _from_database(key_hash: str) -> Integration | None:
    return Integration.objects.filter(key_hash=key_hash, enabled=True).first()


def _count_in_cache(cache, name: str) -> int:
    cache.add(name, 0, timeout=WINDOW * 2)
    try:
        return cache.incr(name)
    except ValueError:  # evicted between add and incr
        cache.set(name, 1, timeout=WINDOW * 2)
        return 1


def _new_generation() -> None:
    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        return
    try:
        _client(cache).set(cache.make_key(GENERATION), secrets.randbits(62))
    except RedisError as error:
        # The change itself must not fail; a cached entry of the old row lives at most
        # ENTRY_SECONDS if this Redis comes back with its data.
        logger.error("integration key cache not invalidated: the cache is unreachable (%s)", error)


def forget_cached_keys() -> None:
    """Invalidate every cached entry: now, for readers inside this transaction, and again
    when it commits, for a reader that cached the old row in between."""
    _new_generation()
    transaction.on_commit(_new_generation)
