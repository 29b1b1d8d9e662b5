/**
 * The report page's script, part 3: the screen (film strip, scrubber, current frame, kept in
 * step with the timeline and the selected message) and the diff against a golden run.
 */

/** Script: screen, diff, and the start of the page. */
export const PAGE_SCREEN = String.raw`
function buildScreen() {
  const big = document.getElementById("frame-img");
  const caption = document.getElementById("frame-caption");
  const strip = document.getElementById("strip");
  const scrub = document.getElementById("scrub");
  if (!D.frames.length) {
    document.getElementById("screen").append(el("p", { class: "muted" }, "no display channel"));
    scrub.style.display = "none";
    big.style.display = "none";
    return;
  }
  const figs = D.frames.map((f, k) => {
    const fig = el("figure", { onclick: () => setFrame(k, "strip") },
      el("img", { src: D.images[f.image], alt: f.reason, loading: "lazy" }),
      el("figcaption", {}, (f.t / 1e6).toFixed(3) + " s"));
    fig.title = f.reason + " at " + secs(f.t);
    strip.append(fig);
    return fig;
  });
  scrub.max = String(D.frames.length - 1);
  scrub.addEventListener("input", () => setFrame(Number(scrub.value), "scrub"));
  S.onFrame.push((k, source) => {
    const f = D.frames[k];
    big.src = D.images[f.image];
    caption.textContent = "frame " + (k + 1) + " of " + D.frames.length + ": " + f.reason +
      " at " + secs(f.t) + ", " + f.width + "×" + f.height +
      (f.unknown ? ", " + f.unknown + " unknown region(s)" : "");
    if (source !== "scrub") scrub.value = String(k);
    figs.forEach((g, j) => g.classList.toggle("cur", j === k));
    const fig = figs[k];
    strip.scrollLeft = fig.offsetLeft - strip.clientWidth / 2 + fig.clientWidth / 2 - strip.offsetLeft;
  });
  S.onSelect.push((i) => {
    const k = lowerBound(D.frames, T[i] + 1, (f) => f.t) - 1;
    setFrame(Math.max(0, k), "select");
  });
}

function buildDiff() {
  const d = D.diff;
  const sec = document.getElementById("diff");
  if (!d) { sec.remove(); return; }
  const badge = document.getElementById("diff-badge");
  badge.textContent = d.same ? "same" : d.differences + " difference(s)";
  badge.className = "badge" + (d.same ? "" : " bad");
  document.getElementById("diff-golden").textContent = d.golden;
  const body = document.getElementById("diff-streams");
  for (const s of d.streams) {
    body.append(el("tr", {}, el("td", {}, s.channel), el("td", {}, s.direction),
      ...s.counts.map((n) => el("td", { class: "n" }, n))));
  }
  const list = document.getElementById("diff-records");
  for (const n of d.channelNotes) list.append(el("p", {}, n));
  for (const r of d.records) {
    const head = el("div", {}, el("b", {}, r.kind));
    if (r.message >= 0) head.append(msgLink(r.message));
    list.append(head, el("pre", { class: "diff" }, r.text));
  }
  if (d.records.length < d.differences) {
    list.append(el("p", { class: "muted" }, (d.differences - d.records.length) + " more not shown"));
  }
  const screens = document.getElementById("diff-screens");
  for (const s of d.screens) {
    const fig = (label, src) => el("figure", {}, el("figcaption", {}, label), el("img", { src, alt: label }));
    screens.append(el("h3", {}, s.label + (s.differing !== undefined ? ": " + s.differing +
      " pixel(s) differ" : "")));
    const row = el("div", { class: "screens" }, fig("expected (golden)", s.expected),
      fig("actual", s.actual));
    if (s.diff) row.append(fig("difference", s.diff));
    screens.append(row);
  }
}

function start() {
  buildSummary();
  buildTable();
  buildTimeline();
  buildScreen();
  buildDiff();
  if (D.frames.length) setFrame(D.frames.length - 1, "start");
  document.body.dataset.ready = "1";
}
start();
`;
