"""Per-key rate limit: a fixed one-minute window counted in the cache (Redis)."""

import time

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

from integrations.models import Integration

WINDOW = 60


def _count(key: str) -> int:
    """Count one more in this window: one round trip on Redis (INCR and EXPIRE pipelined)."""
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        # Django's cache API has no pipeline, and its incr() checks existence first:
        # three round trips per alert where one will do.
        redis_key = cache.make_and_validate_key(key)
        pipe = cache._cache.get_client(redis_key, write=True).pipeline(transaction=False)
        pipe.incr(redis_key)
        pipe.expire(redis_key, WINDOW * 2)
        count, _ = pipe.execute()
        return count
    cache.add(key, 0, timeout=WINDOW * 2)
    try:
        return cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=WINDOW * 2)
        return 1


def retry_after(integration: Integration, now: float | None = None) -> int | None:
    """Count this request; the seconds to wait when the key is over its limit, else None."""
    now = time.time() if now is None else now
    window = int(now // WINDOW)
    count = _count(f"integration-rate:{integration.pk}:{window}")
    if count <= integration.rate_limit_per_minute:
        return None
    return max(1, int((window + 1) * WINDOW - now) + 1)
