/** A throw-away PKI made with openssl for TLS tests: one CA, QEMU's and the proxy's leaves. */

/** Files of the test PKI. */
export interface Pki {
  /** QEMU's x509-dir: ca-cert.pem, server-cert.pem, server-key.pem. */
  x509Dir: string;
  /** The CA's certificate (in `x509Dir`). */
  caCert: string;
  /** The proxy's own certificate, signed by the same CA. */
  proxyCert: string;
  /** The proxy's key. */
  proxyKey: string;
  /** A CA that signed nothing here. */
  wrongCaCert: string;
}

async function openssl(args: string[]): Promise<void> {
  const out = await new Deno.Command("openssl", { args, stdout: "piped", stderr: "piped" })
    .output();
  if (!out.success) {
    throw new Error(`openssl ${args.join(" ")} failed: ${new TextDecoder().decode(out.stderr)}`);
  }
}

const EC_KEY = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];

/** A self-signed CA named `name`. */
async function makeCa(files: { key: string; cert: string }, name: string): Promise<void> {
  await openssl([
    ...["req", "-x509", ...EC_KEY, "-keyout", files.key, "-out", files.cert, "-days", "2"],
    ...["-subj", `/CN=${name}`, "-addext", "basicConstraints=critical,CA:TRUE"],
    ...["-addext", "keyUsage=critical,keyCertSign,cRLSign"],
  ]);
}

/** Where {@link makeLeaf} works and what it writes. */
interface LeafFiles {
  /** Directory for the request and its extensions. */
  dir: string;
  /** The signing CA's certificate. */
  ca: string;
  /** The signing CA's key. */
  caKey: string;
  /** The leaf certificate written. */
  cert: string;
  /** The leaf key written. */
  key: string;
}

/** A leaf certificate for 127.0.0.1 (IP subjectAltName, as rustls and spice-gtk check). */
async function makeLeaf({ dir, ca, caKey, cert, key }: LeafFiles): Promise<void> {
  const ext = `${dir}/leaf.ext`;
  await Deno.writeTextFile(
    ext,
    "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n" +
      "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n",
  );
  const csr = `${dir}/leaf.csr`;
  await openssl(["req", ...EC_KEY, "-keyout", key, "-out", csr, "-subj", "/CN=127.0.0.1"]);
  await openssl([
    ...["x509", "-req", "-in", csr, "-CA", ca, "-CAkey", caKey, "-CAcreateserial"],
    ...["-out", cert, "-days", "2", "-extfile", ext],
  ]);
}

/**
 * Makes the test PKI in `tmp`: a CA, QEMU's x509-dir, the proxy's certificate and an unrelated
 * CA.
 *
 * @param tmp an existing, empty directory
 */
export async function makePki(tmp: string): Promise<Pki> {
  const x509Dir = `${tmp}/x509`;
  await Deno.mkdir(x509Dir);
  const caCert = `${x509Dir}/ca-cert.pem`;
  const caKey = `${tmp}/ca-key.pem`;
  await makeCa({ key: caKey, cert: caCert }, "spicecap test CA");
  await makeLeaf({
    dir: tmp,
    ca: caCert,
    caKey,
    cert: `${x509Dir}/server-cert.pem`,
    key: `${x509Dir}/server-key.pem`,
  });
  const proxyCert = `${tmp}/proxy-cert.pem`;
  const proxyKey = `${tmp}/proxy-key.pem`;
  await makeLeaf({ dir: tmp, ca: caCert, caKey, cert: proxyCert, key: proxyKey });
  const wrongCaCert = `${tmp}/wrong-ca-cert.pem`;
  await makeCa({ key: `${tmp}/wrong-ca-key.pem`, cert: wrongCaCert }, "some other CA");
  return { x509Dir, caCert, proxyCert, proxyKey, wrongCaCert };
}
