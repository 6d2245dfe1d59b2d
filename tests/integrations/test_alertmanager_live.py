"""Debian's real prometheus-alertmanager posting to a live Vigil (both of its receivers).

`.ci/run` installs it (`apt-get install prometheus-alertmanager`); the test fails rather
than skips without it, as the suite does for PostgreSQL and Redis.
"""

import shutil
import socket
import subprocess
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import pytest

from incidents.models import Incident
from integrations.models import Alert
from tests.integrations.factories import IntegrationFactory
from tests.workers import wait_until

ALERTMANAGER = shutil.which("prometheus-alertmanager") or "/usr/bin/prometheus-alertmanager"
AMTOOL = shutil.which("amtool") or "/usr/bin/amtool"

CONFIG = """
route:
  receiver: vigil-webhook
  group_by: [alertname]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
  routes:
    - matchers: ['via="pagerduty"']
      receiver: vigil-pagerduty
receivers:
  - name: vigil-webhook
    webhook_configs:
      - url: {base}/api/v1/integrations/alertmanager/
        send_resolved: true
        http_config: {{authorization: {{type: Bearer, credentials: "{webhook_key}"}}}}
  - name: vigil-pagerduty
    pagerduty_configs:
      - routing_key: "{pagerduty_key}"
        url: {base}/api/v1/integrations/pagerduty/v2/enqueue
        send_resolved: true
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def alertmanager(live_server, tmp_path):
    if not shutil.which(ALERTMANAGER):
        raise pytest.UsageError("apt-get install prometheus-alertmanager (see .ci/run)")
    webhook = IntegrationFactory(name="Prometheus", kind="alertmanager", service__name="Disks")
    pagerduty = IntegrationFactory(name="AM via PD", kind="pagerduty", service__name="Queues")
    base = live_server.url.replace("localhost", "127.0.0.1")
    config = tmp_path / "am.yml"
    config.write_text(
        CONFIG.format(base=base, webhook_key=webhook.key, pagerduty_key=pagerduty.key)
    )
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("w")
    process = subprocess.Popen(
        [ALERTMANAGER, f"--config.file={config}", f"--storage.path={tmp_path / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
        stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"

    def ready():
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return True
        except OSError:
            return False

    try:
        wait_until(ready, timeout=20)
        yield url, webhook, pagerduty
    finally:
        process.terminate()
        process.wait(10)
        log.close()


def amtool(url: str, *args: str) -> None:
    subprocess.run(
        [AMTOOL, "alert", "add", f"--alertmanager.url={url}", *args],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip


def rfc3339(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.mark.django_db(transaction=True)
def test_real_alertmanager_opens_and_resolves_incidents_through_both_receivers(alertmanager):
    url, webhook, pagerduty = alertmanager
    assert urlsplit(url).hostname == "127.0.0.1"
    start = datetime.now(UTC) - timedelta(minutes=1)
    disk = ["DiskFull", "severity=warning", "instance=db-1", "--annotation=summary=Disk 99% full"]
    queue = ["QueueBacklog", "via=pagerduty", "severity=warning"]

    amtool(url, *disk, f"--start={rfc3339(start)}")
    amtool(url, *queue, f"--start={rfc3339(start)}")

    opened = wait_until(lambda: Incident.objects.count() == 2 and Incident.objects.all())
    by_service = {i.service.name: i for i in opened.select_related("service")}
    assert by_service["Disks"].title == "DiskFull: Disk 99% full (db-1)"
    assert by_service["Queues"].title.startswith("[FIRING:1] QueueBacklog")
    assert Alert.objects.get(integration=webhook).status == "firing"
    assert Alert.objects.get(integration=pagerduty).status == "firing"

    end = rfc3339(datetime.now(UTC) - timedelta(seconds=1))
    amtool(url, *disk, f"--start={rfc3339(start)}", f"--end={end}")
    amtool(url, *queue, f"--start={rfc3339(start)}", f"--end={end}")

    wait_until(lambda: not Incident.objects.exclude(status="resolved").exists(), timeout=30)
    assert Incident.objects.count() == 2
    assert set(Alert.objects.values_list("status", flat=True)) == {"resolved"}
    notes = set(Incident.objects.values_list("resolution_notes", flat=True))
    assert notes == {
        "All alerts resolved; auto-resolved by Prometheus.",
        "All alerts resolved; auto-resolved by AM via PD.",
    }
