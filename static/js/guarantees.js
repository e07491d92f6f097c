// The portfolio tab's charts (data from the json_script block; CSP allows no inline script). A click on
// a bar or slice opens the records behind it.
(function () {
  const src = document.getElementById("gp-data");
  if (!src || !window.echarts) return;
  const data = JSON.parse(src.textContent);
  const palette = ["#1f4e9a", "#3a7bd5", "#59a5f5", "#8cc8ff", "#f4a93b", "#e4572e", "#2a9d8f"];
  const money = v => v.toLocaleString("zh-CN", { maximumFractionDigits: 2 });
  function drill(chart) {
    chart.on("click", p => { if (p.data && p.data.url) window.location.href = p.data.url; });
  }
  function make(id, option) {
    const el = document.getElementById(id);
    if (!el) return;
    const chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({ color: palette, tooltip: { valueFormatter: money }, ...option });
    drill(chart);
    window.addEventListener("resize", () => chart.resize());
  }
  function bars(id, rows, horizontal) {
    const cat = { type: "category", data: rows.map(r => r.name), axisLabel: { width: 190, overflow: "truncate" } };
    const val = { type: "value" };
    make(id, {
      tooltip: { trigger: "axis", valueFormatter: money },
      grid: horizontal ? { left: 200, right: 24, top: 8, bottom: 24 } : { left: 64, right: 16, top: 16, bottom: 32 },
      xAxis: horizontal ? val : cat,
      yAxis: horizontal ? { ...cat, inverse: true } : val,
      series: [{ type: "bar", data: rows, barMaxWidth: 32, cursor: "pointer" }],
    });
  }
  bars("gp-bands", data.bands, false);
  make("gp-types", {
    tooltip: { trigger: "item", valueFormatter: money },
    series: [{ type: "pie", radius: ["35%", "70%"], data: data.types, label: { formatter: "{b} {d}%" } }],
  });
  bars("gp-banks", data.banks, true);
  make("gp-trend", {
    tooltip: { trigger: "axis", valueFormatter: money },
    grid: { left: 64, right: 16, top: 16, bottom: 32 },
    xAxis: { type: "category", data: data.trend.map(r => r.name.slice(0, 7)) },
    yAxis: { type: "value" },
    series: [{ type: "line", data: data.trend.map(r => r.value), areaStyle: { opacity: 0.15 }, smooth: true }],
  });
})();
