/**
 * The report page's script, part 2: the timeline. One canvas lane per connection direction,
 * messages as ticks (link phase in orange), a lane of keys typed, zoom with the wheel or the
 * buttons, pan by dragging, hover for the message as inspect prints it, click to select.
 */

/** Script: the timeline canvas. */
export const PAGE_TIMELINE = String.raw`
function buildTimeline() {
  const cv = document.getElementById("timeline");
  const tip = document.getElementById("tooltip");
  const ctx = cv.getContext("2d");
  const LABEL = 170, AXIS = 24, LANE = 20, RIGHT = 10;
  const KEYS = D.keys.length ? 24 : 0;
  // Connections in order of their first unit, client → server lane first.
  const firstLane = new Map();
  D.lanes.forEach((l, i) => {
    const key = l.file + "#" + l.connection;
    if (!firstLane.has(key)) firstLane.set(key, i);
  });
  const connOf = (l) => firstLane.get(D.lanes[l].file + "#" + D.lanes[l].connection);
  const order = D.lanes.map((_, i) => i).sort((a, b) =>
    connOf(a) - connOf(b) || Number(D.lanes[b].toServer) - Number(D.lanes[a].toServer));
  const perLane = D.lanes.map(() => []);
  for (let i = 0; i < N; i++) perLane[M.lane[i]].push(i);
  const ids = perLane.map((a) => Int32Array.from(a));
  const tOf = (i) => T[i];
  const end = Math.max(D.durationUs, 1);
  const view = { t0: -end * 0.01, t1: end * 1.01 };
  const H = AXIS + order.length * LANE + KEYS + 6;
  let W = 800;
  cv.dataset.lanes = String(order.length);

  function plotW() { return W - LABEL - RIGHT; }
  function xOf(t) { return LABEL + ((t - view.t0) / (view.t1 - view.t0)) * plotW(); }
  function tAt(px) { return view.t0 + ((px - LABEL) / plotW()) * (view.t1 - view.t0); }
  function resize() {
    const dpr = window.devicePixelRatio || 1;
    W = cv.parentElement.clientWidth;
    cv.width = Math.round(W * dpr); cv.height = Math.round(H * dpr);
    cv.style.height = H + "px";
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    draw();
  }
  function niceStep(span) {
    const raw = span / Math.max(2, plotW() / 110);
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
    return 10 * p;
  }
  function drawAxis() {
    ctx.fillStyle = "#5d6778"; ctx.strokeStyle = "#e5e7eb";
    ctx.font = "11px system-ui, sans-serif"; ctx.textBaseline = "middle";
    const step = niceStep(view.t1 - view.t0);
    const digits = Math.max(0, Math.min(6, -Math.floor(Math.log10(step / 1e6))));
    for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
      const x = xOf(t);
      ctx.fillText((t / 1e6).toFixed(digits) + " s", x + 3, AXIS / 2);
      ctx.beginPath(); ctx.moveTo(x + 0.5, AXIS - 6); ctx.lineTo(x + 0.5, H); ctx.stroke();
    }
  }
  function drawLane(l, y, row) {
    const lane = D.lanes[l], list = ids[l];
    ctx.fillStyle = row % 2 ? "#f8fafc" : "#ffffff";
    ctx.fillRect(0, y, W, LANE);
    ctx.fillStyle = "#1d2330"; ctx.font = "12px system-ui, sans-serif";
    ctx.fillText(laneName(lane) + (lane.toServer ? "  → server" : "  ← server"), 8, y + LANE / 2);
    if (list.length === 0) return;
    ctx.save();
    ctx.beginPath(); ctx.rect(LABEL, y, plotW(), LANE); ctx.clip();
    const a = xOf(T[list[0]]), b = xOf(T[list[list.length - 1]]);
    ctx.fillStyle = lane.toServer ? "#e0ecff" : "#e7f6ec";
    ctx.fillRect(a, y + 4, Math.max(1, b - a), LANE - 8);
    if (lane.linkEndUs >= 0) {
      ctx.fillStyle = "#fde7c8";
      ctx.fillRect(a, y + 2, Math.max(2, xOf(lane.linkEndUs) - a), LANE - 4);
    }
    const lo = lowerBound(list, view.t0, tOf), hi = lowerBound(list, view.t1 + 1, tOf);
    const normal = lane.toServer ? "#2563eb" : "#15803d";
    let last = -1;
    for (let k = lo; k < hi; k++) {
      const i = list[k];
      const x = Math.floor(xOf(T[i]));
      if (x === last) continue;
      last = x;
      ctx.fillStyle = T[i] <= lane.linkEndUs ? "#ea8a1a" : normal;
      ctx.fillRect(x, y + 3, 1, LANE - 6);
    }
    ctx.restore();
  }
  function drawKeys(y) {
    ctx.fillStyle = "#fffbeb"; ctx.fillRect(0, y, W, KEYS);
    ctx.fillStyle = "#1d2330"; ctx.font = "12px system-ui, sans-serif";
    ctx.fillText("keys typed", 8, y + KEYS / 2);
    ctx.save(); ctx.beginPath(); ctx.rect(LABEL, y, plotW(), KEYS); ctx.clip();
    ctx.font = "11px ui-monospace, Menlo, monospace";
    let free = -Infinity;
    for (const k of D.keys) {
      if (!k.down) continue;
      const x = xOf(T[k.message]);
      if (x < LABEL - 50 || x > W) continue;
      const w = ctx.measureText(k.key).width + 6;
      if (x >= free) {
        ctx.fillStyle = "#fde68a"; ctx.fillRect(x, y + 3, w, KEYS - 6);
        ctx.fillStyle = "#78350f"; ctx.fillText(k.key, x + 3, y + KEYS / 2);
        free = x + w + 1;
      } else { ctx.fillStyle = "#b45309"; ctx.fillRect(Math.floor(x), y + KEYS - 6, 1, 4); }
    }
    ctx.restore();
  }
  function vline(t, colour, width) {
    const x = xOf(t);
    if (x < LABEL || x > W - RIGHT) return;
    ctx.fillStyle = colour; ctx.fillRect(Math.round(x) - (width >> 1), AXIS - 4, width, H);
  }
  function draw() {
    ctx.clearRect(0, 0, W, H);
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, W, H);
    drawAxis();
    order.forEach((l, row) => drawLane(l, AXIS + row * LANE, row));
    if (KEYS) drawKeys(AXIS + order.length * LANE);
    for (const f of D.frames) vline(f.t, "rgba(124,58,237,.35)", 1);
    if (S.frame >= 0 && D.frames.length) vline(D.frames[S.frame].t, "#7c3aed", 2);
    if (S.sel >= 0) vline(T[S.sel], "#dc2626", 2);
  }
  /** The message under the pointer: nearest within 5 px on the lane (or the keys lane). */
  function hit(px, py) {
    if (px < LABEL) return -1;
    const row = Math.floor((py - AXIS) / LANE);
    let list;
    if (row >= 0 && row < order.length) list = ids[order[row]];
    else if (KEYS && py >= AXIS + order.length * LANE) list = D.keys.map((k) => k.message);
    else return -1;
    const k = lowerBound(list, tAt(px), tOf);
    let best = -1, dist = 6;
    for (const j of [k - 1, k]) {
      if (j < 0 || j >= list.length) continue;
      const d = Math.abs(xOf(T[list[j]]) - px);
      if (d < dist) { dist = d; best = list[j]; }
    }
    return best;
  }
  function zoom(factor, px) {
    const at = tAt(px);
    const span = Math.max(2, (view.t1 - view.t0) * factor);
    const frac = (at - view.t0) / (view.t1 - view.t0);
    view.t0 = at - frac * span; view.t1 = view.t0 + span;
    draw();
  }
  wireTimeline({ cv, tip, hit, zoom, draw, view, plotW, xOf, end, LABEL, resize });
  S.onSelect.push((i) => {
    const x = xOf(T[i]);
    if (x < LABEL || x > W - RIGHT) {
      const span = view.t1 - view.t0;
      view.t0 = T[i] - span / 2; view.t1 = view.t0 + span;
    }
    draw();
  });
  S.onFrame.push(() => draw());
  window.addEventListener("resize", resize);
  /** Where message i's mark is, in viewport pixels (the view moves to show it): for tests. */
  window.spicecapReport = {
    markPosition(i) {
      const span = view.t1 - view.t0;
      if (xOf(T[i]) < LABEL || xOf(T[i]) > W - RIGHT) { view.t0 = T[i] - span / 2; view.t1 = view.t0 + span; }
      draw();
      const r = cv.getBoundingClientRect();
      const row = order.indexOf(M.lane[i]);
      return { x: r.left + Math.floor(xOf(T[i])) + 0.5, y: r.top + AXIS + row * LANE + LANE / 2 };
    },
  };
  resize();
}

/** Mouse and buttons of the timeline: wheel zoom, drag pan, hover tooltip, click select. */
function wireTimeline(t) {
  const { cv, tip, view } = t;
  let drag = null;
  const pos = (e) => { const r = cv.getBoundingClientRect(); return [e.clientX - r.left, e.clientY - r.top]; };
  cv.addEventListener("wheel", (e) => {
    e.preventDefault();
    t.zoom(Math.exp(e.deltaY * 0.0015), pos(e)[0]);
  }, { passive: false });
  cv.addEventListener("mousedown", (e) => {
    drag = { x: pos(e)[0], t0: view.t0, t1: view.t1, moved: false };
    cv.style.cursor = "grabbing";
  });
  window.addEventListener("mouseup", (e) => {
    if (!drag) return;
    const moved = drag.moved;
    drag = null;
    cv.style.cursor = "";
    if (moved || e.target !== cv) return;
    const [x, y] = pos(e);
    const i = t.hit(x, y);
    if (i >= 0) select(i, "timeline");
  });
  cv.addEventListener("mousemove", (e) => {
    const [x, y] = pos(e);
    if (drag) {
      const dx = x - drag.x;
      if (Math.abs(dx) > 3) drag.moved = true;
      const dt = (dx / t.plotW()) * (drag.t1 - drag.t0);
      view.t0 = drag.t0 - dt; view.t1 = drag.t1 - dt;
      t.draw();
      return;
    }
    const i = t.hit(x, y);
    if (i < 0) { tip.style.display = "none"; return; }
    const key = D.keys.filter((k) => k.message === i).map((k) => k.key + (k.down ? "↓" : "↑"));
    tip.textContent = "#" + i + "  " + lineOf(i) + (key.length ? "\nkeys: " + key.join(" ") : "");
    tip.style.display = "block";
    tip.style.left = Math.min(x + 12, cv.clientWidth - tip.offsetWidth - 4) + "px";
    tip.style.top = y + 16 + "px";
  });
  cv.addEventListener("mouseleave", () => { tip.style.display = "none"; });
  document.getElementById("zoom-in").onclick = () => t.zoom(0.5, t.LABEL + t.plotW() / 2);
  document.getElementById("zoom-out").onclick = () => t.zoom(2, t.LABEL + t.plotW() / 2);
  document.getElementById("zoom-fit").onclick = () => {
    view.t0 = -t.end * 0.01; view.t1 = t.end * 1.01; t.draw();
  };
}
`;
