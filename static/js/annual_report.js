// Bar charts of the annual report page: each .report-chart names the json_script holding {title, labels, values}.
document.querySelectorAll(".report-chart").forEach(function (el) {
  var data = JSON.parse(document.getElementById(el.dataset.source).textContent);
  var chart = echarts.init(el);
  chart.setOption({
    title: { text: data.title, textStyle: { fontSize: 13 } },
    tooltip: {},
    grid: { left: 40, right: 10, top: 40, bottom: 30 },
    xAxis: { type: "category", data: data.labels },
    yAxis: { type: "value", minInterval: 1 },
    series: [{ type: "bar", data: data.values }],
  });
  window.addEventListener("resize", function () { chart.resize(); });
});
