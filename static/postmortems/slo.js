// Draws an SLO's error budget burn (json_script "slo-data") with Chart.js.
(function () {
  "use strict";
  var source = document.getElementById("slo-data");
  var canvas = document.querySelector("canvas[data-chart=burn]");
  if (!source || !canvas || !window.vigilChartColor) { return; }
  var data = JSON.parse(source.textContent);
  var color = window.vigilChartColor;
  var days = data.burn.map(function (p) { return p.day; });
  canvas.chart = new Chart(canvas, {
    type: "line",
    data: { labels: days, datasets: [
      { label: "Budget consumed (%)", data: data.burn.map(function (p) { return p.consumed_percent; }), borderColor: color("--danger"), stepped: true },
      { label: "Budget (100%)", data: days.map(function () { return 100; }), borderColor: color("--muted"), borderDash: [4, 4], pointRadius: 0 }
    ] },
    options: { scales: { y: { min: 0, suggestedMax: 100 } } }
  });
})();
