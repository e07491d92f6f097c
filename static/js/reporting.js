// Completeness board chart (data from json_script) and print buttons; no inline scripts under the CSP.
(function () {
  document.querySelectorAll("[data-print]").forEach((b) => b.addEventListener("click", () => window.print()));
  if (window.portalCharts) window.portalCharts.bar("chart-completeness", "completeness-data", { grid: { left: 40, right: 12, top: 24, bottom: 40 } });
})();
