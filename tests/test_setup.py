"""The project as a new user meets it: deploy settings, the embedded mode, demo data."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from tests.workers import wait_until

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={k: v for k, v in env.items() if v is not None},
        capture_output=True,
        text=True,
        timeout=300,
    )


def base_env(**overrides):
    dropped = ("DATABASE_URL", "REDIS_URL", "DJANGO_ALLOW_ASYNC_UNSAFE")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.update(overrides)
    return env


def test_production_settings_pass_check_deploy():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env=base_env(
            SECRET_KEY="k7#v9-production-grade-secret-key-that-is-long-and-random-8z2q",
            ALLOWED_HOSTS="vigil.example.com",
            DATABASE_URL=os.environ["DATABASE_URL"],
        ),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    result = manage("check", env=base_env(DEBUG="0"))
    assert result.returncode != 0
    assert "Set SECRET_KEY when DEBUG is off." in result.stderr


def test_embedded_mode_migrates_and_loads_demo_data_twice(tmp_path):
    env = base_env(DATABASE_URL=f"sqlite:///{tmp_path / 'vigil.sqlite3'}")

    migrate = manage("migrate", "--noinput", env=env)
    first = manage("demo", env=env)
    second = manage("demo", env=env)
    count = manage(
        "shell",
        "-c",
        "from incidents.models import Incident; print(Incident.objects.count())",
        env=env,
    )

    assert migrate.returncode == 0, migrate.stderr
    assert "Demo data loaded." in first.stdout, first.stderr
    assert "already loaded" in second.stdout
    assert "admin" in second.stdout and "vigil-demo" in second.stdout
    assert int(count.stdout.strip().splitlines()[-1]) >= 12
    journal = manage("dbshell", "--", "PRAGMA journal_mode;", env=env)
    assert journal.stdout.strip().splitlines()[-1] == "wal"


def test_the_pages_serve_on_the_embedded_database(tmp_path):
    """`make run` without DATABASE_URL is SQLite: the pages' SQL must suit it too."""
    env = base_env(DATABASE_URL=f"sqlite:///{tmp_path / 'pages.sqlite3'}")
    assert manage("migrate", "--noinput", env=env).returncode == 0
    for command in ("demo", "demo_postmortems", "demo_statuspage"):
        assert manage(command, env=env).returncode == 0, command

    pages = manage(
        "shell",
        "-c",
        "from django.test import Client; from incidents.models import Incident, User; "
        "c = Client(HTTP_HOST='localhost'); c.force_login(User.objects.get(username='admin')); "
        "n = Incident.objects.order_by('pk').first().number; "
        "paths = ['/', '/incidents/', '/incidents/?q=checkout', f'/incidents/{n}/', "
        "'/metrics/', '/postmortems/', '/status/', '/api/v2/summary.json']; "
        "print(sorted({c.get(p).status_code for p in paths}))",
        env=env,
    )

    assert pages.stdout.strip().splitlines()[-1] == "[200]", pages.stdout + pages.stderr


def test_createsuperuser_noinput_still_works(tmp_path):
    env = base_env(
        DATABASE_URL=f"sqlite:///{tmp_path / 'su.sqlite3'}",
        DJANGO_SUPERUSER_USERNAME="root",
        DJANGO_SUPERUSER_PASSWORD="a-long-password-123",
        DJANGO_SUPERUSER_EMAIL="root@example.com",
    )
    assert manage("migrate", "--noinput", env=env).returncode == 0
    result = manage("createsuperuser", "--noinput", env=env)
    assert result.returncode == 0, result.stderr
    assert "Superuser created successfully." in result.stdout


def test_seed_works_on_the_embedded_database_too(tmp_path):
    env = base_env(DATABASE_URL=f"sqlite:///{tmp_path / 'seed.sqlite3'}")
    assert manage("migrate", "--noinput", env=env).returncode == 0

    result = manage("seed", "--incidents", "120", "--batch", "50", env=env)

    assert result.returncode == 0, result.stderr
    assert "Seeded 120 incidents" in result.stdout


def test_embedded_broker_carries_tasks_without_any_server(tmp_path):
    """No Redis, no PostgreSQL: SQLite and kombu's file-system broker, as `make run` uses."""
    env = base_env(DATABASE_URL=f"sqlite:///{tmp_path / 'embedded.sqlite3'}")
    queue = f"embedded-{uuid.uuid4().hex[:8]}"
    assert manage("migrate", "--noinput", env=env).returncode == 0
    resolve_long_ago = (
        "from datetime import timedelta; from django.utils import timezone; "
        "from incidents import services; from incidents.models import Incident; "
        "i = services.incident_create(by=None, title='old'); "
        "services.incident_transition(incident=i, action='resolve', by=None, "
        "resolution_code='fixed', notes='ok'); "
        "Incident.objects.update(resolved_at=timezone.now() - timedelta(days=30))"
    )
    assert manage("shell", "-c", resolve_long_ago, env=env).returncode == 0
    log = open(tmp_path / "worker.log", "w")  # noqa: SIM115 - closed below
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--queues", queue,
         "--concurrency", "1", "--without-gossip", "--without-mingle", "--loglevel", "INFO"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    try:
        send = "from incidents.tasks import close_stale_incidents as t; "
        send += f"t.apply_async(queue='{queue}')"
        assert manage("shell", "-c", send, env=env).returncode == 0
        status = "from incidents.models import Incident; print(Incident.objects.get().status)"
        wait_until(
            lambda: manage("shell", "-c", status, env=env).stdout.strip().endswith("closed"),
            timeout=60,
            interval=1,
        )
    finally:
        worker.terminate()
        worker.wait(20)
        log.close()
