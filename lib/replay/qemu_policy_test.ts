import assert from "node:assert/strict";
import { QEMU_OPTION_RULES, QemuPolicyError, vetQemuCommandLine } from "./qemu_policy.ts";
import { formatQemuOpts, parseQemuOpts } from "./qemu_options.ts";

const OUT = "out/r";
const Q = "qemu-system-x86_64";
const vet = (args: string[], extra: { trust?: boolean; qemu?: string; sessionDir?: string } = {}) =>
  vetQemuCommandLine([Q, ...args], { outDir: OUT, ...extra });

/** The refusal's offending option, or "ok" when the line passes. */
function verdict(args: string[], trust = false): string {
  try {
    vet(args, { trust });
    return "ok";
  } catch (e) {
    if (!(e instanceof QemuPolicyError)) throw e;
    return e.option;
  }
}

const GOLDEN = [
  "-nodefaults",
  "-no-user-config",
  "-machine",
  "pc",
  "-accel",
  "tcg",
  "-m",
  "128",
  "-vga",
  "qxl",
  "-display",
  "none",
  "-nic",
  "none",
  "-object",
  "secret,id=spsec,data=<redacted>",
  "-spice",
  "port=42831,addr=127.0.0.1,password-secret=spsec",
  "-audiodev",
  "spice,id=a",
  "-device",
  "intel-hda",
  "-device",
  "hda-duplex,audiodev=a",
  "-device",
  "qemu-xhci",
  "-chardev",
  "spicevmc,name=usbredir,id=u1",
  "-device",
  "usb-redir,chardev=u1",
  "-boot",
  "a",
  "-drive",
  "file=/tmp/spicecap-static-guest-1.img,format=raw,if=floppy,snapshot=on",
];

Deno.test("the lines spicecap records pass unchanged", () => {
  assert.deepEqual(vet(GOLDEN), { commandLine: [Q, ...GOLDEN], rewrites: [] });
});

/** [arguments, the option blamed ("ok" when allowed)]. */
const TABLE: [string[], string][] = [
  [["-pidfile", "victim.txt"], "-pidfile victim.txt"],
  [["-daemonize"], "-daemonize"],
  [["-monitor", "stdio"], "-monitor stdio"],
  [["-qmp", "unix:/tmp/q,server=on"], "-qmp unix:/tmp/q,server=on"],
  [["-qmp-pretty", "tcp::4444"], "-qmp-pretty tcp::4444"],
  [["--mon", "chardev=c"], "--mon chardev=c"],
  [["-chardev", "socket,id=c,path=/tmp/s,server=on"], "-chardev socket,id=c,path=/tmp/s,server=on"],
  [["-chardev", "file,id=c,path=/tmp/x"], "-chardev file,id=c,path=/tmp/x"],
  [["-chardev", "null,id=c,logfile=/tmp/log"], "-chardev null,id=c,logfile=/tmp/log"],
  [["-chardev", "spicevmc,id=c,name=vdagent"], "ok"],
  [["-serial", "none"], "ok"],
  [["-serial", "stdio"], "ok"],
  [["-serial", "chardev:c"], "ok"],
  [["-serial", "pipe:/tmp/p"], "-serial pipe:/tmp/p"],
  [["-serial", "tcp::4444,server=on"], "-serial tcp::4444,server=on"],
  [["-parallel", "unix:/tmp/s"], "-parallel unix:/tmp/s"],
  [["-debugcon", "telnet::7"], "-debugcon telnet::7"],
  [["-serial", "udp::7"], "-serial udp::7"],
  [["-serial", "/dev/ttyS0"], "-serial /dev/ttyS0"],
  [["-serial", "mon:stdio"], "-serial mon:stdio"],
  [["-D", "/tmp/log"], "-D /tmp/log"],
  [["-d", "guest_errors"], "ok"],
  [["-trace", "file=/tmp/t"], "-trace file=/tmp/t"],
  [["-trace", "enable=spice_*"], "ok"],
  [["-drive", "file=disk.img"], "-drive file=disk.img"],
  [["-drive", "file=disk.img,snapshot=off"], "-drive file=disk.img,snapshot=off"],
  [["-drive", "file=disk.img,readonly=on"], "ok"],
  [["-drive", "file=disk.img,media=cdrom"], "ok"],
  [["-drive", "file=nbd://evil/x,snapshot=on"], "-drive file=nbd://evil/x,snapshot=on"],
  [["-drive", "file=fat:rw:/home,snapshot=on"], "-drive file=fat:rw:/home,snapshot=on"],
  [["-drive", "driver=vvfat,dir=/home,snapshot=on"], "-drive driver=vvfat,dir=/home,snapshot=on"],
  [["-drive", "file.driver=nbd,snapshot=on"], "-drive file.driver=nbd,snapshot=on"],
  [
    ["-blockdev", "driver=file,filename=d.img,node-name=f"],
    "-blockdev driver=file,filename=d.img,node-name=f",
  ],
  [["-blockdev", "driver=file,filename=d.img,node-name=f,read-only=on"], "ok"],
  [["-blockdev", '{"driver":"file"}'], '-blockdev {"driver":"file"}'],
  [["-hda", "disk.img"], "-hda disk.img"],
  [["-snapshot", "-hda", "disk.img"], "ok"],
  [["-fda", "f.img"], "-fda f.img"],
  [["-cdrom", "x.iso"], "ok"],
  [["disk.img"], "disk.img"],
  [["-incoming", "exec:sh"], "-incoming exec:sh"],
  [
    ["-object", "memory-backend-file,id=m,mem-path=/tmp/m"],
    "-object memory-backend-file,id=m,mem-path=/tmp/m",
  ],
  [["-object", "secret,id=s,file=/etc/shadow"], "-object secret,id=s,file=/etc/shadow"],
  [["-object", "secret,id=s,file=../x"], "-object secret,id=s,file=../x"],
  [["-netdev", "tap,id=n"], "-netdev tap,id=n"],
  [["-nic", "user"], "-nic user"],
  [["-nic", "user,restrict=on"], "ok"],
  [["-nic", "user,restrict=on,hostfwd=tcp::22-:22"], "-nic user,restrict=on,hostfwd=tcp::22-:22"],
  [["-netdev", "user,id=n,restrict=on,smb=/home"], "-netdev user,id=n,restrict=on,smb=/home"],
  [["-net", "nic"], "ok"],
  [["-net", "socket,listen=:1234"], "-net socket,listen=:1234"],
  [["-virtfs", "local,path=/,mount_tag=h"], "-virtfs local,path=/,mount_tag=h"],
  [["-fsdev", "local,id=f,path=/"], "-fsdev local,id=f,path=/"],
  [["-loadvm", "snap"], "-loadvm snap"],
  [["-writeconfig", "/tmp/c"], "-writeconfig /tmp/c"],
  [["-readconfig", "/tmp/c"], "-readconfig /tmp/c"],
  [["-plugin", "/tmp/p.so"], "-plugin /tmp/p.so"],
  [["-add-fd", "fd=3,set=1"], "-add-fd fd=3,set=1"],
  [["-run-with", "chroot=/"], "-run-with chroot=/"],
  [["-sandbox", "off"], "-sandbox off"],
  [["-sandbox", "on,spawn=deny"], "ok"],
  [["-device", "vfio-pci,host=01:00.0"], "-device vfio-pci,host=01:00.0"],
  [["-device", "usb-host,hostbus=1"], "-device usb-host,hostbus=1"],
  [["-device", "loader,file=/etc/passwd,addr=0"], "-device loader,file=/etc/passwd,addr=0"],
  [["-audiodev", "pa,id=a"], "-audiodev pa,id=a"],
  [["-audiodev", "wav,id=a,path=/tmp/a.wav"], "-audiodev wav,id=a,path=/tmp/a.wav"],
  [["-display", "vnc=0.0.0.0:0"], "-display vnc=0.0.0.0:0"],
  [["-display", "gtk"], "-display gtk"],
  [["-vnc", ":0"], "-vnc :0"],
  [["-gdb", "tcp::1234"], "-gdb tcp::1234"],
  [["-s"], "-s"],
  [["-spice", "unix=on,addr=/tmp/s"], "-spice unix=on,addr=/tmp/s"],
  [["-msg", "timestamp=on"], "-msg timestamp=on"],
];

for (const [args, blamed] of TABLE) {
  Deno.test(`policy: ${args.join(" ")} → ${blamed === "ok" ? "allowed" : "refused"}`, () => {
    assert.equal(verdict(args), blamed);
  });
}

Deno.test("every refused option of the table runs with --trust", () => {
  for (const [args] of TABLE) assert.equal(verdict(args, true), "ok", args.join(" "));
});

Deno.test("the refusal names the option and prints the whole line", () => {
  assert.throws(() => vet(["-m", "128", "-pidfile", "victim.txt"]), (e) => {
    assert.ok(e instanceof QemuPolicyError);
    assert.equal(
      e.message,
      "refusing to run the QEMU command line: -pidfile victim.txt: writes a host file " +
        "(run it anyway with --trust; see docs/replay_policy.md)\n" +
        `  command: ${Q} -m 128 -pidfile victim.txt`,
    );
    return true;
  });
});

Deno.test("only a qemu-system-* binary runs, with or without --trust", () => {
  for (const trust of [false, true]) {
    assert.throws(
      () =>
        vetQemuCommandLine(["sh", "-c", "id > PWNED", "-spice", "port=1"], { outDir: OUT, trust }),
      (e) => {
        assert.ok(e instanceof QemuPolicyError);
        assert.equal(e.option, "sh");
        assert.match(e.message, /command: sh -c 'id > PWNED' -spice port=1$/);
        assert.doesNotMatch(e.message, /--trust/, "trust does not help");
        return true;
      },
    );
  }
  assert.throws(() => vet([], { qemu: "/bin/true" }), /--qemu is not a qemu-system-\* binary/);
  assert.throws(() => vet([], { qemu: "/bin/qemu-system-x86_64-evil" }), QemuPolicyError);
});

Deno.test("--qemu replaces the binary; a recorded path is looked up by name unless trusted", () => {
  const alt = vet(["-m", "128"], { qemu: "/opt/q/bin/qemu-system-x86_64" });
  assert.deepEqual(alt.commandLine, ["/opt/q/bin/qemu-system-x86_64", "-m", "128"]);
  const rec = ["/tmp/evil/qemu-system-x86_64", "-m", "128"];
  assert.equal(vetQemuCommandLine(rec, { outDir: OUT }).commandLine[0], Q);
  assert.equal(vetQemuCommandLine(rec, { outDir: OUT, trust: true }).commandLine[0], rec[0]);
});

Deno.test("host output files move into the replay's directory, by base name, never twice", () => {
  const v = vet([
    "-serial",
    "file:/var/log/x.log",
    "-parallel",
    "file:x.log",
    "-debugcon",
    "file:d",
  ]);
  assert.deepEqual(v.commandLine.slice(1), [
    "-serial",
    `file:${OUT}/qemu-x.log`,
    "-parallel",
    `file:${OUT}/qemu-2-x.log`,
    "-debugcon",
    `file:${OUT}/qemu-d`,
  ]);
  assert.equal(v.rewrites.length, 3);
  const trusted = vet(["-serial", "file:/etc/passwd", "-pidfile", "p"], { trust: true });
  assert.deepEqual(trusted.commandLine.slice(1), [
    "-serial",
    `file:${OUT}/qemu-passwd`,
    "-pidfile",
    "p",
  ]);
  assert.equal(verdict(["-serial", "file:/tmp/"]), "-serial file:/tmp/");
});

Deno.test("the SPICE server listens on loopback only; a secret's file is read from the session", () => {
  assert.deepEqual(vet(["-spice", "port=1,addr=0.0.0.0"]).commandLine.slice(1), [
    "-spice",
    "port=1,addr=127.0.0.1",
  ]);
  assert.deepEqual(vet(["-spice", "port=1"]).commandLine[2], "port=1,addr=127.0.0.1");
  const s = vet(["-object", "secret,id=s,file=pw"], { sessionDir: "cap/s" });
  assert.equal(s.commandLine[2], "secret,id=s,file=cap/s/pw");
  assert.equal(verdict(["-object", "secret,id=s,file=pw"]), "-object secret,id=s,file=pw");
});

Deno.test("option values split like QEMU's: ,, is a comma, a leading bare value the implied key", () => {
  const parts = parseQemuOpts("file=a,,b.img,snapshot,if=floppy", "file");
  assert.deepEqual(parts, [
    { key: "file", value: "a,b.img" },
    { key: "snapshot", value: "on" },
    { key: "if", value: "floppy" },
  ]);
  assert.equal(formatQemuOpts(parts), "file=a,,b.img,snapshot=on,if=floppy");
  assert.equal(
    formatQemuOpts(parseQemuOpts("spicevmc,id=u", "backend"), "backend"),
    "spicevmc,id=u",
  );
});

Deno.test("the table has no option both refused and checked", () => {
  for (const [name, rule] of Object.entries(QEMU_OPTION_RULES)) {
    assert.ok(name.startsWith("-"), name);
    assert.ok(!(rule.refused && rule.check), name);
  }
});
