/**
 * A cloud server's first boot and every boot on the twin: Debian's cloud-init runs its own units
 * with the real rendered user data (topology/render/bootstrap.ts) from a NoCloud seed: the users,
 * the files, the data disk's script and unit (the real ones, on an EBS-like volume), the agent's
 * unit and timer enabled in init's order; the next boot mounts the disk again by init alone.
 *
 * @servers
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DISK_MODELS } from "../../topology/render/data-disk";
import { renderBootstrap } from "../../topology/render/bootstrap";
import { cloudInitBoot, cloudInitResult } from "../../twin/host/cloud-init";
import { imageLayers, writeTwinLayer } from "../../twin/host/image";
import { Machine } from "../../twin/host/machine";
import { Sandbox } from "../../twin/host/sandbox";
import { CLOUD_INIT_PACKAGES, XFSPROGS_PACKAGES, xfsToolsIn } from "../../twin/host/tools";
import { Volumes } from "../../twin/host/volumes";
import { cloudInitTree, nftTool, xfsprogsTree } from "../helpers/tools";

const GiB = 1024 ** 3;
const STORE = "/var/lib/nats/jetstream";
/** The agent's place in the user data: here a script that says it ran (the real agent needs the AWS twin's SSM). */
const AGENT = `#!/bin/sh\necho "zester-apply ran on $(hostname)"\n`;

test("cloud-init boots a server from its rendered user data; the next boot mounts its disk by init alone", async () => {
  const timings: Record<string, number> = {};
  const dir = mkdtempSync(path.join(os.tmpdir(), "zester-twin-"));
  const sandbox = await Sandbox.start({ dir, nft: nftTool() });
  const xfsprogs = xfsprogsTree();
  const volumes = new Volumes(sandbox, path.join(dir, "volumes"), xfsToolsIn(xfsprogs));
  const userData = renderBootstrap({
    server: "core-0",
    tier: "cluster-3",
    agentScript: AGENT,
    agent: { region: "eu-west-1", path: "/zester/staging/core-0/" },
    dataDisk: { kind: "ebs", disks: 1 },
  });
  volumes.create({ id: "vol-0data", sizeBytes: 2 * GiB, model: DISK_MODELS.ebs, lifetime: "persistent" });
  let machine: Machine | undefined;
  try {
    // Attached at launch, as the instance's block device mapping would have it.
    await volumes.attach("vol-0data", "core-0", "nvme1n1");
    let start = Date.now();
    machine = await Machine.create(
      { sandbox, volumes, imagePackages: [...XFSPROGS_PACKAGES, ...CLOUD_INIT_PACKAGES] },
      {
        name: "core-0",
        address: "10.0.1.10",
        prefix: 24,
        image: imageLayers(writeTwinLayer(path.join(dir, "image")), {
          xfsprogs,
          cloudInit: cloudInitTree(),
        }),
        rootDisk: { name: "nvme0n1", partition: "nvme0n1p1", sizeBytes: 8 * GiB, model: DISK_MODELS.ebs },
        boot: cloudInitBoot(() => ({ userData, instanceId: "i-0123456789abcdef0", hostname: "core-0" })),
      },
    );
    await machine.booted;
    await machine.systemd.settled();
    timings.firstBootMs = Date.now() - start;
    const sh = async (script: string) => (machine === undefined ? "" : (await machine.sh(script)).stdout.trim());

    const result = await cloudInitResult(machine);
    expect(result?.datasource).toContain("DataSourceNoCloud");
    expect(result?.errors).toEqual([]);
    expect(result?.ran).toEqual(
      expect.arrayContaining([
        "init-network/write-files",
        "init-network/users-groups",
        "modules-config/runcmd",
        "modules-final/package-update-upgrade-install",
        "modules-final/write-files-deferred",
        "modules-final/scripts-user",
      ]),
    );
    expect(await sh("id -u nats >/dev/null && getent passwd nats | cut -d: -f6,7")).toBe(
      "/var/lib/nats:/usr/sbin/nologin",
    );
    expect(await sh("cat /etc/zester/agent.json")).toContain('"path": "/zester/staging/core-0/"');
    expect(await sh(`findmnt -no SOURCE ${STORE}; stat -c %U:%a ${STORE}`)).toBe("/dev/nvme1n1\nnats:750");
    expect(Number(await sh(`df -B1 --output=size ${STORE} | tail -1`))).toBeGreaterThan(1.9 * GiB);
    expect(await sh("systemctl is-active zester-data-disk.service zester-apply.timer")).toBe("active\nactive");
    expect(await sh("systemctl is-enabled zester-data-disk.service zester-apply.service zester-apply.timer")).toBe(
      "enabled\nenabled\nenabled",
    );
    expect(await sh("journalctl -u zester-apply.service")).toBe("zester-apply ran on core-0");
    expect(await sh("systemctl show -p Result --value cloud-final.service")).toBe("success");
    await sh(`echo kept > ${STORE}/stream`);

    start = Date.now();
    await machine.stop();
    await machine.start();
    await machine.booted;
    await machine.systemd.settled();
    timings.secondBootMs = Date.now() - start;
    // Init mounted the disk again (the unit is enabled); cloud-init ran its per-boot modules only.
    expect(await sh(`cat ${STORE}/stream`)).toBe("kept");
    expect((await cloudInitResult(machine))?.errors).toEqual([]);
    const second = await cloudInitResult(machine);
    expect(second?.ran).not.toContain("modules-final/scripts-user");
    expect(second?.ran).not.toContain("init-network/users-groups");
    console.log(
      `cloud-init modules that ran, first boot: ${result?.ran.join(" ") ?? ""}\nsecond boot: ${second?.ran.join(" ") ?? ""}`,
    );
    console.log(`cloud-init boot timings: ${JSON.stringify(timings)}`);
  } finally {
    await machine?.close();
    await sandbox.stop();
  }
}, 120_000);
