import pytest
import redis
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.workers import WorkerProcess, free_port


def pytest_configure(config):
    """The suite proves Vigil against real PostgreSQL and Redis: without them it fails."""
    engine = django_settings.DATABASES["default"]["ENGINE"]
    if "postgresql" not in engine:
        raise pytest.UsageError(
            f"Tests need PostgreSQL (DATABASE_URL), not {engine}; `make test` sets it up."
        )
    if not django_settings.REDIS_URL:
        raise pytest.UsageError("Tests need Redis: set REDIS_URL; `make test` sets it up.")
    try:
        redis.Redis.from_url(django_settings.REDIS_URL).ping()
    except redis.RedisError as error:
        raise pytest.UsageError(
            f"Redis at {django_settings.REDIS_URL} is not answering: {error}"
        ) from error


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture(autouse=True)
def _fresh_cache(settings):
    """Throttle counters live in the Redis cache: start every test with none. The status
    page's per-process copy would outlive that clear, so it is off unless a test turns it
    on (tests/statuspage/test_cache.py)."""
    from django.core.cache import cache

    cache.clear()
    settings.STATUSPAGE_LOCAL_SECONDS = 0


@pytest.fixture
def unreachable_cache(settings):
    """The Redis cache pointed at a port nobody listens on, as when Redis is down."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
        }
    }


@pytest.fixture
def api():
    """An API client; `api.as_user(user)` logs it in with a real session."""

    class Client(APIClient):
        def as_user(self, user):
            self.force_login(user)
            return self

    return Client()


@pytest.fixture
def responder(db):
    return UserFactory(role="responder", username="ravi")


@pytest.fixture
def stakeholder(db):
    return UserFactory(role="stakeholder", username="stella")


@pytest.fixture
def manager(db):
    return UserFactory(role="manager", username="maria")


@pytest.fixture
def admin_user(db):
    return UserFactory(role="admin", username="ada")


@pytest.fixture
def celery_worker(transactional_db, tmp_path):
    """A real `celery worker` process on its own Redis queue, seeing committed rows."""
    worker = WorkerProcess(tmp_path / "worker.log").start()
    yield worker
    worker.stop()
