"""`bench/run.py --smoke`: the whole harness (stack, seed, load, table, JSON) in seconds."""

import json
import subprocess
import sys
from pathlib import Path

import psycopg2
import pytest
from django.conf import settings
from django.db import connections
from psycopg2 import sql

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def bench_database(django_db_setup, django_db_blocker):
    """A copy of the migrated test database (a template copy takes a second; migrating
    a fresh one takes longer than the whole smoke run)."""
    db = settings.DATABASES["default"]
    name = db["NAME"] + "_smoke"
    server = {k.lower(): db[k] for k in ("HOST", "PORT", "USER", "PASSWORD") if db.get(k)}

    def admin(statement: sql.Composable) -> None:
        conn = psycopg2.connect(dbname="postgres", **server)
        conn.autocommit = True
        with conn.cursor() as cursor:
            cursor.execute(statement)
        conn.close()

    with django_db_blocker.unblock():
        connections.close_all()  # a template must have no other session
        # Threads of earlier live-server tests leave idle connections behind; they are
        # health-checked before reuse, so ending them is safe.
        admin(
            sql.SQL(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = {} AND pid <> pg_backend_pid()"
            ).format(sql.Literal(db["NAME"]))
        )
        admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        admin(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(db["NAME"])
            )
        )
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    yield f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT'] or 5432}/{name}"
    admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.mark.worker
def test_bench_smoke_run_prints_the_table_and_writes_json(bench_database, tmp_path):
    output = tmp_path / "latest.json"
    done = subprocess.run(
        [sys.executable, "bench/run.py", "--smoke", "--only", "status", "--output", str(output),
         "--database-url", bench_database, "--redis-url", settings.REDIS_URL],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip

    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "scenario" in done.stdout and "status page /status/" in done.stdout
    rows = {row["scenario"]: row for row in json.loads(output.read_text())["rows"]}
    assert set(rows) == {
        "bare Django view (GET)",
        "bare Django insert view (POST)",
        "status page /status/",
        "/api/v2/summary.json",
    }
    assert all(row["rate"] > 0 and row["errors"] == 0 for row in rows.values())
    assert rows["/api/v2/summary.json"]["queries"] < 1  # a cache hit costs no SQL
