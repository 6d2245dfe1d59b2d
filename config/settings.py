"""Vigil settings: everything comes from the environment (see README "Configuration")."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"

env = environ.Env()

# A real SECRET_KEY means a real deployment: DEBUG then defaults to off.
SECRET_KEY = env("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=not SECRET_KEY)
if not SECRET_KEY:
    if not DEBUG:
        raise environ.ImproperlyConfigured("Set SECRET_KEY when DEBUG is off.")
    SECRET_KEY = "django-insecure-vigil-development-only"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "incidents",
    "escalation",
    "postmortems",
    "statuspage",
    "integrations",
    "audit",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "incidents.middleware.RequestSizeLimitMiddleware",
    "incidents.middleware.DatabaseUnavailableMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "audit.middleware.AuditActorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Embedded default: one SQLite file that web, worker and beat share. WAL lets readers
# and the one writer work at once; IMMEDIATE takes the write lock at BEGIN, so two
# writers queue on the busy timeout instead of failing with "database is locked".
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'vigil.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env("CACHE_KEY_PREFIX", default="vigil"),
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(VAR_DIR / "cache"),
        }
    }

AUTH_USER_MODEL = "incidents.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("TIME_ZONE", default="UTC")
# Vigil speaks English only; the translation machinery (looked up on every "3 days" and
# date of a list) cost a quarter of the home page's rendering.
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = env("STATIC_ROOT", default=str(VAR_DIR / "static"))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = env("MEDIA_ROOT", default=str(VAR_DIR / "media"))
MEDIA_URL = "media/"

EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="vigil@localhost")
# Where people reach Vigil: every absolute link (emails, ack links, feeds, the status JSON,
# webhooks and chat messages) starts with it.
BASE_URL = env("BASE_URL", default="http://127.0.0.1:8000").rstrip("/")

# Production hardening; `manage.py check --deploy` is clean with DEBUG off.
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["incidents.permissions.RolePermission"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_PAGINATION_CLASS": "incidents.api.pagination.CursorPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "incidents.api.errors.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "incidents.api.throttling.AnonRateThrottle",
        "incidents.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env("THROTTLE_ANON", default="120/minute"),
        "user": env("THROTTLE_USER", default="6000/minute"),
        "login": env("THROTTLE_LOGIN", default="10/minute"),
    },
}

REST_KNOX = {
    "TOKEN_TTL": timedelta(hours=env.int("API_TOKEN_TTL_HOURS", default=24 * 30)),
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Vigil API",
    "DESCRIPTION": "Incident management: log, classify, assign, work and close incidents.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Impact and urgency share one 1-3 scale, so they share one schema component.
    "ENUM_NAME_OVERRIDES": {"LevelEnum": "incidents.enums.Impact"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "incidents.api.schema.document_errors",
    ],
}

# Celery: with REDIS_URL it is the broker; without it, kombu's filesystem transport in
# var/broker lets worker and beat run with no server at all.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default=REDIS_URL or "filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir, _control_dir = VAR_DIR / "broker", VAR_DIR / "broker-control"
    for _folder in (_broker_dir, _control_dir):
        _folder.mkdir(parents=True, exist_ok=True)  # kombu expects them to exist
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir),
        "data_folder_out": str(_broker_dir),
        "control_folder": str(_control_dir),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        # Well above the longest task's hard limit, so a slow task is not redelivered.
        "visibility_timeout": 3600,
        # Sending a message tries twice at once, then gives up: with Redis down, a request
        # that enqueues after commit must not hang for the default 4 s connect timeout;
        # the outbox row is committed and the sweeper sends it once Redis is back.
        "max_retries": 1,
        "interval_start": 0,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = 60
CELERY_TASK_TIME_LIMIT = 120
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "close-stale-resolved-incidents": {
        "task": "incidents.tasks.close_stale_incidents",
        "schedule": crontab(minute="*/15"),
    },
}

# Incidents
# Panels of the incident page that other apps provide: URL names taking `number`, each
# loaded into the page as an htmx fragment, so `incidents` never imports those apps.
INCIDENT_PAGE_PANELS: list[str] = []
INCIDENT_AUTO_CLOSE_DAYS = env.int("INCIDENT_AUTO_CLOSE_DAYS", default=7)
# Auto-close works in batches (one transaction an incident, a batch per query); one run
# stops after its budget, well inside CELERY_TASK_SOFT_TIME_LIMIT, and the next goes on.
INCIDENT_AUTO_CLOSE_BATCH = env.int("INCIDENT_AUTO_CLOSE_BATCH", default=200)
INCIDENT_AUTO_CLOSE_BUDGET_SECONDS = env.int("INCIDENT_AUTO_CLOSE_BUDGET_SECONDS", default=30)
# Failed logins (web and API) per username and per client address within the window;
# past either limit the login answers 429 until the window ends.
LOGIN_FAILURES_PER_USER = env.int("LOGIN_FAILURES_PER_USER", default=10)
LOGIN_FAILURES_PER_ADDRESS = env.int("LOGIN_FAILURES_PER_ADDRESS", default=50)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=15 * 60)
ATTACHMENT_MAX_BYTES = env.int("ATTACHMENT_MAX_BYTES", default=10 * 1024 * 1024)
DATA_UPLOAD_MAX_MEMORY_SIZE = env.int("DATA_UPLOAD_MAX_MEMORY_SIZE", default=1024 * 1024)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
}

# Browser UI
# How often the live parts of pages (home, the incident timeline) ask for fresh content.
UI_POLL_SECONDS = env.int("UI_POLL_SECONDS", default=10)
# No inline script anywhere: every behaviour lives in static files (htmx, incidents/ui.js).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)
# Third-party pages that need inline styles (never inline script): DRF's browsable API, Swagger.
CONTENT_SECURITY_POLICY_LOOSE_STYLE_PATHS = ("/api/",)
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.middleware.security.SecurityMiddleware") + 1,
    "incidents.middleware.ContentSecurityPolicyMiddleware",
)
MIDDLEWARE.append("incidents.middleware.UserTimeZoneMiddleware")

# Escalation
# Paging levels, timers and notifications are rows; the sweeper (beat, every second)
# claims due ones. Deliveries go to one queue per channel, so a slow channel delays
# only itself: run a worker with -Q celery,notify-email,notify-webhook,notify-slack.
ESCALATION_ENGINE_QUEUE = env("ESCALATION_ENGINE_QUEUE", default="celery")
ESCALATION_NOTIFY_QUEUE_PREFIX = env("ESCALATION_NOTIFY_QUEUE_PREFIX", default="notify-")
ESCALATION_SWEEP_SECONDS = env.float("ESCALATION_SWEEP_SECONDS", default=1.0)
ESCALATION_ACK_LINK_MAX_AGE = env.int("ESCALATION_ACK_LINK_MAX_AGE", default=24 * 3600)
ESCALATION_HTTP_TIMEOUT = env.float("ESCALATION_HTTP_TIMEOUT", default=10.0)
ESCALATION_MAX_ATTEMPTS = env.int("ESCALATION_MAX_ATTEMPTS", default=5)
ESCALATION_RETRY_BASE_SECONDS = env.float("ESCALATION_RETRY_BASE_SECONDS", default=10.0)
# A message for a pending notification is re-sent after this long without a claim.
ESCALATION_REDISPATCH_SECONDS = env.int("ESCALATION_REDISPATCH_SECONDS", default=10)
# Above the hard time limit: a claim older than this belongs to a dead worker.
ESCALATION_SEND_LEASE = env.int("ESCALATION_SEND_LEASE", default=CELERY_TASK_TIME_LIMIT + 30)
# Notifications written for one user in an hour, at most (a flood guard, not a budget).
# Notifications sent per worker message, and the seconds a message may spend sending before
# it hands the rest back to the sweeper (well under CELERY_TASK_SOFT_TIME_LIMIT).
ESCALATION_DELIVER_BATCH = env.int("ESCALATION_DELIVER_BATCH", default=20)
ESCALATION_DELIVER_BUDGET = env.float("ESCALATION_DELIVER_BUDGET", default=20.0)
ESCALATION_NOTIFY_MAX_PER_HOUR = env.int("ESCALATION_NOTIFY_MAX_PER_HOUR", default=120)
ESCALATION_SHIFT_NOTICE_MINUTES = env.int("ESCALATION_SHIFT_NOTICE_MINUTES", default=15)
CELERY_BEAT_SCHEDULE["escalation-sweep"] = {
    "task": "escalation.tasks.sweep",
    "schedule": ESCALATION_SWEEP_SECONDS,
    # A sweep that waited longer than two periods is superseded by a newer one.
    "options": {"queue": ESCALATION_ENGINE_QUEUE, "expires": 2 * ESCALATION_SWEEP_SECONDS + 1},
}
CELERY_BEAT_SCHEDULE["escalation-audit"] = {
    "task": "escalation.tasks.audit",
    "schedule": 60.0,
    "options": {"queue": ESCALATION_ENGINE_QUEUE, "expires": 60},
}
CELERY_BEAT_SCHEDULE["escalation-shift-notices"] = {
    "task": "escalation.tasks.send_shift_notices",
    "schedule": 60.0,
    "options": {"queue": ESCALATION_ENGINE_QUEUE, "expires": 60},
}
INCIDENT_PAGE_PANELS += ["escalation:incident-panel"]

# Statuspage
# The public page is at /status/; on STATUSPAGE_HOST (its own host name) it is at /.
STATUSPAGE_HOST = env("STATUSPAGE_HOST", default="")
if STATUSPAGE_HOST:
    ALLOWED_HOSTS.append(STATUSPAGE_HOST)
MIDDLEWARE.insert(0, "statuspage.middleware.StatusHostMiddleware")
# Cached public outputs are retired on every change; this only bounds a missed bump.
STATUSPAGE_CACHE_SECONDS = env.int("STATUSPAGE_CACHE_SECONDS", default=300)
STATUSPAGE_BROWSER_CACHE_SECONDS = env.int("STATUSPAGE_BROWSER_CACHE_SECONDS", default=10)
STATUSPAGE_LOCAL_SECONDS = env.float("STATUSPAGE_LOCAL_SECONDS", default=1.0)
STATUSPAGE_WEBHOOK_TIMEOUT = env.int("STATUSPAGE_WEBHOOK_TIMEOUT", default=10)
# Subscribe attempts per client address: (count, seconds).
STATUSPAGE_SUBSCRIBE_RATE = (env.int("STATUSPAGE_SUBSCRIBE_PER_HOUR", default=10), 3600)
CELERY_BEAT_SCHEDULE["statuspage-advance-maintenances"] = {
    "task": "statuspage.tasks.advance_maintenances",
    "schedule": crontab(minute="*"),
}
CELERY_BEAT_SCHEDULE["statuspage-sweep-notifications"] = {
    "task": "statuspage.tasks.sweep_notifications",
    "schedule": crontab(minute="*"),
}
CELERY_BEAT_SCHEDULE["statuspage-rollup-uptime"] = {
    "task": "statuspage.tasks.rollup_uptime",
    "schedule": crontab(minute="*/10"),
}
INCIDENT_PAGE_PANELS += ["statuspage:incident-panel"]
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"] |= {
    "ComponentStatusEnum": "statuspage.enums.ComponentStatus",
    "PublicStatusEnum": "incidents.enums.PublicStatus",
    "PublishStatusEnum": ["investigating", "identified", "monitoring"],
    "MaintenanceVerifyEnum": ["verifying"],
}

# Postmortems
# A draft still in draft this many days after its incident resolved gets a reminder.
POSTMORTEM_DRAFT_REMINDER_DAYS = env.int("POSTMORTEM_DRAFT_REMINDER_DAYS", default=5)
# Memory for the sorts behind the metrics' medians (PostgreSQL work_mem, per query).
METRICS_WORK_MEM = env("METRICS_WORK_MEM", default="64MB")
# random_page_cost for the metrics' queries: 1.1 suits SSDs (PostgreSQL's default 4, disks).
METRICS_RANDOM_PAGE_COST = env.float("METRICS_RANDOM_PAGE_COST", default=1.1)
# The dashboard is cached per scope this long; a beat task refreshes the default view before
# it expires. A scope of more incidents than METRICS_INLINE_MAX is computed by a worker (at
# most METRICS_COMPUTE_SECONDS) while the page says so, never inside a web request.
METRICS_CACHE_SECONDS = env.int("METRICS_CACHE_SECONDS", default=300)
METRICS_INLINE_MAX = env.int("METRICS_INLINE_MAX", default=50_000)
METRICS_COMPUTE_SECONDS = env.int("METRICS_COMPUTE_SECONDS", default=600)
METRICS_QUEUE = env("METRICS_QUEUE", default="celery")
INCIDENT_PAGE_PANELS += ["postmortems:incident-panel"]
# Optional AI assist: the full URL of an OpenAI-compatible chat-completions endpoint
# (e.g. http://127.0.0.1:11434/v1/chat/completions for Ollama). Unset: nothing is sent.
LLM_API_URL = env("LLM_API_URL", default="")
LLM_API_KEY = env("LLM_API_KEY", default="")
LLM_MODEL = env("LLM_MODEL", default="llama3.1")
LLM_TIMEOUT_SECONDS = env.float("LLM_TIMEOUT_SECONDS", default=30)
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"].update(
    {
        "PostmortemStatusEnum": "postmortems.enums.PostmortemStatus",
        "ActionStatusEnum": "postmortems.enums.ActionStatus",
        "ActionPriorityEnum": "postmortems.enums.ActionPriority",
        "PriorityEnum": "incidents.enums.Priority",
    }
)
CELERY_BEAT_SCHEDULE["postmortem-reminders"] = {
    "task": "postmortems.tasks.send_reminders",
    "schedule": crontab(minute=0, hour="*/6"),
}
CELERY_BEAT_SCHEDULE["metrics-default-dashboard"] = {
    "task": "postmortems.tasks.refresh_default_dashboard",
    "schedule": max(METRICS_CACHE_SECONDS - 60, 30),
    "options": {"expires": max(METRICS_CACHE_SECONDS - 60, 30)},
}

# Integrations
INTEGRATION_MAX_BODY_BYTES = env.int("INTEGRATION_MAX_BODY_BYTES", default=512 * 1024)
CELERY_BEAT_SCHEDULE["integrations-heartbeats"] = {
    "task": "integrations.tasks.check_heartbeats",
    "schedule": timedelta(seconds=30),
}
SPECTACULAR_SETTINGS["ENUM_NAME_OVERRIDES"]["IntegrationKindEnum"] = (
    "integrations.enums.IntegrationKind"
)
WEBHOOK_DISABLE_AFTER_FAILURES = env.int("WEBHOOK_DISABLE_AFTER_FAILURES", default=15)
CELERY_BEAT_SCHEDULE["integrations-webhooks"] = {
    "task": "integrations.tasks.sweep_webhooks",
    "schedule": timedelta(seconds=30),
}
CELERY_BEAT_SCHEDULE["integrations-automation"] = {
    "task": "integrations.tasks.sweep_automation_calls",
    "schedule": timedelta(seconds=30),
}
