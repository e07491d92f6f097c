// Budget dashboard: paid / approved not yet paid / remaining per scheme (CSP: no inline scripts).
(function () {
  const el = document.getElementById("chart-budget");
  const src = document.getElementById("budget-data");
  if (!el || !src || !window.echarts) return;
  const rows = JSON.parse(src.textContent);
  const chart = echarts.init(el, null, { renderer: "svg" });
  const series = (name, key, color) => ({ name, type: "bar", stack: "b", data: rows.map(r => r[key]), itemStyle: { color }, barMaxWidth: 48 });
  const zh = (document.documentElement.lang || "zh").startsWith("zh");
  chart.setOption({
    tooltip: { trigger: "axis" },
    legend: { top: 0 },
    grid: { left: 64, right: 16, top: 32, bottom: 56 },
    xAxis: { type: "category", data: rows.map(r => r.name), axisLabel: { interval: 0, width: 140, overflow: "break" } },
    yAxis: { type: "value", name: zh ? "万元" : "10k yuan" },
    series: [
      series(zh ? "已拨付" : "Paid", "paid", "#2a9d8f"),
      series(zh ? "已核定未拨付" : "Approved, unpaid", "unpaid", "#3a7bd5"),
      series(zh ? "预算剩余" : "Remaining", "remaining", "#d9dee7"),
    ],
  });
  window.addEventListener("resize", () => chart.resize());
})();
