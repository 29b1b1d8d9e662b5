import assert from "node:assert/strict";
import { type ProxyStats, zeroProxyStats } from "../capture/proxy.ts";
import { formatSummary, summarize } from "./capture_summary.ts";

function summaryText(proxy: Partial<ProxyStats>): string {
  return formatSummary(summarize({
    dir: "out",
    url: "spice://127.0.0.1:5930",
    stoppedBy: "signal",
    proxy: { ...zeroProxyStats(), connections: 1, ...proxy },
  }));
}

Deno.test("the summary says how long --record-all held the relay, and nothing when it did not", () => {
  assert.match(summaryText({ relayHeldMs: 1234 }), /the relay waited 1234 ms for the recorder/);
  assert.doesNotMatch(summaryText({}), /waited/);
});
