/**
 * A headless Chromium driven over the DevTools protocol (CDP) with Deno's own WebSocket: enough
 * to open a page, run script in it, move and click the mouse, collect console errors and take
 * screenshots. For the report's browser tests; needs `chromium` on PATH.
 */

/** A console error, uncaught exception or failed load the page reported. */
export interface PageError {
  /** "exception", "console" or "log". */
  source: string;
  /** The text. */
  text: string;
}

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
}

/** Polls `probe` every 50 ms until it returns a value other than undefined, or times out. */
export async function poll<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads the child's stderr until the DevTools URL appears; drains the rest. */
async function devtoolsUrl(stderr: ReadableStream<Uint8Array>): Promise<string> {
  const reader = stderr.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`chromium exited before its DevTools URL:\n${text}`);
    text += value;
    const m = text.match(/DevTools listening on (ws:\/\/\S+)/);
    if (m) {
      (async () => {
        while (!(await reader.read()).done) { /* drain */ }
      })().catch(() => {});
      return m[1];
    }
  }
}

/** One headless Chromium with one page. */
export class CdpBrowser {
  /** Errors the page reported so far. */
  readonly errors: PageError[] = [];
  readonly #child: Deno.ChildProcess;
  readonly #profile: string;
  #ws!: WebSocket;
  #next = 1;
  readonly #pending = new Map<number, Pending>();

  private constructor(child: Deno.ChildProcess, profile: string) {
    this.#child = child;
    this.#profile = profile;
  }

  /** Starts Chromium headless on a fresh profile and opens a blank page. */
  static async launch(): Promise<CdpBrowser> {
    const profile = await Deno.makeTempDir({ prefix: "spicecap-chromium-" });
    const child = new Deno.Command("chromium", {
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        `--user-data-dir=${profile}`,
        "--remote-debugging-port=0",
        "about:blank",
      ],
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    const browser = new CdpBrowser(child, profile);
    try {
      const url = new URL(await devtoolsUrl(child.stderr));
      const pages = await poll("a page target", async () => {
        const list = await (await fetch(`http://${url.host}/json/list`)).json();
        return list.find((t: { type: string }) => t.type === "page");
      });
      await browser.#connect(pages.webSocketDebuggerUrl);
    } catch (e) {
      await browser.close();
      throw e;
    }
    return browser;
  }

  async #connect(url: string): Promise<void> {
    this.#ws = new WebSocket(url);
    await new Promise((resolve, reject) => {
      this.#ws.onopen = resolve;
      this.#ws.onerror = () => reject(new Error(`cannot connect to ${url}`));
    });
    this.#ws.onmessage = (e) => this.#onMessage(JSON.parse(e.data));
    await this.send("Runtime.enable");
    await this.send("Log.enable");
    await this.send("Page.enable");
  }

  #onMessage(msg: Record<string, unknown>): void {
    const id = msg.id as number | undefined;
    if (id !== undefined) {
      const p = this.#pending.get(id);
      this.#pending.delete(id);
      if (msg.error) p?.reject(new Error(JSON.stringify(msg.error)));
      else p?.resolve((msg.result ?? {}) as Record<string, unknown>);
      return;
    }
    // deno-lint-ignore no-explicit-any
    const params = msg.params as any;
    if (msg.method === "Runtime.exceptionThrown") {
      const d = params.exceptionDetails;
      this.errors.push({ source: "exception", text: d.exception?.description ?? d.text });
    } else if (msg.method === "Runtime.consoleAPICalled" && params.type === "error") {
      const text = params.args.map((a: { value?: unknown }) => String(a.value)).join(" ");
      this.errors.push({ source: "console", text });
    } else if (msg.method === "Log.entryAdded" && params.entry.level === "error") {
      this.errors.push({ source: "log", text: params.entry.text });
    }
  }

  /** Sends one CDP command and waits for its result. */
  send(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.#next++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#ws.send(JSON.stringify({ id, method, params }));
    });
  }

  /** Evaluates an expression in the page; its value comes back as JSON. */
  async eval<T = unknown>(expression: string): Promise<T> {
    const r = await this.send("Runtime.evaluate", {
      expression,
      returnByValue: true,
      awaitPromise: true,
    });
    // deno-lint-ignore no-explicit-any
    const details = (r as any).exceptionDetails;
    if (details) throw new Error(`page script failed: ${details.exception?.description}`);
    // deno-lint-ignore no-explicit-any
    return (r as any).result.value as T;
  }

  /** Sets the viewport size. */
  async viewport(width: number, height: number): Promise<void> {
    await this.send("Emulation.setDeviceMetricsOverride", {
      width,
      height,
      deviceScaleFactor: 1,
      mobile: false,
    });
  }

  /** Opens a URL and waits until `readyExpression` is true in the page. */
  async open(url: string, readyExpression: string): Promise<void> {
    await this.send("Page.navigate", { url });
    await poll(`${url} to be ready`, async () => {
      const ok = await this.eval<boolean>(`!!(${readyExpression})`).catch(() => false);
      return ok ? true : undefined;
    });
  }

  /** Moves the mouse to (x, y) in CSS pixels of the viewport. */
  async hover(x: number, y: number): Promise<void> {
    await this.send("Input.dispatchMouseEvent", { type: "mouseMoved", x, y });
  }

  /** A left click at (x, y). */
  async click(x: number, y: number): Promise<void> {
    await this.hover(x, y);
    for (const type of ["mousePressed", "mouseReleased"]) {
      await this.send("Input.dispatchMouseEvent", {
        type,
        x,
        y,
        button: "left",
        clickCount: 1,
      });
    }
  }

  /** A PNG of the whole page (beyond the viewport). */
  async screenshot(): Promise<Uint8Array> {
    const r = await this.send("Page.captureScreenshot", {
      format: "png",
      captureBeyondViewport: true,
    });
    return Uint8Array.from(atob(r.data as string), (c) => c.charCodeAt(0));
  }

  /** Closes the connection, stops Chromium and removes its profile. */
  async close(): Promise<void> {
    try {
      this.#ws?.close();
    } catch { /* already closed */ }
    try {
      this.#child.kill("SIGTERM");
    } catch { /* already gone */ }
    await this.#child.status;
    await Deno.remove(this.#profile, { recursive: true }).catch(() => {});
  }
}
