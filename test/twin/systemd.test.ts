/**
 * A twin host's init and its systemctl: units ordered by After/Before/Requires/RequiredBy/WantedBy
 * at boot, a failed required oneshot keeps its dependent down, timers fire, the agent's and
 * cloud-init's systemctl words answer as systemctl(1) does, and a power-off stops units in the
 * reverse order by their stop path.
 *
 * @servers
 */
import { mkdtempSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Machine } from "../../twin/host/machine";
import { imageLayers, writeTwinLayer } from "../../twin/host/image";
import { Sandbox } from "../../twin/host/sandbox";
import { xfsToolsIn } from "../../twin/host/tools";
import { Volumes } from "../../twin/host/volumes";
import { nftTool, xfsprogsTree } from "../helpers/tools";

/** Appends its name and a word to /var/log/order (kept on the host's disk). */
const log = (word: string) => `/bin/sh -c "echo ${word} >> /var/log/order"`;

const UNITS: Record<string, string> = {
  // As the rendered data disk: a oneshot that remains, required by the server and ordered before it.
  "disk.service": `[Unit]
Description=the disk
Before=server.service
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c "test ! -e /etc/disk-fails && echo disk >> /var/log/order"
ExecStop=${log("disk-stopped")}
[Install]
RequiredBy=server.service
WantedBy=multi-user.target
`,
  "server.service": `[Unit]
Description=the server
After=network-online.target
[Service]
Type=simple
ExecStart=/bin/sh -c "echo server >> /var/log/order; exec sleep 600"
ExecReload=${log("reloaded")}
ExecStop=${log("server-stopped")}
[Install]
WantedBy=multi-user.target
`,
  // As the agent's timer: OnBootSec and OnUnitInactiveSec.
  "tick.service": `[Unit]
Description=a tick
[Service]
Type=oneshot
ExecStart=/bin/sh -c "echo tick >> /var/log/ticks"
`,
  "tick.timer": `[Unit]
Description=ticks
[Timer]
OnBootSec=1
OnUnitInactiveSec=1
[Install]
WantedBy=timers.target
`,
};

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe("a twin host's init", () => {
  let sandbox: Sandbox;
  let machine: Machine;
  const sh = async (script: string) => machine.sh(script);
  const order = async () =>
    (await sh("cat /var/log/order 2>/dev/null; true")).stdout.trim().split("\n").filter(Boolean);

  beforeAll(async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "zester-twin-"));
    sandbox = await Sandbox.start({ dir, nft: nftTool() });
    const tree = xfsprogsTree();
    const volumes = new Volumes(sandbox, path.join(dir, "volumes"), xfsToolsIn(tree));
    machine = await Machine.create(
      { sandbox, volumes, imagePackages: [] },
      {
        name: "core-0",
        address: "10.0.1.10",
        prefix: 24,
        image: imageLayers(writeTwinLayer(path.join(dir, "image")), { xfsprogs: tree }),
      },
    );
  }, 60_000);

  afterAll(async () => {
    await machine.close();
    await sandbox.stop();
  });

  test("the machine's own services are not the host's: the image brings its units", async () => {
    expect((await sh("ls /etc/systemd/system /usr/lib/systemd/system")).stdout.trim()).toBe(
      "/etc/systemd/system:\n\n/usr/lib/systemd/system:",
    );
    const reached = await machine.booted;
    if (reached !== "done") console.log(machine.systemd.log.join("\n"));
    expect(reached).toBe("done");
    expect(machine.systemd.states()["multi-user.target"]).toBe("active");
  });

  test("systemctl enable --now, is-active, show, reload and restart answer as systemctl does", async () => {
    for (const [name, text] of Object.entries(UNITS)) await machine.writeFile(`/etc/systemd/system/${name}`, text);
    expect((await sh("systemctl daemon-reload")).status).toBe(0);
    expect((await sh("systemctl is-active --quiet server.service")).status).toBe(3);
    // As the rendered user data's runcmd: the data disk's unit, then the server's.
    const disk = await sh("systemctl enable --now disk.service");
    expect(disk.stderr).toContain(
      "Created symlink /etc/systemd/system/server.service.requires/disk.service → /etc/systemd/system/disk.service.",
    );
    const enabled = await sh("systemctl enable --now server.service");
    expect(enabled.status).toBe(0);
    expect(enabled.stderr).toBe(
      "Created symlink /etc/systemd/system/multi-user.target.wants/server.service → /etc/systemd/system/server.service.\n",
    );
    // The required disk started first.
    await until("the server's first line", async () => (await order()).includes("server"));
    expect(await order()).toEqual(["disk", "server"]);
    expect((await sh("systemctl is-active server")).stdout).toBe("active\n");
    expect((await sh("systemctl show -p ActiveState,SubState --value disk.service")).stdout).toBe("active\nexited\n");
    expect((await sh("systemctl is-enabled server.service")).stdout).toBe("enabled\n");
    expect((await sh("systemctl is-enabled tick.service")).stdout).toBe("static\n");
    const pid = (await sh("systemctl show -p MainPID --value server")).stdout.trim();
    expect((await sh(`cat /proc/${pid}/comm`)).stdout.trim()).toBe("sleep");

    expect((await sh("systemctl reload --no-block server.service")).status).toBe(0);
    expect((await sh("systemctl reload tick.service")).stderr).toContain("Job type reload is not applicable");
    expect((await sh("systemctl start nothing.service")).stderr).toBe(
      "Failed to start nothing.service: Unit nothing.service not found.\n",
    );
    expect((await sh("systemctl start nothing.service")).status).toBe(5);
    expect((await sh("systemctl frobnicate x")).stderr).toContain('does not carry out "frobnicate"');

    // Restarting the required disk restarts the server that requires it.
    expect((await sh("systemctl restart disk.service")).status).toBe(0);
    await until("the server started again", async () => (await order()).filter((l) => l === "server").length === 2);
    const after = await order();
    expect(after.slice(2)).toEqual(
      expect.arrayContaining(["reloaded", "server-stopped", "disk-stopped", "disk", "server"]),
    );
    expect(after.indexOf("server-stopped")).toBeLessThan(after.indexOf("disk-stopped"));
    expect(after.lastIndexOf("disk")).toBeLessThan(after.lastIndexOf("server"));
  }, 30_000);

  test("a timer fires at OnBootSec and again OnUnitInactiveSec after each run", async () => {
    expect((await sh("systemctl enable --now tick.timer")).status).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 3_600));
    const ticks = (await sh("wc -l < /var/log/ticks")).stdout.trim();
    // At boot + 1 s (past already: at once), then about every second after each run ended.
    expect(Number(ticks)).toBeGreaterThanOrEqual(3);
    expect(Number(ticks)).toBeLessThanOrEqual(5);
    expect((await sh("systemctl show -p SubState --value tick.timer")).stdout).toBe("waiting\n");
  }, 30_000);

  test("a power-off stops units in reverse order by their stop path; the next boot starts what is enabled", async () => {
    await sh(": > /var/log/order; rm -f /var/log/ticks");
    await machine.reboot();
    expect(await machine.booted).toBe("done");
    await machine.systemd.settled();
    // Stopped server first (it is ordered after the disk), then the disk; then booted in order.
    await until("the server's first line", async () => (await order()).includes("server"));
    expect(await order()).toEqual(["server-stopped", "disk-stopped", "disk", "server"]);
    expect((await sh("systemctl is-active server.service tick.timer")).stdout).toBe("active\nactive\n");
  }, 30_000);

  test("a required oneshot that fails keeps its dependent down", async () => {
    await sh("touch /etc/disk-fails; : > /var/log/order");
    await machine.reboot();
    expect(await machine.booted).toBe("done");
    await machine.systemd.settled();
    expect(await order()).toEqual(["server-stopped", "disk-stopped"]);
    expect((await sh("systemctl is-failed disk.service")).stdout).toBe("failed\n");
    expect((await sh("systemctl is-active server.service")).stdout).toBe("inactive\n");
    const start = await sh("systemctl start server.service");
    expect(start.status).toBe(1);
    expect(start.stderr).toBe("A dependency job for server.service failed. See 'journalctl -xe' for details.\n");
    await sh("rm /etc/disk-fails");
    expect((await sh("systemctl start server.service")).status).toBe(0);
    // A simple service's start is done once it is forked (systemd.service(5)): its first line comes after.
    await until("the server's first line", async () => (await order()).includes("server"));
    expect(await order()).toEqual(["server-stopped", "disk-stopped", "disk", "server"]);
  }, 30_000);
});
