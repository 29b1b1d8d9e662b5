/**
 * spicecap: record SPICE sessions as per-channel pcap/pcapng captures with synthetic TCP, read
 * them back as streams, check their invariants, and diff them against golden captures.
 *
 * Layers, lowest first (docs/architecture.md "Layers"): `lib/net` (frames, flows, filters) and
 * `lib/pcap` (file formats), `lib/spice` (protocol), `lib/capture` (recording),
 * `lib/session` (reading back as SPICE messages), `lib/check`, `lib/diff` and `lib/display`
 * (the display channel rendered to the screen the user saw: image codecs, surfaces, caches).
 *
 * The test fixtures of `harness/fixture` sit on top: `startQemu`, `capture`, `replay` and
 * `serve` give `AsyncDisposable` objects (`await using`), `assertMatchesGolden` compares a
 * session with a golden one (re-baselined by `deno test -A -- --update`), and `readSession`
 * yields a session's decoded messages.
 *
 * @example A replayed golden matches it
 * ```ts
 * import { assertMatchesGolden, replay } from "@spicecap/spicecap";
 *
 * await using run = await replay("fixtures/golden/screenshot");
 * await assertMatchesGolden(run.dir, "fixtures/golden/screenshot");
 * ```
 *
 * @module
 */
export * from "./lib/pcap/mod.ts";
export * from "./lib/net/mod.ts";
export * from "./lib/spice/mod.ts";
export * from "./lib/capture/mod.ts";
export * from "./lib/session/mod.ts";
export * from "./lib/check/mod.ts";
export * from "./lib/diff/mod.ts";
export * from "./lib/display/mod.ts";
export * from "./harness/fixture/mod.ts";
