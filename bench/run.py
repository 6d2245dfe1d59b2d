"""`make bench`: Vigil under load on this machine, against a bare Django view, in one table.

Sets up its own PostgreSQL database and Redis database, seeds incidents (reusing rows an
earlier run left), starts gunicorn, a Celery worker and beat as the Procfile does with
DEBUG off, runs the scenarios, prints the table and writes bench/results/latest.json.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import secrets
import signal
import sys
import time
import traceback
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

# Run as a script (`python bench/run.py`): the project root must be importable.
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCENARIOS = ["ingestion", "api", "pages", "status", "escalation", "metrics"]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/vigil_benchrun"
        ),
    )
    parser.add_argument(
        "--redis-url", default=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/7")
    )
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--escalations", type=int, default=10_000)
    parser.add_argument(
        "--escalation-spread",
        type=float,
        default=180.0,
        help="seconds over which the running escalations' next levels fall due",
    )
    parser.add_argument(
        "--escalation-burst", type=int, default=10_000, help="levels due at one instant (stress)"
    )
    parser.add_argument(
        "--escalation-timeout",
        type=float,
        default=180.0,
        help="seconds to wait for the burst's pages",
    )
    parser.add_argument(
        "--metrics-incidents",
        type=int,
        default=1_000_000,
        help="the metrics scenario tops the database up to this many (kept for later runs)",
    )
    parser.add_argument("--duration", type=float, default=8.0, help="seconds per measurement")
    parser.add_argument("--concurrency", type=int, default=6)
    parser.add_argument("--only", nargs="*", choices=SCENARIOS, default=SCENARIOS)
    parser.add_argument("--output", type=Path, default=ROOT / "bench" / "results" / "latest.json")
    parser.add_argument(
        "--smoke", action="store_true", help="a few seconds on a tiny database (tests use it)"
    )
    args = parser.parse_args(argv)
    if args.smoke:
        args.incidents, args.duration, args.concurrency = min(args.incidents, 300), 0.5, 2
        args.escalations, args.metrics_incidents = 20, args.incidents
        args.escalation_spread, args.escalation_burst = 2.0, 20
    return args


def environment(args: argparse.Namespace) -> dict[str, str]:
    """Production settings (DEBUG off) pointed at the benchmark's own databases."""
    return {
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "CELERY_BROKER_URL": args.redis_url,
        "SECRET_KEY": "bench-" + secrets.token_urlsafe(32),
        "DEBUG": "false",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "STATIC_ROOT": str(ROOT / "var" / "bench" / "static"),
        "CACHE_KEY_PREFIX": "vigil-bench",
        # Notifications are "sent" without a mail server: the engine's work, not SMTP's.
        "EMAIL_URL": "dummymail://",
        # One benchmark user would meet the per-user API limit (6,000 a minute) at once.
        "THROTTLE_USER": "10000000/minute",
        "THROTTLE_ANON": "10000000/minute",
        # Every benchmark page goes to one on-call user, who would meet the hourly cap at once.
        "ESCALATION_NOTIFY_MAX_PER_HOUR": "10000000",
        "DJANGO_SETTINGS_MODULE": "config.settings",
    }


def create_database(url: str) -> None:
    import psycopg2
    from psycopg2 import sql

    name = url.rsplit("/", 1)[1]
    conn = psycopg2.connect(url.rsplit("/", 1)[0] + "/postgres")
    conn.autocommit = True  # CREATE DATABASE refuses to run in a transaction
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    conn.close()


def fmt(value: float | None, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"


def table(rows: list) -> str:
    header = ["scenario", "req/s", "p50 ms", "p95 ms", "p99 ms", "SQL/req", "vs bare", "errors"]
    lines = []
    for row in rows:
        lines.append(
            [
                row.scenario,
                fmt(row.rate, 0),
                fmt(row.p50),
                fmt(row.p95),
                fmt(row.p99),
                fmt(row.queries),
                fmt(row.ratio, 2),
                str(row.errors),
                row.note,
            ]
        )
    widths = [max(len(h), *(len(line[i]) for line in lines)) for i, h in enumerate(header)]
    out = [" | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " | note"]
    out.append("-|-".join("-" * w for w in widths) + "-|-----")
    for line in lines:
        numbers = zip(line[1:8], widths[1:], strict=True)
        cells = [line[0].ljust(widths[0])] + [c.rjust(w) for c, w in numbers]
        out.append(" | ".join(cells) + " | " + line[8])
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # `kill` stops the stack too: SystemExit runs the `finally` that stops it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    env = environment(args)  # once: web, workers and this process share the SECRET_KEY
    os.environ.update(env)
    create_database(args.database_url)

    import django

    django.setup()
    import redis
    from django.core.management import call_command

    from bench import escalations, fixtures, metrics, scenarios
    from bench.stack import Stack

    started = time.monotonic()
    redis.Redis.from_url(args.redis_url).flushdb()  # our own db: stale queues and cache
    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    print(f"Seeding up to {args.incidents:,} incidents ...", flush=True)
    seeded = time.monotonic()
    incidents = fixtures.seed(args.incidents)
    seed_seconds = time.monotonic() - seeded
    data = fixtures.prepare()
    stack = Stack(env, ROOT / "var" / "bench" / "logs")
    stack.start()
    rows = []
    try:
        ctx = scenarios.Context(stack.port, data, args.duration, args.concurrency)
        rows += scenarios.baselines(ctx)
        run_id = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        steps = {
            "ingestion": lambda: scenarios.ingestion(ctx, run_id),
            "api": lambda: scenarios.api(ctx),
            "pages": lambda: scenarios.pages(ctx),
            "status": lambda: scenarios.status(ctx),
            "escalation": lambda: escalations.escalations(
                args.escalations,
                spread=args.escalation_spread,
                burst=args.escalation_burst,
                timeout=args.escalation_timeout,
            ),
            "metrics": lambda: metrics.metrics(ctx, fixtures.seed(args.metrics_incidents)),
        }
        for name in args.only:
            print(f"  {name} ...", flush=True)
            try:
                rows += steps[name]()
            except Exception as error:  # one broken scenario must not lose the others
                traceback.print_exc()
                rows.append(scenarios.Row(f"{name}: failed", 0, *[math.nan] * 4, note=repr(error)))
    finally:
        stack.stop()
    total = time.monotonic() - started
    print()
    print(
        f"Vigil bench: {incidents:,} incidents, {os.cpu_count()} CPUs, "
        f"{args.concurrency} client threads x {args.duration:g} s per row, "
        f"gunicorn as in the Procfile; {total:.0f} s in all"
    )
    print(table(rows))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "when": datetime.now(UTC).isoformat(timespec="seconds"),
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "incidents": incidents,
                "seed_seconds": round(seed_seconds, 1),
                "duration": args.duration,
                "concurrency": args.concurrency,
                "total_seconds": round(total, 1),
                "rows": [asdict(r) for r in rows],
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
