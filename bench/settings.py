"""Production settings plus what only a benchmark needs: the bare views and the
measuring middleware. Used by the gunicorn that `bench/run.py` starts, never deployed."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
# Outermost, so the headers cover every other middleware's work and queries.
MIDDLEWARE = ["bench.middleware.measure", *MIDDLEWARE]  # noqa: F405
