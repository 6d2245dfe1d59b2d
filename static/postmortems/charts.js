// Chart.js in the page's own colours (light or dark), for the metrics and SLO pages.
window.vigilChartColor = (function () {
  "use strict";
  if (!window.Chart) { return null; }
  var style = getComputedStyle(document.documentElement);
  var color = function (name) { return style.getPropertyValue(name).trim() || "#1f5fbf"; };
  Chart.defaults.color = color("--fg");
  Chart.defaults.borderColor = color("--line");
  Chart.defaults.animation = false;
  return color;
})();
