// Dashboards: draws each chart from its JSON script tag (<div class="zx-chart" data-spec="spec-…">) with
// Apache ECharts, served locally (app/static/vendor/echarts). No inline script: the page's CSP forbids it.
// The chart's texts come translated from the server; ECharts' own texts (toolbox, loading) follow the page's
// language through its built-in locale (ZH or EN).
(function () {
  'use strict';
  var locale = (document.documentElement.lang || '').toLowerCase().indexOf('en') === 0 ? 'EN' : 'ZH';

  function axisOptions(spec) {
    var names = spec.yNames && spec.yNames.length ? spec.yNames : [''];
    return names.map(function (name, i) {
      return { type: 'value', name: name, position: i === 0 ? 'left' : 'right', splitLine: { show: i === 0 } };
    });
  }

  function options(spec) {
    var base = {
      tooltip: { trigger: spec.kind === 'pie' ? 'item' : 'axis', confine: true },
      legend: { top: 0, type: 'scroll' },
      toolbox: { right: 0, feature: { saveAsImage: {} } },
      animation: false
    };
    if (spec.kind === 'pie') {
      base.series = spec.series.map(function (s) {
        return { type: 'pie', name: s.name, radius: ['35%', '65%'], top: 30, data: s.data };
      });
      return base;
    }
    base.grid = { left: 60, right: spec.yNames && spec.yNames.length > 1 ? 60 : 20, top: 50, bottom: 60 };
    base.xAxis = { type: 'category', data: spec.categories, axisLabel: { hideOverlap: true, rotate: spec.categories.length > 6 ? 30 : 0 } };
    base.yAxis = axisOptions(spec);
    base.series = spec.series.map(function (s) {
      return { type: s.type || spec.kind, name: s.name, data: s.data, yAxisIndex: s.yAxisIndex || 0,
               smooth: false, connectNulls: true };
    });
    return base;
  }

  function draw(el) {
    var tag = document.getElementById(el.getAttribute('data-spec'));
    if (!tag || typeof echarts === 'undefined') { return; }
    var chart = echarts.init(el, null, { renderer: 'canvas', locale: locale });
    chart.setOption(options(JSON.parse(tag.textContent)));
    el.setAttribute('data-drawn', locale);
    window.addEventListener('resize', function () { chart.resize(); });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll('.zx-chart[data-spec]'), draw);
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', start); } else { start(); }
})();
