/**
 * A test process for tests/fixture_api_test.ts, run in a child by `deno test` or `deno run`,
 * chosen by SPICECAP_PROBE:
 * - "hold": starts a QEMU fixture, prints `qemu pid N` and waits to be interrupted;
 * - "golden": asserts that SPICECAP_PROBE_ACTUAL matches the golden SPICECAP_PROBE_GOLDEN
 *   (the run's `-- --update` or SPICECAP_UPDATE decide re-baselining).
 */
import { assertMatchesGolden, startQemu } from "../harness/fixture/mod.ts";

const mode = Deno.env.get("SPICECAP_PROBE");

/** Starts QEMU, says its pid, and waits up to a minute for the interrupt. */
async function hold(): Promise<void> {
  await using qemu = await startQemu();
  console.log(`qemu pid ${qemu.pid}`);
  await new Promise((resolve) => setTimeout(resolve, 60_000));
}

if (mode === "hold") {
  // deno test runs the test; deno run (the module is main there) the same at the top level
  Deno.test("holds a QEMU fixture until interrupted", hold);
  if (import.meta.main) await hold();
}

if (mode === "golden") {
  Deno.test("the actual session matches the golden", async () => {
    await assertMatchesGolden(
      Deno.env.get("SPICECAP_PROBE_ACTUAL")!,
      Deno.env.get("SPICECAP_PROBE_GOLDEN")!,
    );
  });
}
