/**
 * The script the page runs: reads the inline JSON and draws the charts with uPlot (inlined before
 * it). Kept as plain ES2017 text rather than compiled from TypeScript, so no bundler helper can
 * sneak in; the browser tests are its type checker.
 */
// biome-ignore lint/complexity/noUselessStringRaw: raw, so a backslash added to the script later reaches the page as written.
export const CLIENT_SCRIPT = String.raw`
(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var charts = [];
  var ISLAND_COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  var OUTCOME_COLORS = {
    'ok': '#2ca02c', 'timeout': '#ff7f0e', 'memory': '#9467bd', 'crash': '#d62728', 'syntax-error': '#e377c2',
    'invalid-score': '#8c564b', 'output-limit': '#bcbd22', 'empty': '#7f7f7f', 'calls-ancestor': '#17becf',
    'llm-error': '#1a237e', 'not-evaluated': '#c7c7c7'
  };

  function islandColor(i) {
    return i < ISLAND_COLORS.length ? ISLAND_COLORS[i] : 'hsl(' + ((i * 137) % 360) + ', 55%, 45%)';
  }

  function outcomeColor(kind, i) {
    return OUTCOME_COLORS[kind] || 'hsl(' + ((i * 71) % 360) + ', 50%, 55%)';
  }

  // Tick labels of a run-time axis, all in one unit chosen by the axis's largest value.
  function durationTicks(u, splits) {
    var top = Math.max.apply(null, splits.map(Math.abs));
    var unit = top < 180 ? [1, 's'] : top < 10800 ? [60, 'm'] : [3600, 'h'];
    return splits.map(function (v) { return v == null ? '' : (Math.round((v / unit[0]) * 100) / 100) + unit[1]; });
  }

  // Round steps for a run-time axis, in seconds (uPlot's own steps are decimal: 3.33m).
  var DURATION_INCRS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800, 604800];
  var timeAxis = { incrs: DURATION_INCRS, values: durationTicks };

  function compact(u, splits) {
    return splits.map(function (v) {
      if (v == null) return '';
      var a = Math.abs(v);
      return a >= 1e6 ? (Math.round(v / 1e5) / 10) + 'M' : a >= 1e4 ? (Math.round(v / 100) / 10) + 'k' : String(Math.round(v * 100) / 100);
    });
  }

  function longDuration(s) {
    if (s == null) return '—';
    if (s < 60) return s.toFixed(1) + ' s';
    var whole = Math.round(s), h = Math.floor(whole / 3600), m = Math.floor((whole % 3600) / 60), sec = whole % 60;
    return (h > 0 ? h + ' h ' : '') + m + ' min ' + sec + ' s';
  }

  function msLabel(ms) {
    if (ms == null) return '—';
    return ms < 1000 ? Math.round(ms) + ' ms' : (Math.round(ms / 10) / 100) + ' s';
  }

  function score(v) {
    if (v == null) return '—';
    return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(6)));
  }

  function chartWidth(el) {
    return Math.max(300, Math.floor(el.getBoundingClientRect().width));
  }

  function empty(el, text) {
    el.textContent = text;
    el.classList.add('empty');
  }

  // Vertical lines at island resets and resumes, drawn over the plot.
  function markersPlugin(getMarkers) {
    return {
      hooks: {
        draw: [function (u) {
          var ctx = u.ctx, box = u.bbox;
          ctx.save();
          ctx.lineWidth = Math.max(1, devicePixelRatio || 1);
          getMarkers().forEach(function (m) {
            var x = Math.round(u.valToPos(m.x, 'x', true));
            if (!(x >= box.left && x <= box.left + box.width)) return;
            ctx.strokeStyle = m.color;
            ctx.setLineDash(m.dash);
            ctx.beginPath();
            ctx.moveTo(x, box.top);
            ctx.lineTo(x, box.top + box.height);
            ctx.stroke();
          });
          ctx.restore();
        }]
      }
    };
  }

  // The inverse of the page builder's change list: [[index, value], ...] back to one value per point.
  function expand(changes, length) {
    var values = new Array(length), c = 0, current = null;
    for (var i = 0; i < length; i++) {
      while (c < changes.length && changes[c][0] <= i) current = changes[c++][1];
      values[i] = current;
    }
    return values;
  }

  function make(el, build) {
    var opts = build.opts;
    opts.width = chartWidth(el);
    opts.height = opts.height || 280;
    var chart = new uPlot(opts, build.data, el);
    charts.push({ chart: chart, el: el });
    return chart;
  }

  // --- best score, over run time or over samples --------------------------------------------------
  var bestEl = document.getElementById('chart-best');
  var bestChart = null;
  function bestBuild(mode) {
    var b = data.best;
    var xs = mode === 'samples' ? b.n : b.t;
    var series = [{ label: mode === 'samples' ? 'samples' : 'run time', value: function (u, v) { return mode === 'samples' ? (v == null ? '—' : String(v)) : longDuration(v); } }];
    var columns = [xs];
    series.push({ label: 'best overall', stroke: '#111', width: 2.5, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false }, value: function (u, v) { return score(v); } });
    columns.push(expand(b.overall, xs.length));
    b.islands.forEach(function (changes, i) {
      series.push({ label: 'island ' + i, stroke: islandColor(i), width: 1.2, paths: uPlot.paths.stepped({ align: 1 }), points: { show: false }, value: function (u, v) { return score(v); } });
      columns.push(expand(changes, xs.length));
    });
    var key = mode === 'samples' ? 'n' : 't';
    var markers = data.resets.map(function (r) { return { x: r[key], color: 'rgba(214, 39, 40, 0.7)', dash: [5, 4] }; })
      .concat(data.resumes.map(function (r) { return { x: r[key], color: 'rgba(31, 119, 180, 0.8)', dash: [2, 3] }; }));
    return {
      data: columns,
      opts: {
        scales: { x: { time: false } },
        series: series,
        axes: [
          mode === 'samples' ? { values: compact } : timeAxis,
          { size: 60, values: function (u, splits) { return splits.map(score); } }
        ],
        plugins: [markersPlugin(function () { return markers; })]
      }
    };
  }
  function drawBest(mode) {
    if (bestChart) {
      charts = charts.filter(function (c) { return c.chart !== bestChart; });
      bestChart.destroy();
      bestChart = null;
    }
    if (!data.best.t.length) return empty(bestEl, 'No scored program yet.');
    bestChart = make(bestEl, bestBuild(mode));
    document.querySelectorAll('[data-best-mode]').forEach(function (button) {
      button.setAttribute('aria-pressed', button.getAttribute('data-best-mode') === mode ? 'true' : 'false');
    });
  }
  document.querySelectorAll('[data-best-mode]').forEach(function (button) {
    button.addEventListener('click', function () { drawBest(button.getAttribute('data-best-mode')); });
  });
  drawBest('time');

  // --- outcomes per time bin, stacked ---------------------------------------------------------------
  var outcomesEl = document.getElementById('chart-outcomes');
  (function () {
    var o = data.outcomes;
    if (!o.t.length) return empty(outcomesEl, 'No samples yet.');
    // Stacked by drawing each kind's bar from 0 to the sum of it and every kind after it: the first
    // (ok, tallest) is drawn first and each later one over its lower part. The legend keeps the
    // kinds' order and failures sit on the baseline, where their counts read directly.
    var stacked = o.counts.map(function () { return []; });
    for (var b = 0; b < o.t.length; b++) {
      var sum = 0;
      for (var j = o.kinds.length - 1; j >= 0; j--) {
        sum += o.counts[j][b];
        stacked[j][b] = sum;
      }
    }
    var half = o.binSeconds / 2;
    var series = [{ label: 'run time', value: function (u, v) { return v == null ? '—' : longDuration(v - half) + ' – ' + longDuration(v + half); } }];
    var columns = [o.t];
    o.kinds.forEach(function (kind, k) {
      var color = outcomeColor(kind, k);
      series.push({
        label: kind, stroke: color, fill: color, width: 0, points: { show: false },
        paths: uPlot.paths.bars({ size: [1, Infinity], gap: 1 }),
        value: function (u, v, si, idx) { return idx == null ? '—' : String(o.counts[k][idx]); }
      });
      columns.push(stacked[k]);
    });
    make(outcomesEl, {
      data: columns,
      opts: {
        scales: { x: { time: false, range: function (u, min, max) { return [min - half, max + half]; } }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
        series: series,
        axes: [timeAxis, { size: 56, values: compact }]
      }
    });
  })();

  // --- throughput per time bin ------------------------------------------------------------------------
  var throughputEl = document.getElementById('chart-throughput');
  (function () {
    var o = data.outcomes;
    if (!o.t.length) return empty(throughputEl, 'No samples yet.');
    // A short run has a few slices only: dots make a single slice visible at all.
    var few = o.t.length < 30;
    make(throughputEl, {
      data: [o.t, o.samplesPerSecond, o.evaluationsPerSecond],
      opts: {
        height: 240,
        scales: { x: { time: false }, y: { range: function (u, min, max) { return [0, Math.max(max * 1.1, 0.01)]; } } },
        series: [
          { label: 'run time', value: function (u, v) { return longDuration(v); } },
          { label: 'samples/s', stroke: '#1f77b4', width: 1.5, points: { show: few }, value: function (u, v) { return v == null ? '—' : v.toFixed(2); } },
          { label: 'evaluations/s', stroke: '#2ca02c', width: 1.5, points: { show: few }, value: function (u, v) { return v == null ? '—' : v.toFixed(2); } }
        ],
        axes: [timeAxis, { size: 56, values: compact }]
      }
    });
  })();

  // --- a histogram (LLM latency) -----------------------------------------------------------------------
  function histogramChart(el, h, label, color) {
    if (!h.n) return empty(el, 'No ' + label + ' measured yet.');
    var centres = h.edges.map(function (e) { return e + h.binWidth / 2; });
    make(el, {
      data: [centres, h.counts],
      opts: {
        height: 240,
        scales: { x: { time: false, range: function () { return [0, h.edges[h.edges.length - 1] + h.binWidth]; } }, y: { range: function (u, min, max) { return [0, Math.max(1, max)]; } } },
        series: [
          { label: label, value: function (u, v) { return v == null ? '—' : msLabel(v - h.binWidth / 2) + ' – ' + msLabel(v + h.binWidth / 2); } },
          { label: 'samples', stroke: color, fill: color, width: 0, points: { show: false }, paths: uPlot.paths.bars({ size: [1, Infinity], gap: 1 }) }
        ],
        axes: [{ values: function (u, splits) { return splits.map(msLabel); } }, { size: 56, values: compact }]
      }
    });
  }
  histogramChart(document.getElementById('chart-latency'), data.latency, 'LLM latency', '#6a51a3');

  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      charts.forEach(function (c) { c.chart.setSize({ width: chartWidth(c.el), height: c.chart.height }); });
    }, 100);
  });
  document.documentElement.setAttribute('data-charts', String(charts.length));
})();
`;
