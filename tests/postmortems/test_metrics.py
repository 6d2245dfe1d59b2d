"""Every metric on a known data set, against expectations computed by hand (below).

The incidents are history, so they are written as rows (like `manage.py seed`), not
driven through the lifecycle. Default SLA targets (escalation.services.DEFAULT_SLA):
P1 ack 15m / resolve 4h, P2 30m / 8h, P3 4h / 3d. Now is 2026-03-01 00:00 UTC.

    #  created            P svc team cat  src  ack    mitigated resolved  notes
    1  01-05 10:00        1 A   T1   net  api  +10m   +1h       +2h       ack met, resolve met
    2  01-15 10:00        1 A   T1   net  api  +20m   +3h       +5h       both breached, reopened
    3  01-25 10:00        2 B   T2   soft web  +30m   +4h       +6h       both met (on the dot)
    4  02-10 10:00        3 B   T2   soft web  +5h    -         -         ack breached; resolve due
                                                                          02-13, breached by now
    5  02-27 10:00        3 A   T1   soft web  -      -         -         ack due 14:00, breached;
                                                                          resolve due 03-02: pending
    x  cancelled (01-20), one before the period (2025-12-01) and a private one (02-01):
       never counted (a count would reveal a private incident)
"""

import sqlite3
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from escalation.models import SlaTarget
from incidents.enums import Status
from incidents.models import Incident
from postmortems import metrics
from postmortems.enums import ActionStatus, PostmortemStatus
from postmortems.models import ActionItem, Postmortem
from tests.factories import CategoryFactory, ServiceFactory, TeamFactory
from tests.workers import WorkerProcess, wait_until

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 1, tzinfo=UTC)
PERIOD = metrics.Period(datetime(2026, 1, 1, tzinfo=UTC), NOW)
M = 60
H = 3600


@pytest.fixture
def known():
    t1, t2 = TeamFactory(name="T1", slug="t1"), TeamFactory(name="T2", slug="t2")
    a = ServiceFactory(name="A", slug="a", team=t1)
    b = ServiceFactory(name="B", slug="b", team=t2)
    net, soft = CategoryFactory(name="Net", slug="net"), CategoryFactory(name="Soft", slug="soft")

    def incident(created, priority, service, team, category, source, ack, mit, res, **extra):
        created = datetime.fromisoformat(created).replace(tzinfo=UTC)
        after = {
            k: created + timedelta(seconds=v) for k, v in (("a", ack), ("m", mit), ("r", res)) if v
        }
        status = Status.RESOLVED if res else Status.INVESTIGATING if ack else Status.TRIGGERED
        return Incident.objects.create(
            title=f"incident {created:%m-%d}",
            priority=priority,
            is_major=priority == 1,
            service=service,
            team=team,
            category=category,
            source=source,
            created_at=created,
            reported_at=created,
            status=extra.pop("status", status),
            acknowledged_at=after.get("a"),
            mitigated_at=after.get("m"),
            resolved_at=after.get("r"),
            **extra,
        )

    one = incident("2026-01-05T10:00", 1, a, t1, net, "api", 10 * M, 1 * H, 2 * H)
    two = incident("2026-01-15T10:00", 1, a, t1, net, "api", 20 * M, 3 * H, 5 * H, reopen_count=1)
    incident("2026-01-25T10:00", 2, b, t2, soft, "web", 30 * M, 4 * H, 6 * H)
    incident("2026-02-10T10:00", 3, b, t2, soft, "web", 5 * H, None, None)
    incident("2026-02-27T10:00", 3, a, t1, soft, "web", None, None, None)
    incident("2026-01-20T10:00", 1, a, t1, net, "api", 1, 1, 1, status=Status.CANCELLED)
    incident("2025-12-01T10:00", 1, a, t1, net, "api", 1, 1, 1)
    incident("2026-02-01T10:00", 1, a, t1, net, "api", 1, 1, 1, is_private=True)

    published = Postmortem.objects.create(
        incident=one, title="one", status=PostmortemStatus.PUBLISHED
    )
    draft = Postmortem.objects.create(incident=two, title="two")
    ActionItem.objects.create(postmortem=published, title="done", status=ActionStatus.DONE)
    ActionItem.objects.create(
        postmortem=published, title="no", status=ActionStatus.WONT_DO, wont_do_reason="moot"
    )
    ActionItem.objects.create(postmortem=draft, title="late", due_date=date(2026, 2, 1))
    ActionItem.objects.create(postmortem=draft, title="going", status=ActionStatus.IN_PROGRESS)
    return {"t1": t1, "t2": t2, "a": a, "b": b}


def by_key(rows):
    return {r["label"]: r for r in rows}


def test_durations_overall_mean_and_median(known):
    (row,) = metrics.durations(PERIOD)

    assert row == {
        # ack: 10m, 20m, 30m, 5h
        "mtta_measured": 4,
        "mtta_mean": (600 + 1200 + 1800 + 18000) / 4,
        "mtta_median": (1200 + 1800) / 2,
        # mitigated: 1h, 3h, 4h
        "mttm_measured": 3,
        "mttm_mean": 8 * H / 3,
        "mttm_median": 3 * H,
        # resolved: 2h, 5h, 6h
        "mttr_measured": 3,
        "mttr_mean": 13 * H / 3,
        "mttr_median": 5 * H,
    }


def test_durations_by_priority_service_team_month(known):
    priority = by_key(metrics.durations(PERIOD, by="priority"))
    service = by_key(metrics.durations(PERIOD, by="service"))
    team = by_key(metrics.durations(PERIOD, by="team"))
    month = by_key(metrics.durations(PERIOD, by="month"))

    assert list(priority) == ["P1", "P2", "P3"]
    assert (priority["P1"]["mtta_mean"], priority["P1"]["mtta_median"]) == (900, 900)
    assert (priority["P1"]["mttr_mean"], priority["P1"]["mttr_median"]) == (3.5 * H, 3.5 * H)
    assert priority["P2"]["mttm_median"] == 4 * H
    assert (priority["P3"]["mtta_mean"], priority["P3"]["mttr_mean"]) == (5 * H, None)
    assert (service["A"]["mtta_mean"], service["B"]["mtta_mean"]) == (900, (1800 + 18000) / 2)
    assert team["T2"]["mttr_median"] == 6 * H
    assert list(month) == ["2026-01", "2026-02"]
    assert (month["2026-01"]["mtta_median"], month["2026-02"]["mtta_median"]) == (1200, 5 * H)


def test_durations_by_month_follow_the_site_time_zone(known, settings):
    settings.TIME_ZONE = "America/New_York"
    created = datetime(2026, 2, 1, 3, 0, tzinfo=UTC)  # 2026-01-31 22:00 in New York
    Incident.objects.create(
        title="late january",
        priority=3,
        created_at=created,
        reported_at=created,
        status=Status.RESOLVED,
        acknowledged_at=created + timedelta(hours=1),
        resolved_at=created + timedelta(hours=1),
    )

    month = by_key(metrics.durations(PERIOD, by="month"))

    assert list(month) == ["2026-01", "2026-02"]  # December (New York) holds none
    assert (month["2026-01"]["mttr_measured"], month["2026-01"]["mttr_median"]) == (4, 3.5 * H)
    assert month["2026-02"]["mttr_measured"] == 0
    assert metrics.durations(metrics.Period(NOW, NOW), by="month") == []


def test_time_to_one_measure(known):
    assert metrics.time_to("mttr", PERIOD, team=known["t1"].pk) == [
        {"measured": 2, "mean": 3.5 * H, "median": 3.5 * H}
    ]


def test_counts_by_priority_service_category_source(known):
    def counted(by):
        return [(r["label"], r["incidents"]) for r in metrics.counts(PERIOD, by=by)]

    assert counted("priority") == [("P1", 2), ("P3", 2), ("P2", 1)]
    assert counted("service") == [("A", 3), ("B", 2)]
    assert counted("category") == [("Soft", 3), ("Net", 2)]
    assert counted("source") == [("web", 3), ("api", 2)]


def test_sla_compliance_against_escalation_targets(known):
    sla = metrics.sla_compliance(PERIOD, now=NOW)

    assert sla["acknowledge"] == {"met": 2, "breached": 3, "percent": 40.0}
    assert sla["resolve"] == {"met": 2, "breached": 2, "percent": 50.0}
    rows = {r["label"]: r for r in sla["by_priority"]}
    assert rows["P1"]["acknowledge"] == {"met": 1, "breached": 1, "percent": 50.0}
    assert rows["P2"]["resolve"] == {"met": 1, "breached": 0, "percent": 100.0}
    assert rows["P3"]["acknowledge"] == {"met": 0, "breached": 2, "percent": 0.0}
    # #5's resolve target (3 days) has not passed: no verdict yet.
    assert rows["P3"]["resolve"] == {"met": 0, "breached": 1, "percent": 0.0}


def test_sla_compliance_follows_edited_targets(known):
    SlaTarget.objects.create(
        priority=3, time_to_acknowledge=timedelta(hours=6), time_to_resolve=None
    )

    sla = metrics.sla_compliance(PERIOD, now=NOW)

    # #4 acked after 5h now meets 6h; P3 has no resolve target: #4 leaves the resolve count.
    assert sla["acknowledge"] == {"met": 3, "breached": 2, "percent": 60.0}
    assert sla["resolve"] == {"met": 2, "breached": 1, "percent": 66.67}


def test_reopen_rate(known):
    assert metrics.reopen_rate(PERIOD) == {"resolved": 3, "reopened": 1, "percent": 33.33}


def test_recurrence_by_service_and_category(known):
    service = by_key(metrics.recurrence(PERIOD, by="service"))
    category = by_key(metrics.recurrence(PERIOD, by="category"))

    # A: 01-05, 01-15 (10 days), 02-27 (43 days). B: 01-25, 02-10 (16 days).
    assert service["A"] | {"key": None} == {
        "key": None,
        "label": "A",
        "incidents": 3,
        "repeats_30": 1,
        "repeats_90": 2,
        "percent_30": 33.33,
        "percent_90": 66.67,
    }
    assert (service["B"]["repeats_30"], service["B"]["repeats_90"]) == (1, 1)
    # Soft: 01-25, 02-10 (16 days), 02-27 (17 days). Net: 01-05, 01-15.
    assert [(r["label"], r["repeats_30"]) for r in metrics.recurrence(PERIOD, by="category")] == [
        ("Soft", 2),
        ("Net", 1),
    ]
    assert category["Net"]["incidents"] == 2


def test_postmortem_and_action_item_completion(known):
    assert metrics.postmortem_completion(PERIOD) == {
        "major_resolved": 2,
        "with_postmortem": 2,
        "published": 1,
        "percent": 50.0,
    }
    # done 1 of (4 - 1 won't do); "late" was due 02-01.
    assert metrics.action_item_completion(PERIOD, today=date(2026, 3, 1)) == {
        "total": 4,
        "done": 1,
        "wont_do": 1,
        "overdue": 1,
        "percent": 33.33,
    }


def test_filters_by_team_and_service(known):
    t2 = metrics.counts(PERIOD, team=known["t2"].pk, by="priority")
    a = metrics.reopen_rate(PERIOD, service=known["a"].pk)
    completion = metrics.postmortem_completion(PERIOD, team=known["t2"].pk)

    assert [(r["label"], r["incidents"]) for r in t2] == [("P2", 1), ("P3", 1)]
    assert a == {"resolved": 2, "reopened": 1, "percent": 50.0}
    assert completion == {
        "major_resolved": 0,
        "with_postmortem": 0,
        "published": 0,
        "percent": None,
    }


def test_period_dates_cover_whole_days(settings):
    period = metrics.Period.dates(date(2026, 1, 1), date(2026, 1, 31))

    assert (period.start.isoformat(), period.end.isoformat()) == (
        "2026-01-01T00:00:00+00:00",
        "2026-02-01T00:00:00+00:00",
    )


def test_sqlite_median_fallback():
    class Wrapper:
        vendor = "sqlite"
        connection = sqlite3.connect(":memory:")

    metrics.sqlite_functions(sender=None, connection=Wrapper)
    db = Wrapper.connection
    db.execute("CREATE TABLE t (v REAL)")
    db.executemany("INSERT INTO t VALUES (?)", [(3,), (1,), (None,), (10,), (4,)])

    assert db.execute("SELECT VIGIL_MEDIAN(v) FROM t").fetchone() == (3.5,)


# --- API, CSV and page -------------------------------------------------------------------

SCOPE = "since=2026-01-01&until=2026-02-28"


@time_machine.travel(NOW, tick=False)
def test_api_metrics_dashboard(api, responder, known, django_assert_max_num_queries):
    api.as_user(responder)
    with django_assert_max_num_queries(42):
        response = api.get(f"/api/v1/metrics/?{SCOPE}")

    assert response.status_code == 200
    body = response.json()
    assert body["durations"]["mttr_median"] == 5 * H
    assert body["sla"]["acknowledge"]["percent"] == 40.0
    assert [r["label"] for r in body["counts_by"]["service"]] == ["A", "B"]
    assert body["postmortems"]["percent"] == 50.0


@time_machine.travel(NOW, tick=False)
def test_dashboard_is_cached_per_scope_saying_when_it_was_computed(
    api, responder, known, django_assert_max_num_queries
):
    api.as_user(responder)
    first = api.get(f"/api/v1/metrics/?{SCOPE}").json()
    Incident.objects.filter(service=known["a"]).update(priority=5)  # the cache keeps the old

    with django_assert_max_num_queries(4):  # the user, the filter; no metric query
        again = api.get(f"/api/v1/metrics/?{SCOPE}").json()

    assert again == first
    assert first["computed_at"].startswith(NOW.strftime("%Y-%m-%dT%H:%M"))
    fresh = api.get(f"/api/v1/metrics/?{SCOPE}&service=a").json()  # another scope: computed
    assert [r["label"] for r in fresh["counts_by"]["priority"]] == ["P5"]


def test_default_view_is_kept_warm_by_the_beat_task(
    client, responder, known, django_assert_max_num_queries
):
    from postmortems.tasks import refresh_default_dashboard

    refresh_default_dashboard()
    client.force_login(responder)

    with django_assert_max_num_queries(4):  # session, user, the filter form; no metric query
        page = client.get("/metrics/")

    assert page.status_code == 200
    assert 'id="metrics-computed-at"' in page.content.decode()


@pytest.mark.django_db(transaction=True)
def test_a_huge_scope_is_computed_by_a_worker_never_in_the_request(
    client, api, responder, known, settings, tmp_path, request
):
    # The worker starts after both requests: a quick one could otherwise finish first.
    worker = WorkerProcess(tmp_path / "worker.log")
    settings.METRICS_INLINE_MAX = 1
    settings.METRICS_QUEUE = worker.queue
    client.force_login(responder)

    waiting = client.get(f"/metrics/?{SCOPE}").content.decode()
    busy = api.as_user(responder).get(f"/api/v1/metrics/?{SCOPE}")

    assert 'id="metrics-computing"' in waiting and 'http-equiv="refresh"' in waiting
    assert busy.status_code == 202 and busy["Retry-After"] == "10"
    worker.start()
    request.addfinalizer(worker.stop)
    worker.wait_for_log("refresh_dashboard", timeout=30)
    wait_until(lambda: api.get(f"/api/v1/metrics/?{SCOPE}").status_code == 200, timeout=60)
    body = api.get(f"/api/v1/metrics/?{SCOPE}").json()
    assert body["durations"]["mttr_median"] == 5 * H
    assert 'id="metrics-computed-at"' in client.get(f"/metrics/?{SCOPE}").content.decode()


@time_machine.travel(NOW, tick=False)
def test_api_metrics_endpoints_with_filters(api, responder, known):
    api.as_user(responder)

    durations = api.get(f"/api/v1/metrics/durations/?{SCOPE}&by=priority&team=t1").json()
    counts = api.get(f"/api/v1/metrics/counts/?{SCOPE}&by=source&service=b").json()
    sla = api.get(f"/api/v1/metrics/sla/?{SCOPE}").json()
    recurrence = api.get(f"/api/v1/metrics/recurrence/?{SCOPE}&by=category").json()
    rates = api.get(f"/api/v1/metrics/rates/?{SCOPE}").json()

    assert [(r["label"], r["mtta_mean"]) for r in durations] == [("P1", 900.0), ("P3", None)]
    assert counts == [{"key": "web", "label": "web", "incidents": 2}]
    assert sla["resolve"]["percent"] == 50.0
    assert recurrence[0]["label"] == "Soft"
    assert rates["reopen"]["percent"] == 33.33
    assert rates["action_items"]["overdue"] == 1


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("since=2026-13-01", "since"),
        ("since=2026-02-01&until=2026-01-01", "since"),
        ("since=2020-01-01&until=2026-01-01", "since"),
        ("team=nope", "team"),
        ("service=nope", "service"),
        ("by=colour", "by"),
    ],
)
def test_api_metrics_bad_input_names_the_field(api, responder, query, field):
    response = api.as_user(responder).get(f"/api/v1/metrics/durations/?{query}")

    assert response.status_code == 400
    assert field in response.json()


def test_api_metrics_for_responders_only(api, stakeholder):
    assert api.get("/api/v1/metrics/").status_code in (401, 403)
    assert api.as_user(stakeholder).get("/api/v1/metrics/").status_code == 403


@time_machine.travel(NOW, tick=False)
def test_metrics_csv_export(client, responder, known):
    client.force_login(responder)

    response = client.get(f"/metrics/durations.csv?{SCOPE}&by=priority")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        "vigil-durations-by-priority-2026-01-01-2026-02-28.csv" in response["Content-Disposition"]
    )
    lines = response.content.decode().splitlines()
    assert lines[0].startswith("priority,label,mtta_measured,mtta_mean,mtta_median,")
    assert lines[1] == "1,P1,2,900.00,900.00,2,7200.00,7200.00,2,12600.00,12600.00"
    assert lines[3] == "3,P3,1,18000.00,18000.00,0,,,0,,"
    recurrence = client.get(f"/metrics/recurrence.csv?{SCOPE}&by=service").content.decode()
    assert recurrence.splitlines()[1].endswith(",A,3,1,2,33.33,66.67")


@pytest.mark.parametrize(
    "url", ["/metrics/colour.csv", "/metrics/counts.csv?by=colour", "/metrics/counts.csv?since=x"]
)
def test_metrics_csv_bad_input(client, responder, url):
    client.force_login(responder)

    response = client.get(url)

    assert response.status_code == 400


@time_machine.travel(NOW, tick=False)
def test_metrics_page_shows_numbers_and_chart_data(
    client, responder, known, django_assert_max_num_queries
):
    client.force_login(responder)
    client.get(f"/metrics/?{SCOPE}")
    with django_assert_max_num_queries(46):
        response = client.get(f"/metrics/?{SCOPE}")

    html = response.content.decode()
    assert response.status_code == 200
    assert "<td>5h 00m</td>" in html  # MTTR median
    assert "40% <span" in html  # SLA acknowledge
    assert 'id="metrics-data"' in html
    assert "vendor/chartjs/chart.umd.min.js" in html
    assert "postmortems/metrics.js" in html
    assert "<script>" not in html  # no inline script: the data is JSON, a static file draws


def test_metrics_page_query_count_flat(client, responder, django_assert_max_num_queries):
    """More incidents, services and months: the same number of queries."""
    client.force_login(responder)
    Incident.objects.create(title="x", priority=3, service=ServiceFactory(name="S0", slug="s0"))
    client.get("/metrics/")
    with CaptureQueriesContext(connection) as one:
        client.get("/metrics/")
    for i in range(1, 4):
        service = ServiceFactory(name=f"S{i}", slug=f"s{i}")
        Incident.objects.create(
            title="y",
            priority=i,
            service=service,
            created_at=timezone.now() - timedelta(days=20 * i),
        )
    with CaptureQueriesContext(connection) as three:
        client.get("/metrics/")

    assert len(one) == len(three)


def test_metrics_page_bad_filter_is_400(client, responder):
    client.force_login(responder)

    response = client.get("/metrics/?until=2026-99-01")

    assert response.status_code == 400
    assert "Until:" in response.content.decode()
