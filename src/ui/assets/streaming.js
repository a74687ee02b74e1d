// The Streaming tab's script: draws the timelines and histograms of the recent batches from
// the REST API and refreshes the page's live sections every second. After drawing, each chart
// container gets data-points (the values drawn) and data-drawn ("true" when its canvas has
// pixels), which the browser test reads.
(function () {
  'use strict';
  const body = document.body;
  const api = '/api/v1/applications/' + encodeURIComponent(body.dataset.appId) + '/streaming/';
  const refreshMillis = 1000;
  const charts = {};

  const metrics = {
    inputRate: (b) => (b.inputSize * 1000) / b.batchDuration,
    schedulingDelay: (b) => b.schedulingDelay,
    processingTime: (b) => b.processingTime,
    totalDelay: (b) => b.totalDelay,
  };
  const colours = {
    inputRate: '#2f7ed8',
    schedulingDelay: '#e4a11b',
    processingTime: '#3aa57a',
    totalDelay: '#c0504d',
  };

  function pad(n) {
    return String(n).padStart(2, '0');
  }
  function timeLabel(ms) {
    const d = new Date(ms);
    return pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  }
  function number(v) {
    if (v === null || v === undefined || Number.isNaN(v)) return '-';
    return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2);
  }

  function canvasHasPixels(canvas) {
    try {
      const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
      for (let i = 3; i < data.length; i += 4) {
        if (data[i] !== 0) return true;
      }
    } catch (e) {
      // An unreadable canvas counts as not drawn.
    }
    return false;
  }

  function histogram(values, bins) {
    if (values.length === 0) return { labels: [], counts: [] };
    let lo = Math.min(...values);
    let hi = Math.max(...values);
    if (hi === lo) hi = lo + 1;
    const width = (hi - lo) / bins;
    const counts = new Array(bins).fill(0);
    for (const v of values) counts[Math.min(bins - 1, Math.floor((v - lo) / width))] += 1;
    const labels = counts.map((_, i) => number(lo + i * width) + '-' + number(lo + (i + 1) * width));
    return { labels, counts };
  }

  const baseOptions = {
    animation: false,
    responsive: true,
    maintainAspectRatio: false,
    plugins: { legend: { display: false } },
    scales: { y: { beginAtZero: true, ticks: { maxTicksLimit: 5 } }, x: { ticks: { maxTicksLimit: 8, autoSkip: true } } },
  };

  function draw(container, type, labels, data, points, colour) {
    let chart = charts[container.id];
    const dataset = {
      data,
      borderColor: colour,
      backgroundColor: type === 'bar' ? colour + 'aa' : colour + '22',
      fill: type === 'line',
      pointRadius: data.length > 60 ? 0 : 2,
      borderWidth: type === 'line' ? 2 : 0,
      spanGaps: true,
      tension: 0.15,
    };
    if (chart) {
      chart.data.labels = labels;
      chart.data.datasets = [dataset];
      chart.update('none');
    } else {
      chart = new Chart(container.querySelector('canvas'), {
        type,
        data: { labels, datasets: [dataset] },
        options: baseOptions,
      });
      charts[container.id] = chart;
    }
    container.dataset.points = String(points);
    container.dataset.drawn = canvasHasPixels(chart.canvas) ? 'true' : 'false';
  }

  function drawCharts(batches) {
    const completed = batches.filter((b) => b.status === 'COMPLETED').reverse();  // oldest first
    const labels = completed.map((b) => timeLabel(b.batchId));
    for (const [metric, valueOf] of Object.entries(metrics)) {
      const timeline = document.getElementById('timeline-' + metric);
      const hist = document.getElementById('histogram-' + metric);
      if (!timeline || !hist) continue;
      const values = completed.map((b) => {
        const v = valueOf(b);
        return v === undefined ? null : v;
      });
      const present = values.filter((v) => v !== null);
      draw(timeline, 'line', labels, values, present.length, colours[metric]);
      const h = histogram(present, 10);
      draw(hist, 'bar', h.labels, h.counts, present.length, colours[metric]);
      const stat = document.getElementById('stat-' + metric);
      if (stat) {
        const avg = present.length ? present.reduce((a, b) => a + b, 0) / present.length : null;
        stat.textContent = 'avg ' + number(avg) + ' ' + timeline.dataset.unit;
      }
    }
  }

  // Swaps the page's live sections for those of a fresh copy of the page.
  function refreshSections(text) {
    const fresh = new DOMParser().parseFromString(text, 'text/html');
    for (const section of document.querySelectorAll('[data-live][id]')) {
      const replacement = fresh.getElementById(section.id);
      if (replacement && replacement.innerHTML !== section.innerHTML) section.innerHTML = replacement.innerHTML;
    }
  }

  function setConnected(connected) {
    body.classList.toggle('disconnected', !connected);
  }

  async function refresh(withSections) {
    try {
      const batches = await fetch(api + 'batches', { cache: 'no-store' });
      if (!batches.ok) throw new Error('HTTP ' + batches.status);
      drawCharts(await batches.json());
      if (withSections) {
        const page = await fetch(window.location.href, { cache: 'no-store' });
        if (page.ok) refreshSections(await page.text());
      }
      setConnected(true);
    } catch (e) {
      setConnected(false);
    }
  }

  async function loop() {
    await refresh(false);
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, refreshMillis));
      await refresh(true);
    }
  }

  if (document.querySelector('.charts')) loop();
})();
