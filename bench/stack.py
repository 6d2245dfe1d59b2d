"""The production processes of the Procfile (gunicorn, Celery worker, beat) on a free port."""

from __future__ import annotations

import http.client
import os
import re
import shlex
import signal
import socket
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# As behind a TLS-terminating proxy (SECURE_PROXY_SSL_HEADER): the production settings
# would otherwise answer every plain-HTTP request with a redirect to https.
PROXY = {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_commands(env: dict[str, str]) -> dict[str, str]:
    """The Procfile's commands with `${VAR:-default}` expanded as the shell would."""

    def expand(match: re.Match) -> str:
        return env.get(match["name"]) or match["default"]

    commands = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and not line.startswith("#"):
            commands[name.strip()] = re.sub(
                r"\$\{(?P<name>\w+):-(?P<default>[^}]*)\}", expand, command.strip()
            )
    return commands


class Stack:
    """gunicorn (with bench.settings for the bare views), worker and beat as in production."""

    def __init__(self, env: dict[str, str], logs: Path) -> None:
        self.port = free_port()
        self.env = {**os.environ, **env, "PORT": str(self.port)}
        self.env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{self.env.get('PATH', '')}"
        self.logs = logs
        self.processes: dict[str, subprocess.Popen] = {}

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        commands = procfile_commands(self.env)
        schedule = self.logs / "celerybeat-schedule"
        extra = {"beat": f" --schedule {schedule}"}  # the last --schedule wins: ours
        for name in ("web", "worker", "beat"):
            env = dict(self.env)
            if name == "web":
                env["DJANGO_SETTINGS_MODULE"] = "bench.settings"
            log = (self.logs / f"{name}.log").open("ab")
            self.processes[name] = subprocess.Popen(
                shlex.split(commands[name] + extra.get(name, "")),
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise

    def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for name, process in self.processes.items():
                if process.poll() is not None:
                    raise RuntimeError(f"{name} exited; see {self.logs / (name + '.log')}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                connection.request("GET", "/__bench__/bare/", headers=PROXY)
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.3)
        raise RuntimeError("gunicorn did not answer in time")

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=35)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
