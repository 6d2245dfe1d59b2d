"""The project as a new user meets it: deploy settings, the embedded mode, demo data."""

import os
import subprocess
import sys
from pathlib import Path

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
