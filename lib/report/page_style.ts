/** The report page's stylesheet, inlined into its `<style>`. */

/** CSS of the report page: light, dense, monospace where inspect's text is shown. */
export const PAGE_STYLE = `
:root { --fg:#1d2330; --muted:#5d6778; --line:#d8dde6; --bg:#f6f7f9; --card:#fff;
  --accent:#2563eb; --ok:#15803d; --bad:#b91c1c; --warn:#b45309; --link:#ea8a1a; }
* { box-sizing:border-box; }
body { margin:0; font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
  color:var(--fg); background:var(--bg); }
header { display:flex; align-items:center; gap:14px; padding:12px 20px; background:#1d2330;
  color:#fff; position:sticky; top:0; z-index:5; }
header h1 { font-size:17px; margin:0; font-weight:600; }
header .path { font-family:ui-monospace,Menlo,Consolas,monospace; opacity:.85; font-size:13px; }
header nav { margin-left:auto; display:flex; gap:12px; }
header nav a { color:#c7d2fe; text-decoration:none; font-size:13px; }
main { padding:14px 20px 40px; max-width:1600px; margin:0 auto; }
section { background:var(--card); border:1px solid var(--line); border-radius:8px;
  padding:12px 16px; margin-bottom:14px; }
h2 { font-size:15px; margin:0 0 10px; display:flex; align-items:center; gap:10px; }
.badge { display:inline-block; padding:1px 9px; border-radius:10px; font-size:12px;
  font-weight:600; color:#fff; background:var(--ok); }
.badge.bad { background:var(--bad); } .badge.warn { background:var(--warn); }
.cols { display:grid; grid-template-columns:minmax(0,1fr) minmax(0,1fr); gap:18px; }
.cols.wide-right { grid-template-columns:minmax(0,2fr) minmax(0,3fr); gap:14px; }
table.grid { border-collapse:collapse; font-size:13px; width:100%; }
table.grid th, table.grid td { border-bottom:1px solid var(--line); padding:3px 8px;
  text-align:left; white-space:nowrap; }
table.grid td.n, table.grid th.n { text-align:right; font-variant-numeric:tabular-nums; }
table.grid th { color:var(--muted); font-weight:600; }
table.facts td:first-child { color:var(--muted); width:150px; vertical-align:top; }
table.facts td { white-space:normal; word-break:break-word; }
.mono, pre, code { font-family:ui-monospace,Menlo,Consolas,monospace; font-size:12.5px; }
ul.findings { margin:6px 0 0; padding-left:18px; max-height:220px; overflow:auto; }
ul.findings li { margin:2px 0; }
li.error { color:var(--bad); } li.warning { color:var(--warn); }
a.msg { color:var(--accent); cursor:pointer; text-decoration:underline; margin-left:6px; }
.final img, .screen-big img { image-rendering:pixelated; max-width:100%; border:1px solid var(--line);
  background:#000; display:block; }
.muted { color:var(--muted); }
.toolbar { display:flex; gap:8px; align-items:center; margin-bottom:8px; flex-wrap:wrap; }
button, select, input { font:inherit; font-size:13px; padding:3px 8px; border:1px solid var(--line);
  border-radius:5px; background:#fff; }
button { cursor:pointer; } button:hover { background:#eef2ff; }
#timeline-wrap { position:relative; }
#timeline { display:block; width:100%; cursor:grab; border:1px solid var(--line); border-radius:4px; }
#tooltip { position:absolute; pointer-events:none; background:#111827; color:#f9fafb;
  padding:4px 8px; border-radius:4px; font:12px ui-monospace,Menlo,Consolas,monospace;
  white-space:pre; max-width:900px; overflow:hidden; display:none; z-index:4; }
#rows { height:440px; overflow:auto; position:relative; border:1px solid var(--line);
  border-radius:4px; font:12.5px/20px ui-monospace,Menlo,Consolas,monospace; }
#rows .spacer { position:relative; }
#rows .row { position:absolute; left:0; right:0; height:20px; white-space:nowrap; cursor:pointer;
  padding-left:6px; }
#rows .row:nth-child(odd) { background:#fafbfc; }
#rows .row:hover { background:#eef2ff; }
#rows .row.sel { background:#dbeafe; outline:1px solid var(--accent); }
#rows span { display:inline-block; overflow:hidden; vertical-align:top; text-overflow:ellipsis; }
#rows .c0 { width:70px; color:var(--muted); text-align:right; padding-right:10px; }
#rows .c1 { width:100px; } #rows .c2 { width:110px; } #rows .c3 { width:22px; }
#rows .c4 { width:190px; font-weight:600; } #rows .c5 { width:70px; text-align:right; padding-right:10px; }
#rows .c6 { width:auto; color:#334155; }
.strip { display:flex; gap:6px; overflow-x:auto; padding:6px 0; }
.strip figure { margin:0; flex:none; cursor:pointer; border:2px solid transparent; border-radius:4px; }
.strip figure.cur { border-color:var(--accent); }
.strip img { height:72px; display:block; image-rendering:auto; }
.strip figcaption { font-size:11px; color:var(--muted); text-align:center; }
#scrub { width:100%; }
.screens { display:grid; grid-template-columns:repeat(3,minmax(0,1fr)); gap:10px; }
.screens figure { margin:0; } .screens img { max-width:100%; border:1px solid var(--line); }
pre.diff { background:#f8fafc; border:1px solid var(--line); border-radius:4px; padding:6px 8px;
  overflow:auto; margin:6px 0; }
.legend span { display:inline-block; width:10px; height:10px; border-radius:2px; margin:0 4px 0 10px; }
`;
