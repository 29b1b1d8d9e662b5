import assert from "node:assert/strict";
import { qemuInputFiles, withInputFile } from "./qemu_files.ts";

Deno.test("the files a command line makes QEMU read, protocols left out", () => {
  const argv = [
    "qemu-system-x86_64",
    ...["-kernel", "/g/vmlinuz", "-initrd", "/g/initrd", "-append", "quiet"],
    ...["-drive", "file=/d/a,,b.img,format=raw,snapshot=on", "-drive", "file=nbd:x:1"],
    ...["-fw_cfg", "name=opt/x,file=/f/cfg", "-cdrom", "/c.iso", "-m", "128"],
  ];
  assert.deepEqual(qemuInputFiles(argv).map((f) => [f.option, f.path, f.argIndex]), [
    ["-kernel", "/g/vmlinuz", 2],
    ["-initrd", "/g/initrd", 4],
    ["-drive", "/d/a,b.img", 8],
    ["-fw_cfg", "/f/cfg", 12],
    ["-cdrom", "/c.iso", 14],
  ]);
  const files = qemuInputFiles(argv);
  const moved = withInputFile(argv, { file: files[2], path: "/s/bundle/a,b.img" });
  assert.equal(moved[8], "file=/s/bundle/a,,b.img,format=raw,snapshot=on");
  assert.equal(withInputFile(argv, { file: files[0], path: "/k" })[2], "/k");
});
