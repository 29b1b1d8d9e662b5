/**
 * The report page's script, part 1: the data, shared state (selected message, current frame),
 * helpers, the summary and the virtualised message table. Plain browser JavaScript in a string,
 * inlined into the page; the other parts are page_timeline.ts and page_screen.ts.
 */

/** Script: data, state, helpers, summary and message table. */
export const PAGE_CORE = String.raw`
"use strict";
const D = JSON.parse(document.getElementById("report-data").textContent);
const M = D.messages;
const N = M.t.length;
const T = Float64Array.from(M.t);
const S = { sel: -1, frame: D.frames.length - 1, onSelect: [], onFrame: [] };

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const k in props || {}) {
    if (k === "class") e.className = props[k];
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), props[k]);
    else e.setAttribute(k, props[k]);
  }
  for (const c of children) e.append(c instanceof Node ? c : String(c));
  return e;
}
function pad(n, w) { return String(n).padStart(w, "0"); }
/** inspect's time of day: HH:MM:SS.uuuuuu (UTC). */
function clock(us) {
  const sec = Math.floor(us / 1e6);
  const micro = us - sec * 1e6;
  const d = sec % 86400;
  return pad(Math.floor(d / 3600), 2) + ":" + pad(Math.floor((d % 3600) / 60), 2) + ":" +
    pad(d % 60, 2) + "." + pad(micro, 6);
}
function secs(us) { return (us / 1e6).toFixed(6) + " s"; }
function laneName(l) { return l.label + (l.nth > 1 ? " #" + l.nth : ""); }
/** The message as inspect --messages prints it. */
function lineOf(i) {
  const l = D.lanes[M.lane[i]];
  const text = D.texts[M.text[i]];
  return clock(D.startUs + T[i]) + " " + l.label.padEnd(9) + " " + (l.toServer ? "→" : "←") +
    " " + (M.index[i] >= 0 ? "#" + M.index[i] + " " : "") + D.names[M.name[i]] + " " + M.size[i] +
    (text ? " " + text : "");
}
/** First k with a[k] >= v, over a sorted numeric array (or index list keyed by key). */
function lowerBound(a, v, key) {
  let lo = 0, hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((key ? key(a[mid]) : a[mid]) < v) lo = mid + 1; else hi = mid;
  }
  return lo;
}
function select(i, source) {
  if (i < 0 || i >= N) return;
  S.sel = i;
  for (const f of S.onSelect) f(i, source);
}
function setFrame(k, source) {
  if (k < 0 || k >= D.frames.length) return;
  S.frame = k;
  for (const f of S.onFrame) f(k, source);
}
function msgLink(i) {
  return el("a", { class: "msg", onclick: () => select(i, "link") }, "message #" + i);
}

function buildSummary() {
  const facts = document.getElementById("facts");
  for (const [k, v] of D.facts) facts.append(el("tr", {}, el("td", {}, k), el("td", {}, v)));
  const ch = document.getElementById("channels");
  for (const c of D.channels) {
    ch.append(el("tr", {},
      el("td", {}, c.label), el("td", { class: "mono" }, c.file),
      el("td", { class: "n" }, c.connections), el("td", { class: "n" }, c.toServer),
      el("td", { class: "n" }, c.toClient), el("td", { class: "n" }, c.bytes.sent),
      el("td", { class: "n" }, c.bytes.received),
      el("td", { class: "n" }, c.dropped + (c.droppedBytes ? " (" + c.droppedBytes + " B)" : "")),
      el("td", { class: "n" }, c.errors)));
  }
  buildCheck();
  const probs = document.getElementById("problems");
  if (D.problems.length) probs.before(el("div", { class: "muted" }, "problems reading and drawing:"));
  for (const p of D.problems) probs.append(el("li", { class: "warning" }, p));
  const fin = D.frames.length ? D.frames[D.frames.length - 1] : undefined;
  const box = document.getElementById("final");
  if (fin && fin.reason === "final") {
    box.append(el("img", { id: "final-img", src: D.images[fin.image], alt: "final screen" }),
      el("div", { class: "muted" }, "final screen, " + fin.width + "×" + fin.height + " at " +
        secs(fin.t) + (fin.unknown ? ", " + fin.unknown + " unknown region(s)" : "")));
  } else box.append(el("p", { class: "muted" }, "no display channel screen to show"));
}

function buildCheck() {
  const c = D.check;
  const badge = document.getElementById("check-badge");
  badge.textContent = c.errors ? c.errors + " error(s)" : c.warnings ? "OK, " + c.warnings +
    " warning(s)" : "OK";
  badge.className = "badge" + (c.errors ? " bad" : c.warnings ? " warn" : "");
  const list = document.getElementById("findings");
  for (const f of c.findings) {
    const li = el("li", { class: f.severity }, f.text);
    if (f.message >= 0) li.append(msgLink(f.message));
    list.append(li);
  }
  const shown = c.findings.length, all = c.errors + c.warnings;
  if (all > shown) list.append(el("li", { class: "muted" }, (all - shown) + " more not shown"));
}

/** The message table: filter words as inspect's --channel and --type, rows drawn on demand. */
function buildTable() {
  const ROW = 20;
  const box = document.getElementById("rows");
  const spacer = el("div", { class: "spacer" });
  box.append(spacer);
  const fc = document.getElementById("f-channel"), fd = document.getElementById("f-dir");
  const ft = document.getElementById("f-type"), count = document.getElementById("count");
  const labels = new Set();
  for (const l of D.lanes) { labels.add(l.label); labels.add(l.label.replace(/-\d+$/, "")); }
  for (const l of [...labels].sort()) fc.append(el("option", { value: l }, l));
  let rows = [];
  let filtered = new Int32Array(0);
  function matches() {
    const ch = fc.value, dir = fd.value;
    const types = new Set(ft.value.toUpperCase().split(/[\s,]+/).filter((s) => s));
    const laneOk = D.lanes.map((l) => (ch === "" || l.label === ch ||
      l.label.replace(/-\d+$/, "") === ch) && (dir === "" || (dir === "toServer") === l.toServer));
    const nameOk = D.names.map((n) => types.size === 0 || types.has(n));
    return (i) => laneOk[M.lane[i]] && nameOk[M.name[i]];
  }
  function applyFilter() {
    const ok = matches();
    const out = new Int32Array(N);
    let n = 0;
    for (let i = 0; i < N; i++) if (ok(i)) out[n++] = i;
    filtered = out.subarray(0, n);
    spacer.style.height = n * ROW + "px";
    count.textContent = n === N ? N + " messages" : n + " of " + N + " messages";
    count.dataset.count = String(n);
    render();
  }
  function render() {
    const first = Math.floor(box.scrollTop / ROW);
    const want = Math.min(filtered.length - first, Math.ceil(box.clientHeight / ROW) + 2);
    while (rows.length < want) {
      const r = el("div", { class: "row" });
      for (let c = 0; c < 7; c++) r.append(el("span", { class: "c" + c }));
      spacer.append(r);
      rows.push(r);
    }
    for (let k = 0; k < rows.length; k++) {
      const r = rows[k];
      if (k >= want) { r.style.display = "none"; continue; }
      fillRow(r, filtered[first + k], first + k);
    }
  }
  function fillRow(r, i, pos) {
    const l = D.lanes[M.lane[i]];
    const c = r.children;
    r.style.display = "";
    r.style.top = pos * ROW + "px";
    r.dataset.i = String(i);
    r.classList.toggle("sel", i === S.sel);
    c[0].textContent = i; c[1].textContent = (T[i] / 1e6).toFixed(6);
    c[2].textContent = laneName(l); c[3].textContent = l.toServer ? "→" : "←";
    c[4].textContent = D.names[M.name[i]]; c[5].textContent = M.size[i];
    c[6].textContent = D.texts[M.text[i]];
    r.title = lineOf(i);
  }
  box.addEventListener("scroll", render);
  box.addEventListener("click", (e) => {
    const r = e.target.closest(".row");
    if (r) select(Number(r.dataset.i), "table");
  });
  for (const f of [fc, fd]) f.addEventListener("change", applyFilter);
  ft.addEventListener("input", applyFilter);
  S.onSelect.push((i) => {
    let pos = lowerBound(filtered, i);
    if (filtered[pos] !== i) {
      fc.value = ""; fd.value = ""; ft.value = "";
      applyFilter();
      pos = i;
    }
    const top = pos * ROW;
    if (top < box.scrollTop || top > box.scrollTop + box.clientHeight - ROW) {
      box.scrollTop = Math.max(0, top - box.clientHeight / 2);
    }
    render();
  });
  window.addEventListener("resize", render);
  applyFilter();
}
`;
