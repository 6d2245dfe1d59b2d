"""Rate limits that fail open: their counters live in Redis, and Redis being down must not
stop anyone logging an incident (the outbox and the sweeper carry the rest)."""

import logging

from redis.exceptions import RedisError
from rest_framework import throttling

logger = logging.getLogger(__name__)


class FailOpen:
    def allow_request(self, request, view) -> bool:
        try:
            return super().allow_request(request, view)
        except RedisError:
            logger.warning("Cache unavailable: request not rate limited", exc_info=True)
            return True


class AnonRateThrottle(FailOpen, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(FailOpen, throttling.UserRateThrottle):
    pass
