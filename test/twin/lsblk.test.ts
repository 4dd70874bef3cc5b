/** The lsblk stand-in prints as util-linux's lsblk does, for the options scripts use. */
import { humanSize, lsblk, type BlockDevice } from "../../twin/host/lsblk";

const GiB = 1024 ** 3;
const DEVICES: BlockDevice[] = [
  {
    name: "nvme0n1",
    type: "disk",
    sizeBytes: 8 * GiB,
    majMin: "259:0",
    model: "Amazon Elastic Block Store",
    mountpoints: [],
    children: [{ name: "nvme0n1p1", type: "part", sizeBytes: 8 * GiB, majMin: "259:1", mountpoints: ["/"] }],
  },
  {
    name: "nvme1n1",
    type: "disk",
    sizeBytes: 200 * GiB,
    majMin: "259:2",
    model: "Amazon Elastic Block Store",
    serial: "vol0abc",
    fstype: "xfs",
    uuid: "0b6e…",
    mountpoints: ["/var/lib/nats/jetstream"],
  },
];

test("the default listing is a tree of name, numbers, size, type and mount points", () => {
  expect(lsblk(DEVICES, []).stdout).toBe(
    [
      "NAME        MAJ:MIN RM SIZE RO TYPE MOUNTPOINTS",
      "nvme0n1       259:0  0   8G  0 disk",
      "└─nvme0n1p1   259:1  0   8G  0 part /",
      "nvme1n1       259:2  0 200G  0 disk /var/lib/nats/jetstream",
      "",
    ].join("\n"),
  );
});

test("the data-disk script's questions: disks with their model, and a partition's parent", () => {
  expect(lsblk(DEVICES, ["-dpno", "NAME,MODEL"]).stdout).toBe(
    "/dev/nvme0n1 Amazon Elastic Block Store\n/dev/nvme1n1 Amazon Elastic Block Store\n",
  );
  expect(lsblk(DEVICES, ["-no", "PKNAME", "/dev/nvme0n1p1"]).stdout).toBe("nvme0n1\n");
  expect(lsblk(DEVICES, ["-bdno", "SIZE", "/dev/nvme1n1"]).stdout).toBe(`${String(200 * GiB)}\n`);
});

test("JSON, a missing device's exit status, and an option it does not carry out", () => {
  const json = JSON.parse(lsblk(DEVICES, ["-J", "-d", "-o", "NAME,SERIAL,FSTYPE"]).stdout ?? "") as unknown;
  expect(json).toEqual({
    blockdevices: [
      { name: "nvme0n1", serial: null, fstype: null },
      { name: "nvme1n1", serial: "vol0abc", fstype: "xfs" },
    ],
  });
  expect(lsblk(DEVICES, ["/dev/sdz"])).toMatchObject({ status: 32, stderr: "lsblk: /dev/sdz: not a block device\n" });
  expect(lsblk(DEVICES, ["/dev/sdz", "/dev/nvme1n1"]).status).toBe(64);
  expect(() => lsblk(DEVICES, ["-t"])).toThrow("lsblk: the twin's lsblk does not carry out -t");
  expect(() => lsblk(DEVICES, ["-o", "NAME,VENDOR"])).toThrow("unknown column: VENDOR");
});

test("sizes as lsblk rounds them", () => {
  expect([humanSize(512), humanSize(8 * GiB), humanSize(7500 * 1000 ** 3), humanSize(1.5 * GiB)]).toEqual([
    "512B",
    "8G",
    "6.8T",
    "1.5G",
  ]);
});
