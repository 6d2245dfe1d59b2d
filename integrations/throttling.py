"""Per-key rate limit: a fixed one-minute window counted in the cache (Redis)."""

import time

from django.core.cache import cache

from integrations.models import Integration

WINDOW = 60


def retry_after(integration: Integration, now: float | None = None) -> int | None:
    """Count this request; the seconds to wait when the key is over its limit, else None."""
    now = time.time() if now is None else now
    window = int(now // WINDOW)
    key = f"integration-rate:{integration.pk}:{window}"
    cache.add(key, 0, timeout=WINDOW * 2)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr
        cache.set(key, 1, timeout=WINDOW * 2)
        count = 1
    if count <= integration.rate_limit_per_minute:
        return None
    return max(1, int((window + 1) * WINDOW - now) + 1)
