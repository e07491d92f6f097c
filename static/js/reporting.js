// Completeness board chart (data from json_script; no inline scripts under the CSP).
(function () {
  if (window.portalCharts) window.portalCharts.bar("chart-completeness", "completeness-data", { grid: { left: 40, right: 12, top: 24, bottom: 40 } });
})();
