// Draws the metrics page's charts from its JSON (json_script "metrics-data") with Chart.js.
(function () {
  "use strict";
  var source = document.getElementById("metrics-data");
  if (!source || !window.vigilChartColor) { return; }
  var data = JSON.parse(source.textContent);
  var color = window.vigilChartColor;
  var hours = function (s) { return s === null ? null : Math.round(s / 36) / 100; };
  var labels = function (rows) { return rows.map(function (r) { return r.label; }); };

  var charts = {
    "durations-month": function () {
      var rows = data.durations_by.month;
      return { type: "line", data: { labels: labels(rows), datasets: [
        { label: "MTTR mean (h)", data: rows.map(function (r) { return hours(r.mttr_mean); }), borderColor: color("--accent") },
        { label: "MTTR median (h)", data: rows.map(function (r) { return hours(r.mttr_median); }), borderColor: color("--ok") }
      ] } };
    },
    "durations-priority": function () {
      var rows = data.durations_by.priority;
      return { type: "bar", data: { labels: labels(rows), datasets: [
        { label: "MTTA median (h)", data: rows.map(function (r) { return hours(r.mtta_median); }), backgroundColor: color("--warn") },
        { label: "MTTR median (h)", data: rows.map(function (r) { return hours(r.mttr_median); }), backgroundColor: color("--accent") }
      ] } };
    },
    "sla-priority": function () {
      var rows = data.sla.by_priority;
      return { type: "bar", data: { labels: labels(rows), datasets: [
        { label: "Acknowledged in time (%)", data: rows.map(function (r) { return r.acknowledge.percent; }), backgroundColor: color("--ok") },
        { label: "Resolved in time (%)", data: rows.map(function (r) { return r.resolve.percent; }), backgroundColor: color("--accent") }
      ] }, options: { scales: { y: { min: 0, max: 100 } } } };
    }
  };
  ["priority", "service", "category", "source"].forEach(function (by) {
    charts["counts-" + by] = function () {
      var rows = data.counts_by[by];
      return { type: "bar", data: { labels: labels(rows), datasets: [
        { label: "Incidents", data: rows.map(function (r) { return r.incidents; }), backgroundColor: color("--accent") }
      ] }, options: { plugins: { legend: { display: false } } } };
    };
  });

  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var make = charts[canvas.dataset.chart];
    if (make) { canvas.chart = new Chart(canvas, make()); }
  });
})();
