/**
 * Instance type and JetStream volume for a planned server size. Pure: the plan's numbers in,
 * a pick or a SpecError naming the key to change out.
 */
import { SpecError } from "../../sizing/spec";
import type { ServerSize } from "../../sizing/types";
import { CATALOG, FAMILIES, instanceStoreGB, type Arch, type InstanceType } from "./catalog";

/** gp3 and io2 limits (platform-facts.md); gp3's newer 80k figure is unconfirmed, so not used. */
export const GP3 = { includedIops: 3_000, includedMiBps: 125, maxIops: 16_000, maxMiBps: 1_000, iopsPerGiB: 500 };
export const IO2 = { maxIops: 256_000, iopsPerGiB: 1_000 };

export type DataStorage =
  | { kind: "ebs"; volumeType: "gp3"; sizeGiB: number; iops: number; throughputMiBps: number }
  | { kind: "ebs"; volumeType: "io2"; sizeGiB: number; iops: number }
  | { kind: "instance-store"; disks: number; totalGB: number }
  /** Leaf servers keep no JetStream data: the root volume is all they have. */
  | { kind: "none" };

export interface Hardware {
  instance: InstanceType;
  storage: DataStorage;
}

const GIB_IN_GB = 1.073_741_824;

/** The EBS volume that gives `size.diskIops` on `size.jetstreamDiskGiB`, or a SpecError. */
export function ebsVolume(size: ServerSize): DataStorage & { kind: "ebs" } {
  const { jetstreamDiskGiB: sizeGiB, diskIops: iops } = size;
  if (iops <= GP3.maxIops && iops <= sizeGiB * GP3.iopsPerGiB) {
    const wanted = Math.ceil(size.networkMbps / 8);
    const provisioned = Math.max(GP3.includedIops, iops);
    return {
      kind: "ebs",
      volumeType: "gp3",
      sizeGiB,
      iops: provisioned,
      // Enough to take the server's whole planned network rate to disk, at least what gp3
      // includes, at most 0.25 MiB/s per provisioned IOPS.
      throughputMiBps: Math.min(GP3.maxMiBps, provisioned / 4, Math.max(GP3.includedMiBps, wanted)),
    };
  }
  if (iops <= IO2.maxIops && iops <= sizeGiB * IO2.iopsPerGiB) return { kind: "ebs", volumeType: "io2", sizeGiB, iops };
  throw new SpecError([
    {
      path: ["overrides", "server", "diskIops"],
      message: `${String(iops)} IOPS on ${String(sizeGiB)} GiB is beyond every EBS volume type (gp3: ${String(GP3.maxIops)} IOPS and ${String(GP3.iopsPerGiB)} per GiB; io2: ${String(IO2.maxIops)} and ${String(IO2.iopsPerGiB)} per GiB); lower the IOPS, raise jetstreamDiskGiB, or choose an instance family with local NVMe`,
    },
  ]);
}

/**
 * The smallest instance of `family` that holds the server's CPU burst and memory and sustains
 * its disk: enough local NVMe when the family has it, otherwise enough EBS baseline IOPS (the
 * instance's own limit, not only the volume's).
 */
export function pickHardware(
  size: ServerSize,
  family: string,
  arch: Arch,
  opts: { familyKey: (string | number)[]; singleServer: boolean },
): Hardware {
  const sizes = CATALOG.filter((t) => t.family === family);
  const problem = (message: string): SpecError => new SpecError([{ path: opts.familyKey, message }]);
  if (sizes.length === 0)
    throw problem(`"${family}" is not an instance family this project knows; the families are: ${FAMILIES.join(", ")}`);
  const archOf = sizes[0]?.arch;
  if (archOf !== arch)
    throw problem(
      `"${family}" is ${String(archOf)}, but zester:aws.arch is ${arch}; choose one of: ${FAMILIES.filter((f) => CATALOG.some((t) => t.family === f && t.arch === arch)).join(", ")}`,
    );
  const keepsData = size.jetstreamDiskGiB > 0;
  const local = sizes[0]?.instanceStore !== undefined && keepsData;
  if (local && opts.singleServer)
    throw problem(
      `"${family}" keeps JetStream on instance-store NVMe, which loses every byte on stop or terminate; a single server has no replica to recover from: choose a family without local disks`,
    );
  const volume = keepsData && !local ? ebsVolume(size) : undefined;
  const needGB = size.jetstreamDiskGiB * GIB_IN_GB;
  const fits = (t: InstanceType): boolean =>
    t.vcpu >= size.cpuBurstCores &&
    t.memoryGiB * 1024 >= size.memoryMiB &&
    (local ? instanceStoreGB(t) >= needGB : t.ebsBaselineIops >= size.diskIops);
  const instance = sizes.find(fits);
  if (instance === undefined) {
    const largest = sizes[sizes.length - 1];
    throw problem(
      `no "${family}" instance holds ${String(size.cpuBurstCores)} vCPU, ${String(size.memoryMiB / 1024)} GiB and ` +
        (local ? `${String(size.jetstreamDiskGiB)} GiB of local NVMe` : `${String(size.diskIops)} sustained EBS IOPS`) +
        ` (the largest, ${largest?.name ?? family}, has ${String(largest?.vcpu)} vCPU, ${String(largest?.memoryGiB)} GiB, ` +
        (local
          ? `${String(largest === undefined ? 0 : instanceStoreGB(largest))} GB NVMe`
          : `${String(largest?.ebsBaselineIops)} IOPS`) +
        `); choose a larger family`,
    );
  }
  if (local) {
    const store = instance.instanceStore ?? { disks: 0, diskGB: 0 };
    return { instance, storage: { kind: "instance-store", disks: store.disks, totalGB: store.disks * store.diskGB } };
  }
  return { instance, storage: volume ?? { kind: "none" } };
}
