"""Real Celery worker and beat processes (and a private Redis) against the test database."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class CeleryProcess:
    """A `celery` process in its own process group, so a SIGKILL takes its children too."""

    ready_text = ""

    def __init__(self, log_path: Path, env: dict[str, str] | None = None):
        self.log_path = log_path
        self.env = env or {}
        self.process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self):
        env = {
            **os.environ,
            "DATABASE_URL": database_url(),
            "REDIS_URL": settings.REDIS_URL,
            **self.env,
        }
        self.log = open(self.log_path, "a")  # noqa: SIM115 - closed in stop()
        self.offset = self.log_path.stat().st_size
        self.process = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", *self.command()],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        if self.ready_text:
            self.wait_for_log(self.ready_text, timeout=60)
        return self

    def wait_for_log(self, text: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in self.log_path.read_text()[self.offset :]:
                return
            if self.process.poll() is not None:
                break
            time.sleep(0.1)
        raise AssertionError(
            f"{self.command()[0]} never logged {text!r}:\n{self.log_path.read_text()}"
        )

    def kill(self) -> None:
        """SIGKILL the whole process group: what an OOM killer or a lost machine does."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(10)
        self.log.close()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)
        if not self.log.closed:
            self.log.close()


class WorkerProcess(CeleryProcess):
    """One `celery worker` process consuming its own queue(s), so tests never share one."""

    ready_text = "ready"

    def __init__(self, log_path: Path, queue: str | None = None, **kwargs):
        super().__init__(log_path, **kwargs)
        self.queue = queue or f"test-{uuid.uuid4().hex[:8]}"

    def command(self) -> list[str]:
        return ["worker", "--queues", self.queue, "--concurrency", "1",
                "--without-gossip", "--without-mingle", "--without-heartbeat",
                "--loglevel", "INFO"]  # fmt: skip


class BeatProcess(CeleryProcess):
    """`celery beat` with its own schedule file, so two of them can run side by side."""

    ready_text = "beat: Starting"

    def command(self) -> list[str]:
        schedule = self.log_path.with_suffix(".schedule")
        return ["beat", "--schedule", str(schedule), "--pidfile=", "--loglevel", "INFO"]


class RedisServer:
    """A private redis-server on a free port: a test may stop it, never the shared one."""

    def __init__(self, log_path: Path):
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def start(self) -> "RedisServer":
        import redis

        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--logfile", str(self.log_path)],
        )  # fmt: skip
        client = redis.Redis.from_url(self.url)
        wait_until(lambda: _pings(client), timeout=10, interval=0.05)
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def _pings(client) -> bool:
    import redis

    try:
        return client.ping()
    except redis.RedisError:
        return False


def wait_until(predicate, timeout: float = 30, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := predicate():
            return result
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout}s")


def run_at_once(function, times: int) -> list:
    """Call `function` from `times` threads released together; what each returned or
    raised, in finishing order. Each thread closes its own database connection."""
    barrier = threading.Barrier(times)
    outcomes = []

    def call():
        try:
            barrier.wait()
            outcomes.append(function())
        except Exception as error:
            outcomes.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=call) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes
