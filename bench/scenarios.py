"""The scenarios: each measures one path over HTTP and returns rows for the table."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from bench import load
from bench.fixtures import Fixtures
from bench.stack import PROXY

P99_GOAL_MS = 100.0


@dataclass
class Row:
    scenario: str
    rate: float
    p50: float
    p95: float
    p99: float
    queries: float
    ratio: float | None = None
    errors: int = 0
    server_p95: float | None = None
    note: str = ""
    extra: dict = field(default_factory=dict)

    @classmethod
    def of(cls, name: str, result: load.Result, baseline: float | None, note: str = "") -> Row:
        return cls(
            scenario=name,
            rate=result.rate,
            p50=result.percentile(50),
            p95=result.percentile(95),
            p99=result.percentile(99),
            queries=result.queries_per_request,
            ratio=result.rate / baseline if baseline else None,
            errors=result.errors,
            server_p95=result.percentile(95, result.server_ms) if result.server_ms else None,
            note=note,
            extra={"statuses": dict(result.statuses)},
        )


@dataclass
class Context:
    port: int
    fixtures: Fixtures
    duration: float
    concurrency: int
    bare_rate: float = 0.0
    bare_insert_rate: float = 0.0

    def run(self, make_request, rate: float | None = None, concurrency: int | None = None):
        threads = concurrency or self.concurrency
        # Warm every gunicorn worker (lazy imports, connections, caches) before measuring.
        warm = lambda i: make_request(10**9 + i)  # noqa: E731 - other alerts than measured
        load.run("127.0.0.1", self.port, warm, concurrency=threads, duration=0.5)
        return load.run(
            "127.0.0.1",
            self.port,
            make_request,
            concurrency=threads,
            duration=self.duration,
            rate=rate,
        )

    def get(self, path: str, **headers: str):
        request = load.Request("GET", path, headers={**PROXY, **headers})
        return lambda i: request


def baselines(ctx: Context) -> list[Row]:
    bare = ctx.run(ctx.get("/__bench__/bare/"))
    ctx.bare_rate = bare.rate
    insert = ctx.run(lambda i: _post("/__bench__/bare-insert/", _alert(i, "bare"), {}))
    ctx.bare_insert_rate = insert.rate
    return [
        Row.of("bare Django view (GET)", bare, bare.rate, "baseline of the read rows"),
        Row.of("bare Django insert view (POST)", insert, insert.rate, "baseline of the alerts"),
    ]


def _alert(i: int, run: str) -> dict:
    # One alert in ten is new; the others repeat the latest new one (dedup), as a
    # flapping check or a re-sending monitor does.
    return {
        "summary": f"Bench alert {run}-{i // 10 * 10}: error rate above 5%",
        "severity": ("critical", "error", "warning", "info")[i // 10 % 4],
        "source": "bench",
        "dedup_key": f"bench-{run}-{i // 10 * 10}",
        "status": "firing",
        "details": {"value": i, "threshold": 5},
    }


def _post(path: str, body: dict, headers: dict[str, str]) -> load.Request:
    return load.Request(
        "POST",
        path,
        json.dumps(body).encode(),
        {**PROXY, "Content-Type": "application/json", **headers},
    )


def ingestion(ctx: Context, run: str) -> list[Row]:
    """Open-loop steps at rising fractions of the bare insert view's closed-loop rate."""
    keys = ctx.fixtures.alert_keys
    rows = []

    def alerts(step: str):
        # Each step its own dedup keys: one alert in ten new there too, not repeats of
        # the keys an earlier step opened.
        def make(i: int) -> load.Request:
            key = keys[i // 10 % len(keys)]
            body = _alert(i, f"{run}-{step}")
            return _post("/api/v1/alerts/", body, {"Authorization": f"Bearer {key}"})

        return make

    closed = ctx.run(alerts("closed"))
    rows.append(Row.of("alerts, closed loop (max)", closed, ctx.bare_insert_rate))
    for fraction in (0.25, 0.5, 0.75, 1.0):
        target = ctx.bare_insert_rate * fraction
        result = ctx.run(
            alerts(f"{fraction:.2f}"), rate=target, concurrency=max(16, ctx.concurrency)
        )
        held = result.rate >= 0.95 * target and result.percentile(99) < P99_GOAL_MS
        row = Row.of(
            f"alerts @ {target:.0f}/s ({fraction:.0%} of bare)",
            result,
            ctx.bare_insert_rate,
            "sustained" if held else "not sustained",
        )
        row.extra |= {"target": target, "sustained": held}
        rows.append(row)
        if not held:
            break
    return rows


def api(ctx: Context) -> list[Row]:
    auth = {"Authorization": f"Token {ctx.fixtures.token}", **PROXY}
    numbers = ctx.fixtures.incident_numbers
    detail = [load.Request("GET", f"/api/v1/incidents/{n}/", headers=auth) for n in numbers]
    return [
        Row.of(
            "API incident list (50)",
            ctx.run(ctx.get("/api/v1/incidents/", **auth)),
            ctx.bare_rate,
        ),
        Row.of(
            "API incident list, open P1-P2",
            ctx.run(ctx.get("/api/v1/incidents/?is_open=true&priority=1,2", **auth)),
            ctx.bare_rate,
        ),
        Row.of("API incident detail", ctx.run(lambda i: detail[i % len(detail)]), ctx.bare_rate),
    ]


def pages(ctx: Context) -> list[Row]:
    cookie = {"Cookie": f"sessionid={ctx.fixtures.session}"}
    numbers = ctx.fixtures.incident_numbers
    detail = [load.Request("GET", f"/incidents/{n}/", headers={**PROXY, **cookie}) for n in numbers]
    return [
        Row.of("responder home page", ctx.run(ctx.get("/", **cookie)), ctx.bare_rate),
        Row.of("incident list page", ctx.run(ctx.get("/incidents/", **cookie)), ctx.bare_rate),
        Row.of("incident page", ctx.run(lambda i: detail[i % len(detail)]), ctx.bare_rate),
    ]


def status(ctx: Context) -> list[Row]:
    return [
        Row.of("status page /status/", ctx.run(ctx.get("/status/")), ctx.bare_rate, "cache hit"),
        Row.of(
            "/api/v2/summary.json", ctx.run(ctx.get("/api/v2/summary.json")), ctx.bare_rate,
            "cache hit",
        ),
    ]  # fmt: skip
