// Indicator charts, fed by json_script blocks (CSP: no inline scripts). Clicking a bar or a point
// opens the drill-down list of the institutions behind it (each data row carries its url).
(function () {
  if (!window.echarts) return;
  const palette = ["#1f4e9a", "#3a7bd5", "#59a5f5", "#8cc8ff", "#f4a93b", "#e4572e", "#2a9d8f"];
  const data = (id) => { const el = document.getElementById(id); return el ? JSON.parse(el.textContent) : null; };
  const charts = [];
  function init(elId) {
    const el = document.getElementById(elId);
    if (!el) return null;
    const chart = echarts.init(el, null, { renderer: "svg" });
    charts.push(chart);
    return chart;
  }
  function drill(chart) {
    chart.on("click", (p) => { if (p.data && p.data.url) window.location.href = p.data.url; });
    chart.getZr().setCursorStyle && chart.on("mouseover", () => chart.getZr().setCursorStyle("pointer"));
  }
  function bar(elId, dataId, color, horizontal) {
    const rows = data(dataId); const chart = rows && init(elId);
    if (!chart) return;
    const cat = { type: "category", data: rows.map(r => r.name), axisLabel: { interval: 0 } };
    const val = { type: "value", minInterval: 1 };
    chart.setOption({
      color: [color || palette[0]], tooltip: { trigger: "axis" },
      grid: horizontal ? { left: 90, right: 32, top: 8, bottom: 24 } : { left: 40, right: 16, top: 24, bottom: 32 },
      xAxis: horizontal ? val : cat, yAxis: horizontal ? { ...cat, inverse: true } : val,
      series: [{ type: "bar", barMaxWidth: 34, data: rows.map(r => ({ value: r.value, url: r.url })),
                 label: { show: true, position: horizontal ? "right" : "top" } }],
    });
    drill(chart);
  }
  bar("chart-leverage", "data-leverage", palette[0]);
  bar("chart-fee", "data-fee", palette[1]);
  bar("chart-support", "data-support", palette[6]);
  bar("chart-rule", "data-rule", palette[5], true);
  bar("chart-city", "data-city", palette[4], true);

  const trend = data("data-trend"); const trendChart = trend && init("chart-trend");
  if (trendChart) {
    trendChart.setOption({
      color: [palette[0], palette[5]], tooltip: { trigger: "axis", valueFormatter: v => v == null ? "—" : v.toFixed(2) + "%" },
      legend: { top: 0 }, grid: { left: 48, right: 16, top: 32, bottom: 28 },
      xAxis: { type: "category", data: trend.periods }, yAxis: { type: "value", axisLabel: { formatter: "{value}%" } },
      series: trend.series.map(s => ({ name: s.name, type: "line", symbolSize: 8, connectNulls: false, data: s.data })),
    });
    drill(trendChart);
  }

  const big = v => v.max >= 50 && v.max <= 100;
  const shareAxis = {
    max: v => (big(v) ? Math.min(100, Math.ceil(v.max / 10) * 10 + 10) : null),
    min: v => (big(v) ? Math.max(0, Math.floor(v.min / 10) * 10 - 10) : null),
  };
  const series = data("data-series");
  if (series) {
    series.series.forEach((s, i) => {
      const chart = init("chart-series-" + i);
      if (!chart) return;
      chart.setOption({
        color: [palette[i % palette.length]],
        title: { text: s.title, textStyle: { fontSize: 13, fontWeight: "normal" } },
        tooltip: { trigger: "axis" }, grid: { left: 48, right: 90, top: 36, bottom: 24 },
        xAxis: { type: "category", data: series.periods },
        // Large shares (≥ 50 %) get a 10-point grid capped at 100 %, where auto-scaling would run past it.
        yAxis: { type: "value", scale: true, ...(s.unit === "%" ? shareAxis : {}) },
        series: [{ type: "line", data: s.data, symbolSize: 7, connectNulls: false,
                   markLine: { symbol: "none", lineStyle: { type: "dashed", color: "#e4572e" },
                               label: { formatter: "{b}", position: "end", fontSize: 10 },
                               data: s.bands.map(b => ({ name: b.name, yAxis: b.value })) } }],
      });
    });
  }
  window.addEventListener("resize", () => charts.forEach(c => c.resize()));
})();
