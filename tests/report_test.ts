/**
 * `deno task report` in a real browser: each golden session's page (and a real Linux guest's
 * typing session) opens in headless Chromium without console errors, has one timeline lane per
 * recorded connection and direction, shows as many messages as `inspect --messages` prints,
 * shows `render --final`'s PNG as its final screen, and a click on a timeline mark selects that
 * message in the table. A screenshot of each page is kept in a temporary directory.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { main } from "../harness/cli.ts";
import { memoryIo } from "../harness/io.ts";
import { hasTool, missingTools } from "../harness/processes/tools.ts";
import { CdpBrowser, poll } from "../testing/cdp_browser.ts";
import { captureTyping } from "../testing/linux_guest_capture.ts";

const GOLDEN = new URL("../fixtures/golden/", import.meta.url).pathname;
const noBrowser = missingTools("chromium") !== undefined;
const noTyping = noBrowser ||
  missingTools("qemu-system-x86_64", "spicy", "xvfb-run", "xdotool") !== undefined ||
  !hasTool("apt-get") || !hasTool("dpkg-deb");
/** Largest page for a golden session. */
const MAX_GOLDEN_PAGE_BYTES = 2 * 1024 * 1024;

async function cli(args: string[]): Promise<string> {
  const io = memoryIo();
  const code = await main(args, io);
  assert.equal(code, 0, `${args.join(" ")}: ${io.stderr()}`);
  return io.stdout();
}

/** What inspect and render say about a session: the lines, the lanes, the final PNG. */
async function expected(session: string, tmp: string) {
  const lines = (await cli(["inspect", "--messages", session])).split("\n").filter(Boolean);
  const json = (await cli(["inspect", "--messages", "--json", session])).split("\n")
    .filter(Boolean).map((l) => JSON.parse(l));
  const lanes = new Set(json.map((m) => `${m.file}#${m.connection}#${m.direction}`));
  const out = `${tmp}/frames`;
  const rendered = JSON.parse(
    (await cli(["render", "--final", "--json", "-o", out, session])).split("\n")[0],
  );
  return { lines, lanes: lanes.size, png: await Deno.readFile(rendered.file) };
}

/** Opens a report page and checks it against inspect and render; keeps a screenshot. */
async function checkPage(page: string, session: string, tmp: string): Promise<void> {
  const want = await expected(session, tmp);
  const browser = await CdpBrowser.launch();
  try {
    await browser.viewport(1400, 900);
    await browser.open(`file://${page}`, "document.body && document.body.dataset.ready");
    assert.equal(
      await browser.eval("document.getElementById('timeline').dataset.lanes"),
      String(want.lanes),
    );
    assert.equal(
      await browser.eval("document.getElementById('count').dataset.count"),
      String(want.lines.length),
    );
    const src = await browser.eval<string>("document.getElementById('final-img').src");
    const png = Buffer.from(src.replace(/^data:image\/png;base64,/, ""), "base64");
    assert.ok(png.equals(Buffer.from(want.png)), "final screen differs from render --final");
    await clickMark(browser, Math.floor(want.lines.length / 2), want.lines);
    await browser.eval("window.scrollTo(0, 0)");
    const shot = `${tmp}/report.png`;
    await Deno.writeFile(shot, await browser.screenshot());
    console.log(`report screenshot: ${shot}`);
    assert.deepEqual(browser.errors, []);
  } finally {
    await browser.close();
  }
}

/** Hovers message i's mark (the tooltip shows it as inspect prints it), clicks, checks the table. */
async function clickMark(browser: CdpBrowser, i: number, lines: string[]): Promise<void> {
  await browser.eval("document.getElementById('timeline').scrollIntoView({block:'center'})");
  const at = await browser.eval<{ x: number; y: number }>(
    `window.spicecapReport.markPosition(${i})`,
  );
  await browser.hover(at.x, at.y);
  const tip = await poll("the tooltip", async () => {
    const text = await browser.eval<string>("document.getElementById('tooltip').textContent");
    return text ? text : undefined;
  });
  const m = tip.match(/^#(\d+) {2}(.*)$/m);
  assert.ok(m, tip);
  const shown = Number(m[1]);
  assert.equal(m[2], lines[shown], "the hover shows the message as inspect prints it");
  await browser.click(at.x, at.y);
  const selected = await poll("a selected row", () =>
    browser.eval<string | null>(
      "document.querySelector('#rows .row.sel')?.dataset.i ?? null",
    ).then((v) => v ?? undefined));
  assert.equal(Number(selected), shown);
}

for (const name of ["all_channels", "password", "screenshot"]) {
  Deno.test({
    name: `report of fixtures/golden/${name} in a browser`,
    ignore: noBrowser,
    fn: async () => {
      const tmp = await Deno.makeTempDir({ prefix: `spicecap-report-${name}-` });
      const page = `${tmp}/report.html`;
      await cli(["report", "-o", page, `${GOLDEN}${name}`]);
      const size = (await Deno.stat(page)).size;
      assert.ok(size < MAX_GOLDEN_PAGE_BYTES, `${size} bytes`);
      await checkPage(page, `${GOLDEN}${name}`, tmp);
    },
  });
}

Deno.test({
  name: "report --diff shows the diff table and both final screens",
  ignore: noBrowser,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-report-diff-" });
    const page = `${tmp}/report.html`;
    await cli(["report", "--diff", `${GOLDEN}screenshot`, "-o", page, `${GOLDEN}all_channels`]);
    const browser = await CdpBrowser.launch();
    try {
      await browser.open(`file://${page}`, "document.body && document.body.dataset.ready");
      const rows = await browser.eval<number>(
        "document.querySelectorAll('#diff-streams tr').length",
      );
      assert.ok(rows > 0);
      assert.match(
        await browser.eval<string>("document.getElementById('diff-badge').textContent"),
        /difference/,
      );
      assert.equal(await browser.eval("document.querySelectorAll('#diff-screens img').length"), 3);
      assert.ok(
        await browser.eval<number>("document.querySelectorAll('#diff-records pre').length") > 0,
      );
      assert.deepEqual(browser.errors, []);
    } finally {
      await browser.close();
    }
  },
});

Deno.test({
  name: "report of a real Linux guest typing session in a browser",
  ignore: noTyping,
  fn: async () => {
    const tmp = await Deno.makeTempDir({ prefix: "spicecap-report-linux-" });
    const run = await captureTyping(`${tmp}/s`, {
      lines: [{ type: "echo report one >/dev/ttyS0", serial: "report one" }],
    });
    assert.equal(run.exitCode, 0, run.stderr);
    const page = `${tmp}/report.html`;
    await cli(["report", "-o", page, `${tmp}/s`]);
    await checkPage(page, `${tmp}/s`, tmp);
  },
});
