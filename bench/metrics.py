"""The metrics dashboard over a year of incidents: each metric function timed in this
process (the code the page, the API and the CSV export call), then the page over HTTP:
its first request (a worker starts computing it), how long until it is ready, and the
page served from the cache afterwards."""

from __future__ import annotations

import http.client
import statistics
import time
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench import load
from bench.scenarios import PROXY, Context, Row
from postmortems import metrics as m

RUNS = 1  # a whole dashboard over a million rows takes tens of seconds


def _functions(period: m.Period) -> dict:
    calls = {f"metrics: {measure} (mean, median)": (m.time_to, measure) for measure in m.TIMES}
    calls |= {f"metrics: durations by {by}": (m.durations, "by", by) for by in m.DURATION_GROUPS}
    calls |= {f"metrics: counts by {by}": (m.counts, "by", by) for by in m.COUNT_GROUPS}
    calls |= {
        "metrics: SLA compliance": (m.sla_compliance,),
        "metrics: reopen rate": (m.reopen_rate,),
        "metrics: recurrence by service": (m.recurrence, "by", "service"),
        "metrics: recurrence by category": (m.recurrence, "by", "category"),
        "metrics: postmortem completion": (m.postmortem_completion,),
        "metrics: action item completion": (m.action_item_completion,),
        "metrics: whole dashboard": (m.dashboard,),
    }

    def bind(spec: tuple):
        function, *rest = spec
        if rest[:1] == ["by"]:
            return lambda: function(period, by=rest[1])
        if function is m.time_to:  # the measure comes first
            return lambda: function(rest[0], period)
        return lambda: function(period)

    return {name: bind(spec) for name, spec in calls.items()}


def _timed(name: str, call, incidents: int) -> Row:
    seconds = []
    for _ in range(RUNS):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            call()
            seconds.append(time.perf_counter() - started)
    median = statistics.median(seconds)
    return Row(
        scenario=name,
        rate=1 / median,
        p50=median * 1000,
        p95=max(seconds) * 1000,
        p99=max(seconds) * 1000,
        queries=float(len(queries.captured_queries)),
        note=f"in process, {RUNS} call(s) over a year of {incidents:,}",
    )


def _ready_after(ctx: Context, path: str, headers: dict, timeout: float = 600) -> float:
    """Seconds until the page shows computed metrics (polled once a second)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        conn = http.client.HTTPConnection("127.0.0.1", ctx.port, timeout=60)
        conn.request("GET", path, headers=headers)
        body = conn.getresponse().read()
        conn.close()
        if b'id="metrics-computed-at"' in body:
            return time.monotonic() - started
        time.sleep(1)
    return float("nan")


def metrics(ctx: Context, incidents: int) -> list[Row]:
    period = m.Period.days(365)
    rows = [_timed(name, call, incidents) for name, call in _functions(period).items()]
    cookie = {"Cookie": f"sessionid={ctx.fixtures.session}", **PROXY}
    today = timezone.localdate()
    path = f"/metrics/?since={today - timedelta(days=364)}&until={today}"
    page = load.Request("GET", path, headers=cookie)
    first = load.run("127.0.0.1", ctx.port, lambda i: page, concurrency=1, duration=0.01)
    rows.append(
        Row.of("metrics page, a year, first request", first, ctx.bare_rate, "a worker computes")
    )
    ready = _ready_after(ctx, path, cookie)
    rows[-1].note += f"; ready {ready:,.1f} s later"
    cached = load.run(
        "127.0.0.1", ctx.port, lambda i: page, concurrency=2, duration=max(ctx.duration, 1)
    )
    rows.append(Row.of("metrics page, a year, cached", cached, ctx.bare_rate))
    return rows
