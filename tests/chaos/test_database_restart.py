"""PostgreSQL restarted under a running gunicorn: a clear 503 while it is down, then back.

The cluster is this test's own (initdb into tmp_path, a free port): the shared
PostgreSQL on 5432 is never touched.
"""

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from incidents.middleware import DATABASE_DOWN
from tests.workers import free_port, wait_until

pytestmark = pytest.mark.chaos
ROOT = Path(__file__).resolve().parents[2]
PG_BIN = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])


class PrivatePostgres:
    def __init__(self):
        # Outside pytest's tmp_path: the postgres account must be able to reach it.
        self.folder = Path(tempfile.mkdtemp(prefix="vigil-chaos-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres")
        self.data, self.port = self.folder / "pgdata", free_port()
        self.log = self.folder / "postgres.log"

    def pg(self, *args: str) -> None:
        # initdb and postgres refuse to run as root: use the postgres account when we are.
        command = [str(PG_BIN / args[0]), *args[1:]]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> "PrivatePostgres":
        self.pg("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        return self

    def start(self) -> None:
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c fsync=off"
        self.pg("pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.log), "-w", "start")

    def stop(self) -> None:
        self.pg("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"


# Each needs the database: a token to look up, a session to load.
API = {"Accept": "application/json", "Authorization": "Token not-a-real-token"}
PAGE = {"Accept": "text/html", "Cookie": "sessionid=not-a-real-session"}


def get(url: str, headers: dict[str, str]) -> tuple[int, str, dict]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - local
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - local
            return response.status, response.read().decode(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode(), dict(error.headers)


@pytest.fixture(scope="module")
def database():
    """One private cluster, migrated once, for the tests of this module."""
    database = PrivatePostgres().init()
    database.start()
    database.env = {
        **os.environ,
        "DATABASE_URL": database.url,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "CONN_MAX_AGE": "60",
        # Production mode: with DEBUG on Django shows its technical 500 page instead.
        "SECRET_KEY": "chaos-test-secret-key-long-enough-to-look-real-0123456789",
        "DEBUG": "0",
        "SECURE_SSL_REDIRECT": "0",
        "ALLOWED_HOSTS": "127.0.0.1",
    }
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=ROOT, env=database.env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    yield database
    database.stop()
    shutil.rmtree(database.folder, ignore_errors=True)


@pytest.fixture
def stack(database, tmp_path):
    port = free_port()
    with open(tmp_path / "web.log", "w") as log:
        web = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}", "-w", "2"],
            cwd=ROOT, env=database.env, stdout=log, stderr=log,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        wait_until(lambda: _answers(base), timeout=60)
        yield database, base, web
        web.terminate()
        web.wait(timeout=30)


def _answers(base: str) -> bool:
    try:
        return get(f"{base}/api/v1/incidents/", API)[0] == 401
    except OSError:
        return False


def test_web_answers_503_while_postgresql_is_down_and_recovers(stack):
    database, base, _ = stack

    database.stop()
    api = get(f"{base}/api/v1/incidents/", API)
    page = get(f"{base}/incidents/", PAGE)
    database.start()
    recovered = wait_until(lambda: get(f"{base}/api/v1/incidents/", API)[0] == 401, timeout=30)

    assert api[0] == 503 and api[2]["Retry-After"] == "10"
    assert api[1] == json.dumps({"detail": DATABASE_DOWN})
    assert page[0] == 503 and "Vigil is unavailable" in page[1]
    assert "Traceback" not in api[1] + page[1]
    assert recovered


def test_gunicorn_finishes_the_request_it_holds_on_sigterm(stack):
    _, base, web = stack
    body = json.dumps({"username": "nobody", "password": "wrong"}).encode()
    head = (
        "POST /api/v1/auth/token/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])), 30) as sock:
        sock.sendall(head.encode() + body[:10])
        time.sleep(0.5)  # a worker holds the request, waiting for the rest of its body
        web.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        sock.sendall(body[10:])
        answer = b"".join(iter(lambda: sock.recv(65536), b""))

    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"Unable to log in with provided credentials." in answer
    assert web.wait(timeout=30) == 0
