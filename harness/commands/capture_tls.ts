/**
 * `deno task capture`'s TLS settings: the proxy's certificate and key, the CA for the server's
 * certificate, our QEMU's x509-dir, and the one handshake with the server made at start.
 */
import { EnvironmentError, UsageError } from "../errors.ts";
import { probeTls, type ProxyTlsOptions, TlsHandshakeError } from "../capture/proxy.ts";
import type { QemuServer } from "../processes/qemu.ts";
import type { CaptureOptions } from "./capture_args.ts";

/** Reads a PEM file named by `flag`; a failure is an {@link EnvironmentError}. */
function readPem(flag: string, path: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    throw new EnvironmentError(`${flag}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/** Files QEMU's x509-dir must hold. */
const QEMU_X509_FILES: readonly string[] = Object.freeze([
  "ca-cert.pem",
  "server-cert.pem",
  "server-key.pem",
]);

/**
 * Checks that our QEMU's x509-dir holds the files QEMU needs.
 *
 * @param dir --qemu-x509-dir
 * @throws {EnvironmentError} naming the file it cannot use
 */
export function checkX509Dir(dir: string): void {
  for (const name of QEMU_X509_FILES) {
    try {
      Deno.statSync(`${dir}/${name}`);
    } catch (e) {
      throw new EnvironmentError(
        `--qemu-x509-dir: cannot use ${dir}/${name}: ${(e as Error).message}; QEMU's x509-dir ` +
          `holds ${QEMU_X509_FILES.join(", ")}`,
      );
    }
  }
}

/** CA file for the server's certificate: --tls-ca, else our QEMU's own CA. */
export function serverCaFile(o: CaptureOptions): string | undefined {
  return o.tlsCa ?? (o.qemuX509Dir ? `${o.qemuX509Dir}/ca-cert.pem` : undefined);
}

/** The proxy's TLS settings, read from the PEM files; undefined without --tls-cert. */
export function tlsOptions(
  o: CaptureOptions,
  qemu: QemuServer | undefined,
): ProxyTlsOptions | undefined {
  if (!o.tlsCert || !o.tlsKey) return undefined;
  const tlsTarget = o.tlsTarget ??
    (qemu?.tlsPort ? { hostname: "127.0.0.1", port: qemu.tlsPort } : undefined);
  if (!tlsTarget) throw new UsageError("--tls-cert needs --tls-target (the server's TLS port)");
  const ca = serverCaFile(o);
  return {
    cert: readPem("--tls-cert", o.tlsCert),
    key: readPem("--tls-key", o.tlsKey),
    target: tlsTarget,
    caCerts: ca ? [readPem(o.tlsCa ? "--tls-ca" : "--qemu-x509-dir", ca)] : undefined,
  };
}

/** One TLS handshake with the server before any client: a wrong CA shows up at once. */
export async function checkServerTls(o: CaptureOptions, tls: ProxyTlsOptions): Promise<void> {
  try {
    await probeTls(tls.target, { caCerts: tls.caCerts });
  } catch (e) {
    if (!(e instanceof TlsHandshakeError)) throw e;
    const ca = serverCaFile(o);
    throw new EnvironmentError(
      `${e.message}; ${
        ca ? `is ${ca} the CA that signed` : "the system roots do not trust"
      } the server's certificate, and does it name ${tls.target.hostname}? (--tls-ca)`,
    );
  }
}
