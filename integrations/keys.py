"""The integration behind a key, looked up on every alert: cached in Redis, yet exact.

An entry carries the generation it was read under, and every integration save or delete
sets a new generation (receivers.py), so a disabled, rotated or deleted key stops working
with the first request after its change commits. A stream of alerts reads entry and
generation in one round trip (MGET) instead of a query. Unknown and disabled keys are
not cached: a flood of bad keys costs queries, not Redis memory.
"""

from __future__ import annotations

import secrets

from django.core.cache import cache
from django.db import transaction

from integrations.models import Integration, hash_key

GENERATION = "integration-keys:generation"
ENTRY_SECONDS = 300


def _entry(key_hash: str) -> str:
    return f"integration-key:{key_hash}"


def integration_for_key(key: str | None) -> Integration | None:
    """The enabled integration with this key; None alike for unknown and disabled keys."""
    if not key or len(key) > 200:
        return None
    key_hash = hash_key(key)
    found = cache.get_many([_entry(key_hash), GENERATION])
    generation = found.get(GENERATION)
    entry = found.get(_entry(key_hash))
    if entry is not None and generation is not None and entry[0] == generation:
        return entry[1]
    # The generation is read before the row: an entry written from a row that a change
    # was about to replace carries a generation that change has already replaced.
    integration = Integration.objects.filter(key_hash=key_hash, enabled=True).first()
    if generation is None:  # first use, or evicted: start one, cache from the next read
        cache.add(GENERATION, secrets.randbits(62), timeout=None)
    elif integration is not None:
        cache.set(_entry(key_hash), (generation, integration), ENTRY_SECONDS)
    return integration


def _new_generation() -> None:
    cache.set(GENERATION, secrets.randbits(62), timeout=None)


def forget_cached_keys() -> None:
    """Invalidate every cached entry: now, for readers inside this transaction, and again
    when it commits, for a reader that cached the old row in between."""
    _new_generation()
    transaction.on_commit(_new_generation)
