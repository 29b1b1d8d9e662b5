/** `deno task capture --help`: every option of the capture command, in words. */
import { RING_HELP } from "./ring_args.ts";

/** Help text, shaped like tshark's. */
export const CAPTURE_HELP = `Usage: deno task capture [options]
Record a SPICE session through a proxy, one capture file per channel; with no --target, start a QEMU to record.

Server:
  --target <host:port>       SPICE server to record (default: start our own QEMU on loopback)
  --password <password>      SPICE password: set on our QEMU, passed to --client. QEMU and
                             remote-viewer read it from a private file removed once read;
                             spicy and spicy-screenshot take it only as -w, so with those
                             clients it is in their arguments (visible in ps) while they run
  --channels <default|all>   our QEMU's channels; all adds playback, record and usbredir
                             (default: default)
  --guest <none|static|linux>
                             our QEMU's guest: none (SeaBIOS, its cursor blinking), static
                             (a 512-byte boot sector whose screen never changes, so display
                             streams are byte-identical between runs) or linux (a Debian
                             kernel + busybox shell that takes typed keys, built once into
                             .tools/guest/; its serial port goes to <out>/serial.log, where
                             it writes GUEST READY) or linux-fb (the same guest on an
                             800x600 framebuffer; its shell commands photo and motion draw a
                             photo-like picture and a moving region, for JPEG and video
                             streams) (default: none)
  --image-compression <off|quic|lz|glz|auto_lz|auto_glz>
                             our QEMU's lossless image codec (default: QEMU's, auto_glz)
  --jpeg-wan <always|never|auto>
                             JPEG for photo-like images: always, never, or auto (only when the
                             link is slow, so never on loopback) (default: auto)
  --zlib-glz-wan <always|never|auto>
                             zlib over GLZ images, like --jpeg-wan (default: auto)
  --streaming-video <off|all|filter>
                             regions redrawn often become MJPEG video streams: all of them,
                             photo-like ones (filter) or none (default: QEMU's, off)
  --qemu-arg=<arg>           append an argument to our QEMU's command line (repeatable)
Proxy:
  --listen <addr:port>       where clients connect (default: 127.0.0.1:0, a free port)
  --no-record                relay only: no capture files, no per-message work
  --record-backlog <MiB>     bytes relayed but not yet recorded, at most (default: 64).
                             Recording runs in a worker thread beside the relay and never
                             slows it: a connection that would pass this backlog stops being
                             recorded from there on (its channel file ends that connection,
                             session.json counts the dropped chunks in the channel's 'dropped'
                             and lists it under 'lossy'), one warning is printed, relaying goes
                             on, and the capture exits 1
  --record-all               record every byte instead: when the backlog is full, the relay
                             waits for the recording (it reads no further, so TCP slows the
                             sender) as long as the recording keeps taking bytes; one that
                             takes nothing for 0.5 s (a stuck disk) still turns the connection
                             lossy, so the session goes on
${RING_HELP}
TLS (the proxy terminates the client's TLS with its own certificate, opens TLS to the
server, and records the plaintext; it listens on a plain port and a TLS port, relayed to the
server's plain port and TLS port, so SPICE's per-channel choice and NEED_SECURED reconnections
work as without the proxy):
  --tls-cert <file>          certificate (PEM) the proxy presents on its TLS port; its
                             subjectAltName must match the address clients connect to
  --tls-key <file>           private key (PEM) for --tls-cert
  --tls-target <host:port>   the server's TLS port, with --target (default: our QEMU's TLS port)
  --tls-ca <file>            CA (PEM) that signed the server's certificate (default: the
                             system roots; with our QEMU, <x509-dir>/ca-cert.pem). The server
                             certificate must name the --tls-target host (DNS or IP SAN).
                             Checked once at start: a failed handshake exits 2
  --client-ca <file>         CA (PEM) the --client trusts for --tls-cert (default: --tls-ca)
  --qemu-x509-dir <dir>      give our QEMU a TLS port with this x509-dir
                             (ca-cert.pem, server-cert.pem, server-key.pem)
  --qemu-tls-channel <name>  our QEMU's tls-channel=<name>: that channel only over TLS;
                             'default' for every channel not named (repeatable)
  --qemu-plaintext-channel <name>
                             our QEMU's plaintext-channel=<name> (repeatable)
Output:
  -o, --out <dir>            session directory, new or empty; made 0700, its files 0600
                             (default: captures/<UTC time>, e.g. captures/20261123T161200Z)
  --format <pcap|pcapng>     channel file format (default: pcap)
  --server-port <port>       synthetic server port in the files (default: 5930;
                             5900 reproduces the original design but Wireshark calls it VNC)
  --keep-ticket              record the 128-byte ticket as sent (default: zeros)
  --redact-inputs            zero key codes and mouse buttons in the record
                             (forwarded bytes are unchanged)
  --bundle                   copy the files our QEMU reads (kernel, initrd, firmware, disk
                             images) into <dir>/bundle/, so replay elsewhere uses them; their
                             SHA-256 is in session.json either way (qemuFiles)
  --json                     print the final summary as JSON on stdout
Client and duration:
  --client <spicy-screenshot|spicy|remote-viewer|none>
                             start this client against the proxy (default: none)
  --client-delay <seconds>   wait before starting the client (default: 0.5 after our own
                             QEMU starts, so the guest has drawn its first screen; 0 with --target)
  --duration <seconds>       stop after this long (default: when the client exits,
                             plus 1 s for late pings, or on Ctrl-C)
  -h, --help                 show this help

Exit status: 0 recorded, 1 capture errors (dropped packets, file or framing errors,
failed TLS handshakes: reported as they happen, the capture goes on), 2 bad usage or
environment (QEMU or client missing, port in use, directory not writable, TLS to the server
failing at start)

Examples:
  deno task capture --client spicy-screenshot
  deno task capture --target 192.168.1.20:5930 --format pcapng --duration 60
  deno task capture --qemu-x509-dir pki --qemu-tls-channel main \
      --tls-cert proxy-cert.pem --tls-key proxy-key.pem --client spicy
  deno task capture --target 10.0.0.5:5900 --tls-target 10.0.0.5:5901 --tls-ca ca-cert.pem \
      --tls-cert proxy-cert.pem --tls-key proxy-key.pem
`;
