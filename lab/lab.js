// fcgilab /lab/: start a comparison on the server (/lab/api/runs), draw its
// requests as they complete (the run's CSVs under /lab/runs/ID/), show a
// live gauge of every backend (lighttpd's /server-statistics, the mux's
// /metrics, and the run's gauge.csv for the stacks it started), then the
// report. Plain JavaScript, nothing loaded from elsewhere.
"use strict";

(() => {
  const $ = (id) => document.getElementById(id);
  const SVGNS = "http://www.w3.org/2000/svg";
  const W = 960, LEFT = 130, RIGHT = 16, ROWS_H = 240, LANE_H = 18, QUEUE_H = 50;
  const QUEUED_MIN = 0.05; // as fcgilab-report: reached a worker within 50 ms: did not queue
  const DEFAULTS = {
    wait: { pools: "40,4", n: 100, secs: "0.1..1.0", timeout: 60 },
    overload: { pools: "4", n: 1500, secs: "0.5", timeout: 8 },
    cpu: { pools: "4", n: 40, secs: "0.2", timeout: 60 },
    jobs: { pools: "8", n: 100, secs: "0.1..1.0", timeout: 60 },
    blocking: { pools: "4", n: 10, secs: "0.5", timeout: 60 },
  };

  let stackPool = 0;
  let current = null; // { id, files, plan, rows: {name: [...]}, report }
  let polling = false;

  async function fetchText(url) {
    const r = await fetch(url, { cache: "no-store" });
    if (!r.ok) throw new Error(`${url}: ${r.status}`);
    return r.text();
  }

  async function fetchJSON(url, opts) {
    const r = await fetch(url, { cache: "no-store", ...opts });
    const body = await r.json().catch(() => ({}));
    return { ok: r.ok, status: r.status, body };
  }

  function el(name, attrs, parent) {
    const e = document.createElementNS(SVGNS, name);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (parent) parent.appendChild(e);
    return e;
  }

  // --- the gauge -------------------------------------------------------

  function statsOf(text) {
    const m = new Map();
    for (const line of text.split("\n")) {
      const i = line.indexOf(": ");
      if (i > 0) m.set(line.slice(0, i), Number(line.slice(i + 2)));
    }
    return m;
  }

  function metric(text, name) {
    for (const line of text.split("\n")) {
      const [k, v] = line.split(" ");
      if (k === name) return Number(v);
    }
    return 0;
  }

  // The last sample of each backend in the run's gauge.csv.
  function lastSamples(csv) {
    const last = new Map();
    for (const line of csv.split("\n").slice(1)) {
      const f = line.split(",");
      if (f.length === 4 && f[3] !== "") last.set(f[1], { active: +f[2], queued: +f[3] });
    }
    return last;
  }

  async function gauge() {
    const rows = [];
    try {
      const [stats, metrics] = await Promise.all([
        fetchText("/server-statistics"), fetchText("/metrics")]);
      const s = statsOf(stats);
      const load = s.get("gw.backend.pool.load") || 0;
      rows.push({ name: `this stack: pool of ${stackPool}`, active: Math.min(load, stackPool),
        queued: Math.max(load - stackPool, 0), cap: stackPool });
      rows.push({ name: "this stack: mux", active: metric(metrics, "fcgilab_requests_in_flight"),
        queued: 0, async: true });
    } catch (e) {
      rows.push({ name: "this stack", error: String(e.message || e) });
    }
    if (current && current.plan && current.plan.state === "running") {
      try {
        const last = lastSamples(await fetchText(current.files + "gauge.csv"));
        for (const [name, v] of last) {
          const m = /^pool of (\d+)$/.exec(name);
          rows.push({ name: `this run: ${name}`, active: v.active, queued: v.queued,
            cap: m ? +m[1] : 0, async: !m });
        }
      } catch (e) { /* the run has not sampled yet */ }
    }
    drawGauge(rows);
  }

  function drawGauge(rows) {
    const g = $("gauge");
    g.replaceChildren();
    const scale = Math.max(10, ...rows.map((r) => (r.active || 0) + (r.queued || 0) + 0),
      ...rows.map((r) => r.cap || 0));
    for (const r of rows) {
      const name = document.createElement("div");
      name.textContent = r.name;
      const bar = document.createElement("div");
      bar.className = "gbar";
      bar.dataset.backend = r.name;
      const text = document.createElement("div");
      if (r.error) {
        text.textContent = "unavailable";
      } else {
        const a = document.createElement("span");
        a.className = r.async ? "async" : "active";
        a.style.left = "0";
        a.style.width = `${(100 * r.active) / scale}%`;
        const q = document.createElement("span");
        q.className = "queued";
        q.style.left = `${(100 * r.active) / scale}%`;
        q.style.width = `${(100 * r.queued) / scale}%`;
        bar.append(a, q);
        text.textContent = r.async ? `${r.active} in flight`
          : `${r.active}/${r.cap} busy, ${r.queued} waiting`;
        bar.dataset.active = r.active;
        bar.dataset.queued = r.queued;
      }
      g.append(name, bar, text);
    }
  }

  // --- the timelines ---------------------------------------------------

  function parseCSV(text) {
    const rows = [];
    // the header first; the last piece is "" after a complete last line,
    // or a line still being written: skip it either way
    for (const line of text.split("\n").slice(1, -1)) {
      const f = line.split(",");
      if (f.length < 7) continue;
      rows.push({ index: +f[0], secs: f[1] === "" ? 0 : +f[1], start: +f[2], end: +f[3],
        status: +f[5], error: f[6], worker: f[7] || "" });
    }
    return rows;
  }

  const served = (r) => r.status >= 200 && r.status < 300;
  const servedFrom = (r) => (served(r) ? Math.max(r.start, r.end - r.secs) : r.end);

  // Lanes: a worker each, in the order they first served; requests
  // served without a name are packed into the first free lane.
  function lanes(rows) {
    const byStart = rows.filter(served).sort((a, b) => servedFrom(a) - servedFrom(b));
    const names = new Map();
    const free = [];
    for (const r of byStart) {
      if (r.worker) {
        if (!names.has(r.worker)) names.set(r.worker, names.size);
        r.lane = names.get(r.worker);
      }
    }
    for (const r of byStart) {
      if (r.worker) continue;
      let k = free.findIndex((t) => t <= servedFrom(r) + 1e-9);
      if (k < 0) { k = free.length; free.push(0); }
      free[k] = r.end;
      r.lane = names.size + k;
    }
    return names.size + free.length;
  }

  function queueSeries(rows) {
    const ev = [];
    for (const r of rows) {
      if (servedFrom(r) - r.start < QUEUED_MIN) continue;
      ev.push([r.start, 1], [servedFrom(r), -1]);
    }
    ev.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let d = 0;
    return ev.map(([t, k]) => [t, (d += k)]);
  }

  function drawPanel(def, rows, tmax, marks) {
    let panel = document.querySelector(`.panel[data-run="${def.name}"]`);
    if (!panel) {
      panel = document.createElement("div");
      panel.className = "panel";
      panel.dataset.run = def.name;
      panel.append(document.createElement("h3"));
      $("timelines").append(panel);
    }
    const [label, model] = def.label.split("|");
    panel.querySelector("h3").textContent =
      `${label}${model ? " — " + model : ""}: ${rows.length} of ${def.n} requests`;
    const x = (t) => LEFT + (t / tmax) * (W - LEFT - RIGHT);
    const nl = def.pool ? Math.max(lanes(rows), 1) : 0;
    const barsH = def.pool ? Math.min(ROWS_H, LANE_H * nl) : ROWS_H;
    const height = barsH + (def.pool ? QUEUE_H + 8 : 0) + 40;
    const svg = el("svg", { viewBox: `0 0 ${W} ${height}`, "data-run": def.name,
      role: "img", "aria-label": `timeline of ${label}` });
    if (def.pool) {
      const lh = barsH / nl;
      const parity = new Map();
      for (const r of rows) {
        let e;
        if (r.lane !== undefined) {
          const k = (parity.get(r.lane) || 0) + 1;
          parity.set(r.lane, k);
          e = el("rect", { class: k % 2 ? "served-pool" : "served-pool2", x: x(servedFrom(r)),
            y: r.lane * lh + 1, width: Math.max(x(r.end) - x(servedFrom(r)), 0.8),
            height: Math.max(lh - 2, 1) }, svg);
        } else {
          e = el("rect", { class: "failed", x: x(r.start), y: barsH + QUEUE_H + 2,
            width: Math.max(x(r.end) - x(r.start), 0.8), height: 3 }, svg);
        }
        e.setAttribute("data-request", r.index);
        el("title", {}, e).textContent =
          `request ${r.index}: wait ${r.secs} s, ${r.status || r.error}` +
          `${r.worker ? ", worker " + r.worker : ""}, ${(r.end - r.start).toFixed(3)} s`;
      }
      const q = queueSeries(rows);
      const qmax = Math.max(1, ...q.map((p) => p[1]));
      const y0 = barsH + 8 + QUEUE_H;
      let d = `M${x(0)} ${y0}`;
      let y = y0;
      for (const [t, depth] of q) {
        d += ` L${x(t)} ${y}`;
        y = y0 - (QUEUE_H * depth) / qmax;
        d += ` L${x(t)} ${y}`;
      }
      d += ` L${x(tmax)} ${y0} Z`;
      el("path", { class: "queue", d }, svg);
      el("text", { x: LEFT - 6, y: barsH / 2, "text-anchor": "end", "font-size": 12 }, svg)
        .textContent = `${nl} of ${def.pool} workers`;
      el("text", { x: LEFT - 6, y: barsH + 8 + QUEUE_H / 2, "text-anchor": "end", "font-size": 12 }, svg)
        .textContent = `waiting (max ${Math.max(0, ...q.map((p) => p[1]))})`;
    } else {
      const h = ROWS_H / Math.max(def.n, 1);
      [...rows].sort((a, b) => a.end - b.end || a.index - b.index).forEach((r, i) => {
        const g = el("g", { "data-request": r.index }, svg);
        if (served(r)) {
          if (x(servedFrom(r)) - x(r.start) > 0.5) {
            el("rect", { class: "waiting", x: x(r.start), y: i * h,
              width: x(servedFrom(r)) - x(r.start), height: Math.max(h * 0.9, 0.5) }, g);
          }
          el("rect", { class: "served-async", x: x(servedFrom(r)), y: i * h,
            width: Math.max(x(r.end) - x(servedFrom(r)), 0.8), height: Math.max(h * 0.9, 0.5) }, g);
        } else {
          el("rect", { class: "failed", x: x(r.start), y: i * h,
            width: Math.max(x(r.end) - x(r.start), 0.8), height: Math.max(h * 0.9, 0.5) }, g);
        }
        el("title", {}, g).textContent =
          `request ${r.index}: wait ${r.secs} s, ${r.status || r.error}, ${(r.end - r.start).toFixed(3)} s`;
      });
      el("text", { x: LEFT - 6, y: ROWS_H / 2, "text-anchor": "end", "font-size": 12 }, svg)
        .textContent = "requests";
    }
    // marks: ideal, FCFS, timeout, where they fall on the axis
    const top = height - 40;
    for (const [cls, name, t] of marks) {
      if (!(t > 0) || t > tmax) continue;
      el("line", { class: `mark m-${cls}`, x1: x(t), y1: 0, x2: x(t), y2: top }, svg);
      el("text", { x: x(t) - 3, y: cls === "ideal" ? 12 : 24, "text-anchor": "end", "font-size": 11 }, svg)
        .textContent = name;
    }
    // the time axis
    el("line", { class: "axis", x1: LEFT, y1: top + 2, x2: W - RIGHT, y2: top + 2 }, svg);
    const step = niceStep(tmax);
    for (let t = 0; t <= tmax + 1e-9; t += step) {
      el("line", { class: "axis", x1: x(t), y1: top + 2, x2: x(t), y2: top + 7 }, svg);
      el("text", { x: x(t), y: top + 20, "text-anchor": "middle", "font-size": 12 }, svg)
        .textContent = +t.toFixed(3);
    }
    el("text", { x: (W + LEFT) / 2, y: top + 36, "text-anchor": "middle", "font-size": 12 }, svg)
      .textContent = "seconds since the requests were sent";
    const old = panel.querySelector("svg");
    if (old) old.replaceWith(svg); else panel.append(svg);
  }

  function niceStep(span) {
    const raw = span / 8;
    if (!(raw > 0)) return 1;
    const mag = 10 ** Math.floor(Math.log10(raw));
    const m = raw / mag;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * mag;
  }

  function draw() {
    const plan = current.plan;
    let tmax = 0;
    for (const def of plan.runs) {
      for (const r of current.rows[def.name] || []) tmax = Math.max(tmax, r.end);
    }
    const timeout = Number(plan.timeout) || 0;
    if (timeout > 0 && timeout <= 1.25 * tmax) tmax = Math.max(tmax, timeout);
    tmax = Math.max(tmax, 0.5) * 1.02;
    plan.runs.forEach((def, i) => {
      const rep = current.report && current.report.runs && current.report.runs[i];
      const marks = [["timeout", "timeout", timeout]];
      if (rep) {
        marks.push(["ideal", "ideal", rep.ideal]);
        if (def.pool && Math.abs(rep.fcfs - rep.ideal) > 0.01 * rep.ideal) marks.push(["fcfs", "FCFS", rep.fcfs]);
      }
      drawPanel(def, current.rows[def.name] || [], tmax, marks);
    });
  }

  // --- a run -----------------------------------------------------------

  function setStatus(text, failed) {
    $("status").textContent = text;
    $("status").classList.toggle("failed", !!failed);
  }

  function idle(isIdle) {
    $("run").disabled = !isIdle;
    $("stop").disabled = isIdle;
  }

  async function poll() {
    if (!current) return;
    let plan;
    try {
      plan = JSON.parse(await fetchText(current.files + "status.json"));
    } catch (e) {
      return; // not written yet
    }
    current.plan = plan;
    await Promise.all(plan.runs.map(async (def) => {
      try {
        current.rows[def.name] = parseCSV(await fetchText(current.files + def.csv));
      } catch (e) { /* this run has not started */ }
    }));
    if (plan.state === "done") {
      try {
        current.report = JSON.parse(await fetchText(current.files + plan.report));
        await showResults(plan);
      } catch (e) {
        setStatus(`Done, but the report could not be read: ${e.message}`, true);
      }
    }
    draw();
    const n = Object.values(current.rows).reduce((a, r) => a + r.length, 0);
    // Every request has its row once the run is done, but lighttpd's stat
    // cache (the default, "simple") serves a file at the size it had when
    // first asked for in the same second: a CSV read just before the run
    // ended can come back short once more. Read again, for 3 s at most.
    const short = plan.runs.some((def) => (current.rows[def.name] || []).length < def.n);
    if (plan.state === "done" && short && (current.rereads = (current.rereads || 0) + 1) <= 8) {
      setStatus(`Reading the run's files: ${n} requests so far.`);
      return;
    }
    if (plan.state === "done") {
      setStatus(`Done: ${n} requests answered or failed. Run ${current.id}.`);
    } else if (plan.state === "failed") {
      let why = plan.message;
      try { why += " — " + (await fetchText(current.files + "compare.err")).trim().split("\n").slice(-3).join(" "); } catch (e) { /* none */ }
      setStatus(`Failed: ${why}`, true);
    } else {
      setStatus(`Running (${plan.message || plan.state}): ${n} requests completed so far.`);
    }
    if (plan.state === "done" || plan.state === "failed") {
      current.finished = true;
      idle(true);
    }
  }

  async function showResults(plan) {
    $("report-text").textContent = await fetchText(current.files + plan.text);
    const ul = $("explanation");
    ul.replaceChildren();
    const paras = [...(current.report.explanation || [])];
    if (current.report.note) paras.push("Note: " + current.report.note);
    for (const p of paras) {
      const li = document.createElement("li");
      li.textContent = p.replace(/^\s*-\s*/, "").trim();
      ul.append(li);
    }
    const f = $("files");
    f.replaceChildren("Files of this run: ");
    for (const name of ["timeline.svg", "report.json", "report.txt"]) {
      const a = document.createElement("a");
      a.href = current.files + name;
      a.textContent = name;
      f.append(a, " ");
    }
    $("results").hidden = false;
  }

  async function loop() {
    if (polling) return;
    polling = true;
    try {
      while (current && !current.finished) {
        await poll();
        await new Promise((r) => setTimeout(r, 400));
      }
    } finally {
      polling = false;
    }
  }

  function follow(id) {
    current = { id, files: `/lab/runs/${id}/`, plan: null, rows: {}, report: null, finished: false };
    $("timelines").replaceChildren();
    $("results").hidden = true;
    idle(false);
    loop();
  }

  async function start(ev) {
    ev.preventDefault();
    const body = { scenario: $("scenario").value };
    const pools = $("pools").value.trim();
    if (pools) body.pools = pools.split(",").map((p) => Number(p.trim()));
    if ($("n").value) body.n = Number($("n").value);
    if ($("secs").value.trim()) body.secs = $("secs").value.trim();
    if ($("seed").value !== "") body.seed = Number($("seed").value);
    if ($("timeout").value) body.timeout = Number($("timeout").value);
    setStatus("Starting…");
    const r = await fetchJSON("/lab/api/runs", {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    if (!r.ok) {
      setStatus(`Refused (${r.status}): ${r.body.detail || "?"}`, true);
      return;
    }
    follow(r.body.id);
  }

  async function stop() {
    if (!current) return;
    await fetchJSON(`/lab/api/runs/${current.id}/stop`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: "{}" });
  }

  function scenarioDefaults() {
    const d = DEFAULTS[$("scenario").value];
    $("pools").value = d.pools;
    $("n").value = d.n;
    $("secs").value = d.secs;
    $("timeout").value = d.timeout;
  }

  async function init() {
    $("run-form").addEventListener("submit", start);
    $("stop").addEventListener("click", stop);
    $("scenario").addEventListener("change", scenarioDefaults);
    const s = await fetchJSON("/lab/api/stack");
    stackPool = s.ok ? s.body.pool : 0;
    if (s.ok && s.body.running) follow(s.body.running);
    gauge();
    setInterval(gauge, 500);
  }

  init();
})();
