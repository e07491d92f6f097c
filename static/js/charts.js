// Charts fed by json_script blocks; no inline scripts (CSP: script-src 'self').
(function () {
  const palette = ["#1f4e9a", "#3a7bd5", "#59a5f5", "#8cc8ff", "#f4a93b", "#e4572e", "#2a9d8f"];
  function bar(elId, dataId, opts) {
    const el = document.getElementById(elId);
    const src = document.getElementById(dataId);
    if (!el || !src || !window.echarts) return;
    const rows = JSON.parse(src.textContent);
    const chart = echarts.init(el, null, { renderer: "svg" });
    chart.setOption({
      color: palette,
      grid: { left: 48, right: 16, top: 16, bottom: 64 },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: rows.map(r => r.name), axisLabel: { interval: 0, rotate: rows.length > 10 ? 40 : 0 } },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: rows.map(r => r.value), barMaxWidth: 36, label: { show: true, position: "top" } }],
      ...(opts || {}),
    });
    // a bar whose row names a url drills down to what is behind it
    if (rows.some(r => r.url)) {
      chart.on("click", p => { const r = rows[p.dataIndex]; if (r && r.url) window.location.href = r.url; });
      el.style.cursor = "pointer";
    }
    window.addEventListener("resize", () => chart.resize());
    return chart;
  }
  window.portalCharts = { bar, palette };
  bar("chart-by-child", "by-child-data");
})();
