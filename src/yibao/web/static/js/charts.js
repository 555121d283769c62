// Yibao's charts: each `<div class="chart" data-chart="ID">` is drawn with Apache ECharts
// (static/vendor/echarts.min.js) from the figures in `<script type="application/json"
// id="ID">` (data, never executed: the Content-Security-Policy allows no inline script).
// The figures are the page's own, as text; this file only lays them out. Every chart is a
// picture of a table on the same page, which is what screen readers and printouts read.
(function () {
  "use strict";

  var PALETTE = ["#1f5fa8", "#2e8b57", "#c77c0e", "#8e44ad", "#b03a2e", "#5d6d7e"];

  function figures(element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source) {
      return null;
    }
    return JSON.parse(source.textContent || "null");
  }

  function number(text) {
    var value = Number(text);
    return isFinite(value) ? value : 0;
  }

  function axisLabel(unit) {
    return { formatter: function (value) { return value.toLocaleString() + (unit ? " " + unit : ""); } };
  }

  function barOption(data) {
    return {
      color: PALETTE,
      animation: false,
      tooltip: { trigger: "axis", axisPointer: { type: "shadow" } },
      legend: { top: 0, type: "scroll" },
      grid: { left: 8, right: 16, top: 40, bottom: 8, containLabel: true },
      xAxis: {
        type: "category",
        data: data.categories,
        axisLabel: { interval: 0, hideOverlap: true }
      },
      yAxis: { type: "value", axisLabel: axisLabel(data.unit) },
      series: data.series.map(function (serie) {
        return {
          name: serie.name,
          type: "bar",
          stack: data.stacked ? "all" : undefined,
          barMaxWidth: 48,
          data: serie.values.map(number)
        };
      })
    };
  }

  // A waterfall: a "total" step is a bar from zero; a "down" step is the part taken from the
  // bar before it (drawn on an invisible base, which is layout only: every figure shown is
  // the page's own).
  function waterfallOption(data) {
    var bases = [];
    var values = [];
    var running = 0;
    data.steps.forEach(function (step) {
      var value = number(step.amount);
      if (step.kind === "down") {
        running = Math.max(running - value, 0);
        bases.push(running);
      } else {
        running = value;
        bases.push(0);
      }
      values.push({
        value: value,
        itemStyle: { color: step.kind === "down" ? "#c77c0e" : (step.fund ? "#2e8b57" : "#1f5fa8") },
        label: { show: true, position: "top", formatter: step.amount }
      });
    });
    return {
      animation: false,
      tooltip: {
        trigger: "axis",
        axisPointer: { type: "shadow" },
        formatter: function (params) {
          var shown = params.filter(function (p) { return p.seriesIndex === 1; })[0];
          return shown ? shown.name + ": " + data.steps[shown.dataIndex].amount + " " + (data.unit || "") : "";
        }
      },
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },
      xAxis: {
        type: "category",
        data: data.categories,
        axisLabel: { interval: 0, rotate: 30, width: 110, overflow: "truncate" }
      },
      yAxis: { type: "value", axisLabel: axisLabel(data.unit) },
      series: [
        {
          type: "bar",
          stack: "waterfall",
          silent: true,
          itemStyle: { color: "transparent", borderColor: "transparent" },
          emphasis: { disabled: true },
          data: bases
        },
        { type: "bar", stack: "waterfall", barMaxWidth: 40, data: values }
      ]
    };
  }

  function draw(element) {
    if (typeof window.echarts === "undefined" || element.getAttribute("data-drawn")) {
      return;
    }
    var data = figures(element);
    if (!data) {
      return;
    }
    var chart = window.echarts.init(element, null, { renderer: "svg" });
    chart.setOption(data.kind === "waterfall" ? waterfallOption(data) : barOption(data));
    element.setAttribute("data-drawn", "true");
    window.addEventListener("resize", function () { chart.resize(); });
  }

  function drawAll(root) {
    var found = (root || document).querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(found, draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  } else {
    drawAll(document);
  }
  // charts that arrive with an htmx swap
  document.addEventListener("htmx:afterSettle", function (event) { drawAll(event.target); });
})();
