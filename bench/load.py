"""A small HTTP load generator: threads, http.client, fixed concurrency and duration.

Closed loop (`rate=None`): each thread sends its next request when the last one answers,
which finds the highest rate the server sustains. Open loop (`rate=R`): requests are
scheduled every 1/R s whatever the server does, and latency counts from the scheduled
time, so a server that falls behind shows it in p99 instead of hiding it (no coordinated
omission).
"""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Result:
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    server_ms: list[float] = field(default_factory=list)
    queries: list[int] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)

    @property
    def ok(self) -> int:
        return len(self.latencies)

    @property
    def errors(self) -> int:
        return sum(self.statuses.values()) - self.ok

    @property
    def rate(self) -> float:
        return self.ok / self.elapsed if self.elapsed else 0.0

    def percentile(self, p: float, values: list[float] | None = None) -> float:
        """Nearest-rank percentile in milliseconds (of latencies unless `values` given)."""
        data = sorted(values if values is not None else [s * 1000 for s in self.latencies])
        if not data:
            return float("nan")
        return data[min(len(data) - 1, max(0, round(p / 100 * len(data) + 0.5) - 1))]

    @property
    def queries_per_request(self) -> float:
        return sum(self.queries) / len(self.queries) if self.queries else float("nan")


def run(
    host: str,
    port: int,
    make_request: Callable[[int], Request],
    *,
    concurrency: int,
    duration: float,
    rate: float | None = None,
    ok_statuses: tuple[int, ...] = (200, 201, 202),
) -> Result:
    """Send requests for `duration` seconds; `make_request(i)` builds the i-th one."""
    result = Result()
    lock = threading.Lock()
    counter = iter(range(10**12))
    start = time.perf_counter() + 0.05
    deadline = start + duration
    finished = [start]

    def worker() -> None:
        connection = http.client.HTTPConnection(host, port, timeout=60)
        while True:
            with lock:
                i = next(counter)
            scheduled = start + i / rate if rate else None
            now = time.perf_counter()
            if (scheduled or now) >= deadline:
                break
            if scheduled and scheduled > now:
                time.sleep(scheduled - now)
            request = make_request(i)
            sent = time.perf_counter()
            try:
                connection.request(request.method, request.path, request.body, request.headers)
                response = connection.getresponse()
                response.read()
                status = response.status
                queries = response.getheader("X-Bench-Queries")
                server_ms = response.getheader("X-Bench-Server-Ms")
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(host, port, timeout=60)
                status, queries, server_ms = 0, None, None
            done = time.perf_counter()
            with lock:
                result.statuses[status] += 1
                finished[0] = max(finished[0], done)
                if status in ok_statuses:
                    result.latencies.append(done - (scheduled or sent))
                    if queries is not None:
                        result.queries.append(int(queries))
                    if server_ms is not None:
                        result.server_ms.append(float(server_ms))
        connection.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    result.elapsed = max(finished[0], deadline if rate else start) - start
    return result
