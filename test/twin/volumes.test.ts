/**
 * Block devices whose size is visible: the real data-disk script (topology/render/data-disk.ts)
 * finds an attached volume by its model, formats it with Debian's mkfs.xfs and mounts it; the
 * mounted file system has the superblock's size; a grown volume keeps the old size until
 * xfs_growfs; an EBS-like volume keeps its files across a power cycle, an instance-store-like one
 * comes back blank.
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DISK_MODELS, dataDiskScript } from "../../topology/render/data-disk";
import { HostCalls } from "../../twin/host/host-calls";
import { imageLayers, writeTwinLayer } from "../../twin/host/image";
import { Sandbox } from "../../twin/host/sandbox";
import { xfsToolsIn } from "../../twin/host/tools";
import { Volumes } from "../../twin/host/volumes";
import { nftTool, xfsprogsTree } from "../helpers/tools";

const GiB = 1024 ** 3;
const STORE = "/var/lib/nats/jetstream";
const HOST = "core-0";

describe("volumes on a twin host", () => {
  let sandbox: Sandbox;
  let volumes: Volumes;
  let calls: HostCalls;

  const sh = async (script: string) => {
    const r = await sandbox.run(HOST, ["sh", "-c", script]);
    return { ...r, out: r.stdout.trim() };
  };
  /** The mounted file system's size in bytes, as df sees it. */
  const dfBytes = async () => Number((await sh(`df -B1 --output=size ${STORE} | tail -1`)).out);
  const runScript = async (kind: "ebs" | "instance-store") => {
    await sandbox.writeFile(HOST, "/usr/local/sbin/zester-data-disk", dataDiskScript(kind, 1, STORE, "nats"), "0755");
    return sh("/usr/local/sbin/zester-data-disk");
  };

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "zester-twin-"));
    sandbox = await Sandbox.start({ dir, nft: nftTool() });
    const tree = xfsprogsTree();
    volumes = new Volumes(sandbox, path.join(dir, "volumes"), xfsToolsIn(tree));
    calls = await HostCalls.listen(sandbox.runtimePaths(HOST).socket, {
      lsblk: (call) => volumes.lsblk(HOST, call),
      mount: (call) => volumes.mount(HOST, call),
      xfs_growfs: (call) => volumes.growfs(HOST, call),
    });
    await sandbox.addHost({
      name: HOST,
      address: "10.0.1.10",
      prefix: 24,
      rootSource: "/dev/nvme0n1p1",
      image: imageLayers(writeTwinLayer(path.join(dir, "image")), { xfsprogs: tree }),
    });
    volumes.setRootDisk(HOST, { name: "nvme0n1", partition: "nvme0n1p1", sizeBytes: 8 * GiB, model: DISK_MODELS.ebs });
    await sh(
      "echo 'nats:x:999:999::/var/lib/nats:/usr/sbin/nologin' >> /etc/passwd && echo 'nats:x:999:' >> /etc/group",
    );
  }, 60_000);

  afterAll(async () => {
    await calls.close();
    await sandbox.stop();
  });

  test("the data-disk script finds the EBS volume by its model, not the root disk, formats and mounts it at its size", async () => {
    volumes.create({
      id: "vol-data",
      sizeBytes: GiB,
      model: DISK_MODELS.ebs,
      serial: "voldata",
      lifetime: "persistent",
    });
    await volumes.attach("vol-data", HOST, "nvme1n1");
    const listed = await sh("lsblk -dpno NAME,MODEL");
    expect(listed.out.split("\n")).toEqual([`/dev/nvme0n1 ${DISK_MODELS.ebs}`, `/dev/nvme1n1 ${DISK_MODELS.ebs}`]);
    expect((await sh('lsblk -no PKNAME "$(findmnt -no SOURCE /)"')).out).toBe("nvme0n1");

    const first = await runScript("ebs");
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect((await sh("blkid -o value -s TYPE /dev/nvme1n1")).out).toBe("xfs");
    expect((await sh(`findmnt -no SOURCE ${STORE}`)).out).toBe("/dev/nvme1n1");
    expect((await sh(`mountpoint -q ${STORE} && stat -c %U ${STORE}`)).out).toBe("nats");
    const size = await dfBytes();
    expect(size).toBeGreaterThan(0.9 * GiB);
    expect(size).toBeLessThanOrEqual(GiB);
    expect((await sh(`lsblk -no MOUNTPOINTS /dev/nvme1n1`)).out).toBe(STORE);

    // Larger than the file system: refused as a full disk is.
    const tooBig = await sh(`head -c ${String(GiB + 1024 * 1024)} /dev/zero > ${STORE}/big`);
    expect(tooBig.status).not.toBe(0);
    expect(tooBig.stderr).toContain("No space left on device");
    await sh(`rm -f ${STORE}/big; echo kept > ${STORE}/stream`);
  }, 60_000);

  test("a grown volume shows the old size until xfs_growfs, which keeps the files", async () => {
    const before = await dfBytes();
    volumes.resize("vol-data", 2 * GiB);
    expect((await sh("lsblk -bdno SIZE /dev/nvme1n1")).out).toBe(String(2 * GiB));
    expect(await dfBytes()).toBe(before);
    // The data-disk script alone never grows it: it only formats a blank device.
    expect((await runScript("ebs")).status).toBe(0);
    expect(await dfBytes()).toBe(before);

    const grown = await sh(`xfs_growfs ${STORE}`);
    expect(grown.stderr).toBe("");
    expect(grown.status).toBe(0);
    expect(grown.stdout).toMatch(/data blocks changed from \d+ to 524288/);
    expect(await dfBytes()).toBeGreaterThan(1.9 * GiB);
    expect((await sh(`cat ${STORE}/stream`)).out).toBe("kept");
    const again = await sh(`xfs_growfs ${STORE}`);
    expect(again.stdout).toContain("data size unchanged, skipping");
  }, 60_000);

  test("an EBS-like volume keeps its files across a power cycle; an instance-store-like one comes back blank", async () => {
    volumes.create({ id: "nvme-store", sizeBytes: GiB, model: DISK_MODELS["instance-store"], lifetime: "ephemeral" });
    await volumes.attach("nvme-store", HOST, "nvme2n1");
    await sh("mkdir -p /mnt/store");
    await sh("mkfs.xfs -q /dev/nvme2n1 && mount /dev/nvme2n1 /mnt/store && echo scratch > /mnt/store/f");
    expect((await sh("cat /mnt/store/f")).out).toBe("scratch");

    await sandbox.powerOff(HOST);
    await volumes.hostStopped(HOST);
    await sandbox.powerOn(HOST);
    await volumes.relink(HOST);

    expect((await sh(`mountpoint -q ${STORE}`)).status).not.toBe(0);
    expect((await runScript("ebs")).status).toBe(0);
    expect((await sh(`cat ${STORE}/stream`)).out).toBe("kept");
    expect(await dfBytes()).toBeGreaterThan(1.9 * GiB);

    expect((await sh("blkid -o value -s TYPE /dev/nvme2n1")).out).toBe("");
    const blank = await sh("mkdir -p /mnt/store && mount /dev/nvme2n1 /mnt/store");
    expect(blank.status).toBe(32);
    expect(blank.stderr).toContain("wrong fs type");
  }, 60_000);

  test("a mount that is not of a twin device is the real mount's", async () => {
    const r = await sh(
      "mkdir -p /mnt/t && mount -t tmpfs -o size=1m scratch /mnt/t && findmnt -no SOURCE,FSTYPE /mnt/t",
    );
    expect(r.out).toBe("scratch tmpfs");
  });
});
