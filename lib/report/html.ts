/**
 * The report page: one self-contained HTML document holding the model as JSON, the stylesheet
 * and the script (page_*.ts); no network access, images as data URIs.
 */
import { PAGE_CORE } from "./page_core.ts";
import { PAGE_SCREEN } from "./page_screen.ts";
import { PAGE_STYLE } from "./page_style.ts";
import { PAGE_TIMELINE } from "./page_timeline.ts";
import type { ReportModel } from "./types.ts";

/** Text escaped for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * JSON that is safe inside a `<script>` element: no `</script>`, `<!--`, or line separators
 * that would end or confuse it.
 */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c").replace(/\u2028/g, "\\u2028").replace(
    /\u2029/g,
    "\\u2029",
  );
}

const BODY = `
<main>
<section id="summary">
  <h2>Summary</h2>
  <div class="cols">
    <div>
      <table class="grid facts"><tbody id="facts"></tbody></table>
      <h2 style="margin-top:14px">check <span id="check-badge" class="badge"></span></h2>
      <ul class="findings" id="findings"></ul>
      <ul class="findings" id="problems"></ul>
    </div>
    <div class="final" id="final"></div>
  </div>
  <h2 style="margin-top:14px">Channels</h2>
  <table class="grid"><thead><tr><th>channel</th><th>file</th><th class="n">connections</th>
    <th class="n">messages →</th><th class="n">messages ←</th><th class="n">bytes →</th>
    <th class="n">bytes ←</th><th class="n">dropped</th><th class="n">errors</th></tr></thead>
    <tbody id="channels"></tbody></table>
</section>
<section id="timeline-section">
  <h2>Timeline</h2>
  <div class="toolbar">
    <button id="zoom-in" title="zoom in">+</button><button id="zoom-out" title="zoom out">−</button>
    <button id="zoom-fit">fit</button>
    <span class="muted">wheel to zoom, drag to pan, hover for the message, click to select it</span>
    <span class="legend muted"><span style="background:#ea8a1a"></span>link phase
      <span style="background:#2563eb"></span>client → server
      <span style="background:#15803d"></span>server → client
      <span style="background:#7c3aed"></span>screen frame
      <span style="background:#dc2626"></span>selected</span>
  </div>
  <div id="timeline-wrap"><canvas id="timeline"></canvas><div id="tooltip"></div></div>
</section>
<div class="cols wide-right">
<section id="screen">
  <h2>Screen</h2>
  <div class="screen-big"><img id="frame-img" alt="screen at the current frame"></div>
  <div id="frame-caption" class="muted"></div>
  <input type="range" id="scrub" min="0" max="0" value="0">
  <div class="strip" id="strip"></div>
</section>
<section id="messages-section">
  <h2>Messages <span id="count" class="muted"></span></h2>
  <div class="toolbar">
    <label>channel <select id="f-channel"><option value="">all</option></select></label>
    <label>direction <select id="f-dir"><option value="">both</option>
      <option value="toServer">→ client to server</option>
      <option value="toClient">← server to client</option></select></label>
    <label>type <input id="f-type" placeholder="e.g. PING, DRAW_COPY" size="18"></label>
  </div>
  <div id="rows"></div>
</section>
</div>
<section id="diff">
  <h2>Diff against <code id="diff-golden"></code> <span id="diff-badge" class="badge"></span></h2>
  <table class="grid"><thead><tr><th>channel</th><th>direction</th><th class="n">actual</th>
    <th class="n">golden</th><th class="n">same</th><th class="n">changed</th>
    <th class="n">missing</th><th class="n">extra</th><th class="n">timing</th></tr></thead>
    <tbody id="diff-streams"></tbody></table>
  <div id="diff-screens"></div>
  <div id="diff-records"></div>
</section>
</main>`;

/**
 * The whole page.
 *
 * @param model what to show
 * @returns the HTML document
 */
export function renderReportHtml(model: ReportModel): string {
  const title = `spicecap report: ${model.title}`;
  return [
    "<!DOCTYPE html>",
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${PAGE_STYLE}</style></head><body>`,
    `<header><h1>spicecap report</h1><span class="path">${escapeHtml(model.title)}</span>`,
    '<nav><a href="#summary">summary</a><a href="#timeline-section">timeline</a>',
    '<a href="#messages-section">messages</a><a href="#screen">screen</a>',
    model.diff ? '<a href="#diff">diff</a>' : "",
    "</nav></header>",
    BODY,
    `<script type="application/json" id="report-data">${scriptJson(model)}</script>`,
    `<script>${PAGE_CORE}${PAGE_TIMELINE}${PAGE_SCREEN}</script>`,
    "</body></html>",
    "",
  ].join("\n");
}
