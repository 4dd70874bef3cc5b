import { dataDiskScript, dataDiskUnit, DATA_DISK_SCRIPT } from "../../topology/render/data-disk";
import { STORE_DIR } from "../../topology/render/server-files";
import { verifyUnits } from "../helpers/systemd";
import { shellcheck } from "../helpers/tools";

describe("the JetStream data disk script and unit", () => {
  test.each([
    ["ebs", 1],
    ["instance-store", 1],
    ["instance-store", 2],
  ] as const)("%s × %i: passes shellcheck (POSIX sh)", (kind, disks) => {
    const r = shellcheck(dataDiskScript(kind, disks, STORE_DIR, "nats"), "sh");
    expect(r.out).toBe("");
    expect(r.status).toBe(0);
  });

  test("formats only a blank device, stripes several, and mounts noatime at the store", () => {
    const one = dataDiskScript("instance-store", 1, STORE_DIR, "nats");
    expect(one).toMatch(/if \[ -z "\$\(blkid -o value -s TYPE "\$device" \|\| true\)" \]; then\n {2}mkfs\.xfs/);
    expect(one).toMatch(/mount -o noatime "\$device" "\$mnt"/);
    expect(one).toContain(`mnt='${STORE_DIR}'`);
    expect(dataDiskScript("instance-store", 2, STORE_DIR, "nats")).toMatch(/want=2\n/);
  });

  test("the unit passes `systemd-analyze verify` and runs before nats-server, which requires it", () => {
    const unit = dataDiskUnit(STORE_DIR);
    expect(unit).toMatch(/^Before=nats-server\.service$/m);
    expect(unit).toMatch(/^RequiredBy=nats-server\.service$/m);
    expect(verifyUnits({ "zester-data-disk.service": unit }, [DATA_DISK_SCRIPT])).toEqual({ status: 0, stderr: "" });
  });
});
