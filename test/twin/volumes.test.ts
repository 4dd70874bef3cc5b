/**
 * Block devices whose size is visible: the real data-disk script (topology/render/data-disk.ts)
 * finds an attached volume by its model, formats it with Debian's mkfs.xfs and mounts it; the
 * mounted file system has the superblock's size; a grown volume keeps the old size until
 * xfs_growfs; an EBS-like volume keeps its files across a power cycle, an instance-store-like one
 * comes back blank.
 *
 * @servers
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DISK_MODELS, dataDiskScript } from "../../topology/render/data-disk";
import { HostCalls, type Call } from "../../twin/host/host-calls";
import { imageLayers, writeTwinLayer } from "../../twin/host/image";
import { Sandbox } from "../../twin/host/sandbox";
import { xfsToolsIn } from "../../twin/host/tools";
import { Volumes } from "../../twin/host/volumes";
import { nftTool, xfsprogsTree } from "../helpers/tools";

const GiB = 1024 ** 3;
const STORE = "/var/lib/nats/jetstream";
const HOST = "core-0";
/** The host with several instance-store disks (RAID0). */
const STRIPED = "core-1";

describe("volumes on a twin host", () => {
  let sandbox: Sandbox;
  let volumes: Volumes;
  let calls: HostCalls;
  let stripedCalls: HostCalls;

  const sh = async (script: string) => {
    const r = await sandbox.run(HOST, ["sh", "-c", script]);
    return { ...r, out: r.stdout.trim() };
  };
  /** The mounted file system's size in bytes, as df sees it. */
  const dfBytes = async () => Number((await sh(`df -B1 --output=size ${STORE} | tail -1`)).out);
  const runScript = async (kind: "ebs" | "instance-store", env: Record<string, string> = {}) => {
    await sandbox.writeFile(HOST, "/usr/local/sbin/zester-data-disk", dataDiskScript(kind, 1, STORE, "nats"), "0755");
    const vars = Object.entries(env)
      .map(([k, v]) => `${k}=${v} `)
      .join("");
    return sh(`${vars}/usr/local/sbin/zester-data-disk`);
  };

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "zester-twin-"));
    sandbox = await Sandbox.start({ dir, nft: nftTool() });
    const tree = xfsprogsTree();
    volumes = new Volumes(sandbox, path.join(dir, "volumes"), xfsToolsIn(tree));
    const handlers = (host: string) => ({
      lsblk: (call: Call) => volumes.lsblk(host, call),
      mount: (call: Call) => volumes.mount(host, call),
      xfs_growfs: (call: Call) => volumes.growfs(host, call),
      mdadm: (call: Call) => volumes.mdadm(host, call),
    });
    calls = await HostCalls.listen(sandbox.runtimePaths(HOST).socket, handlers(HOST));
    stripedCalls = await HostCalls.listen(sandbox.runtimePaths(STRIPED).socket, handlers(STRIPED));
    const image = imageLayers(writeTwinLayer(path.join(dir, "image")), { xfsprogs: tree });
    for (const [name, address] of [
      [HOST, "10.0.1.10"],
      [STRIPED, "10.0.1.11"],
    ] as const) {
      await sandbox.addHost({ name, address, prefix: 24, rootSource: "/dev/nvme0n1p1", image });
      volumes.setRootDisk(name, {
        name: "nvme0n1",
        partition: "nvme0n1p1",
        sizeBytes: 8 * GiB,
        model: DISK_MODELS.ebs,
      });
      await sandbox.run(name, [
        "sh",
        "-c",
        "echo 'nats:x:999:999::/var/lib/nats:/usr/sbin/nologin' >> /etc/passwd && echo 'nats:x:999:' >> /etc/group",
      ]);
    }
  }, 60_000);

  afterAll(async () => {
    await calls.close();
    await stripedCalls.close();
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
    // Run by root the sandbox maps nats's uid and the script's chown is real; otherwise it is refused and ignored.
    expect((await sh(`mountpoint -q ${STORE} && stat -c %U ${STORE}`)).out).toBe(sandbox.mapsAllIds ? "nats" : "root");
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

    const grown = await sh(`xfs_growfs ${STORE}`);
    expect(grown.stderr).toBe("");
    expect(grown.status).toBe(0);
    expect(grown.stdout).toMatch(/data blocks changed from \d+ to 524288/);
    expect(await dfBytes()).toBeGreaterThan(1.9 * GiB);
    expect((await sh(`cat ${STORE}/stream`)).out).toBe("kept");
    const again = await sh(`xfs_growfs ${STORE}`);
    expect(again.stdout).toContain("data size unchanged, skipping");
  }, 60_000);

  test("the data-disk script grows a mounted file system to its grown volume, the files kept (the agent runs it while the server runs)", async () => {
    volumes.resize("vol-data", 3 * GiB);
    expect(await dfBytes()).toBeLessThan(2.1 * GiB);
    const r = await runScript("ebs", { ZESTER_DATA_DISK_GROW_ONLY: "1" });
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(await dfBytes()).toBeGreaterThan(2.9 * GiB);
    expect((await sh(`cat ${STORE}/stream`)).out).toBe("kept");
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

  test("several instance-store disks are striped (mdadm RAID0), mounted at their sum, and made anew after a stop", async () => {
    const on = async (script: string) => (await sandbox.run(STRIPED, ["sh", "-c", script])).stdout.trim();
    for (const n of [1, 2]) {
      volumes.create({
        id: `store-${String(n)}`,
        sizeBytes: GiB,
        model: DISK_MODELS["instance-store"],
        lifetime: "ephemeral",
      });
      await volumes.attach(`store-${String(n)}`, STRIPED, `nvme${String(n)}n1`);
    }
    const script = dataDiskScript("instance-store", 2, STORE, "nats");
    await sandbox.writeFile(STRIPED, "/usr/local/sbin/zester-data-disk", script, "0755");
    const first = await sandbox.run(STRIPED, ["/usr/local/sbin/zester-data-disk"]);
    expect([first.status, first.stderr]).toEqual([0, "mdadm: array /dev/md/zester-data started.\n"]);
    expect(await on(`findmnt -no SOURCE ${STORE}; readlink /dev/md/zester-data`)).toBe("/dev/md127\n/dev/md127");
    expect(Number(await on(`df -B1 --output=size ${STORE} | tail -1`))).toBeGreaterThan(1.9 * GiB);
    expect(await on("lsblk -dno NAME,TYPE /dev/md127")).toBe("md127 raid0");
    await on(`echo striped > ${STORE}/f`);

    // A reboot keeps the array and its files; a stop blanks both disks, and the array with them.
    await sandbox.powerOff(STRIPED);
    await sandbox.powerOn(STRIPED);
    await volumes.relink(STRIPED);
    expect((await sandbox.run(STRIPED, ["/usr/local/sbin/zester-data-disk"])).status).toBe(0);
    expect(await on(`cat ${STORE}/f`)).toBe("striped");
    await sandbox.powerOff(STRIPED);
    await volumes.hostStopped(STRIPED);
    await sandbox.powerOn(STRIPED);
    await volumes.relink(STRIPED);
    const again = await sandbox.run(STRIPED, ["/usr/local/sbin/zester-data-disk"]);
    expect([again.status, again.stderr]).toEqual([0, "mdadm: array /dev/md/zester-data started.\n"]);
    expect(await on(`findmnt -no SOURCE ${STORE}; ls ${STORE}`)).toBe("/dev/md127");
  }, 60_000);

  test("a detached volume's device and mount are gone from the host; attached again, its files are there", async () => {
    await volumes.detach("vol-data");
    expect((await sh(`mountpoint -q ${STORE}`)).status).not.toBe(0);
    expect((await sh("lsblk -dno NAME")).out.split("\n")).not.toContain("nvme1n1");
    expect((await sh("test -e /dev/nvme1n1")).status).not.toBe(0);
    await volumes.attach("vol-data", HOST, "nvme3n1");
    expect((await sh(`mount /dev/nvme3n1 ${STORE} && cat ${STORE}/stream`)).out).toBe("kept");
    expect((await sh(`findmnt -no SOURCE ${STORE}; lsblk -no MOUNTPOINTS /dev/nvme3n1`)).out).toBe(
      `/dev/nvme3n1\n${STORE}`,
    );
    await expect(volumes.delete("vol-data")).rejects.toThrow("attached to core-0: detach it first");
  }, 30_000);

  test("a mount that is not of a twin device is the real mount's", async () => {
    const r = await sh(
      "mkdir -p /mnt/t && mount -t tmpfs -o size=1m scratch /mnt/t && findmnt -no SOURCE,FSTYPE /mnt/t",
    );
    expect(r.out).toBe("scratch tmpfs");
  });
});
