/**
 * The EC2 instance types the AWS target picks from, as data. Pure: no Pulumi, no I/O.
 *
 * Sources: ../shared/reference/platform-facts.md for the per-instance EBS IOPS limits of
 * c6i/m6i/c7g/m7g (and their `d` variants) and the NVMe sizes it names (c6id.4xlarge 950 GB,
 * c6id.8xlarge 1,900 GB, c6id.12xlarge 2,850 GB, im4gn.4xlarge 7,500 GB). Rows marked
 * `confirmed: false` come from AWS's instance pages as read by the authors and were not
 * cross-checked; they are used, but the plan output says so.
 */

export const ARCHES = ["x86", "arm64"] as const;
export type Arch = (typeof ARCHES)[number];

export interface InstanceType {
  name: string;
  family: string;
  arch: Arch;
  vcpu: number;
  memoryGiB: number;
  /** EBS IOPS the instance sustains; the higher "up to" figure is a 30-minute burst only. */
  ebsBaselineIops: number;
  /** Instance-store NVMe disks (GB, decimal, as AWS states them); lost on stop or terminate. */
  instanceStore?: { disks: number; diskGB: number };
  /** T family: CPU above the baseline is billed credits (launched in unlimited mode). */
  burstable: boolean;
  confirmed: boolean;
}

/** Sizes from `large` up: vCPU, and the EBS baseline IOPS platform-facts.md gives for them. */
const NITRO_SIZES = [
  { size: "large", vcpu: 2, ebs: 3_600 },
  { size: "xlarge", vcpu: 4, ebs: 6_000 },
  { size: "2xlarge", vcpu: 8, ebs: 12_000 },
  { size: "4xlarge", vcpu: 16, ebs: 20_000 },
  { size: "8xlarge", vcpu: 32, ebs: 40_000 },
  { size: "12xlarge", vcpu: 48, ebs: 60_000 },
  { size: "16xlarge", vcpu: 64, ebs: 80_000 },
] as const;

/** NVMe of the 6th/7th-generation `d` families by size (c6id.4xlarge 950 GB … 12xlarge 2 × 1,425). */
const D_STORE: Record<string, { disks: number; diskGB: number }> = {
  large: { disks: 1, diskGB: 118 },
  xlarge: { disks: 1, diskGB: 237 },
  "2xlarge": { disks: 1, diskGB: 474 },
  "4xlarge": { disks: 1, diskGB: 950 },
  "8xlarge": { disks: 1, diskGB: 1_900 },
  "12xlarge": { disks: 2, diskGB: 1_425 },
  "16xlarge": { disks: 2, diskGB: 1_900 },
};

function nitroFamily(family: string, arch: Arch, gibPerVcpu: number, withStore: boolean): InstanceType[] {
  return NITRO_SIZES.map(({ size, vcpu, ebs }) => ({
    name: `${family}.${size}`,
    family,
    arch,
    vcpu,
    memoryGiB: vcpu * gibPerVcpu,
    ebsBaselineIops: ebs,
    ...(withStore ? { instanceStore: D_STORE[size] } : {}),
    burstable: false,
    confirmed: size !== "large" || !withStore,
  }));
}

/** T3/T4g: 2 vCPU up to large; EBS baselines not in platform-facts.md (confirmed: false). */
function burstableFamily(family: string, arch: Arch): InstanceType[] {
  const sizes = [
    { size: "micro", vcpu: 2, mem: 1, ebs: 500 },
    { size: "small", vcpu: 2, mem: 2, ebs: 1_000 },
    { size: "medium", vcpu: 2, mem: 4, ebs: 2_000 },
    { size: "large", vcpu: 2, mem: 8, ebs: 4_000 },
    { size: "xlarge", vcpu: 4, mem: 16, ebs: 4_000 },
    { size: "2xlarge", vcpu: 8, mem: 32, ebs: 8_000 },
  ];
  return sizes.map((s) => ({
    name: `${family}.${s.size}`,
    family,
    arch,
    vcpu: s.vcpu,
    memoryGiB: s.mem,
    ebsBaselineIops: s.ebs,
    burstable: true,
    confirmed: false,
  }));
}

export const CATALOG: readonly InstanceType[] = [
  ...burstableFamily("t3", "x86"),
  ...burstableFamily("t4g", "arm64"),
  ...nitroFamily("c6i", "x86", 2, false),
  ...nitroFamily("m6i", "x86", 4, false),
  ...nitroFamily("c7g", "arm64", 2, false),
  ...nitroFamily("m7g", "arm64", 4, false),
  ...nitroFamily("c6id", "x86", 2, true),
  ...nitroFamily("m6id", "x86", 4, true),
  ...nitroFamily("c7gd", "arm64", 2, true),
  ...nitroFamily("m7gd", "arm64", 4, true),
  {
    name: "im4gn.4xlarge",
    family: "im4gn",
    arch: "arm64",
    vcpu: 16,
    memoryGiB: 64,
    ebsBaselineIops: 20_000,
    instanceStore: { disks: 1, diskGB: 7_500 },
    burstable: false,
    confirmed: false,
  },
];

export const FAMILIES: readonly string[] = [...new Set(CATALOG.map((t) => t.family))];

/**
 * The family a server gets unless the operator names one (platform-facts.md's candidates):
 * burstable for the smallest tier; compute-optimised with EBS while the instance size the CPU
 * and memory call for sustains the planned IOPS on EBS; local NVMe (`d` family) only beyond
 * that (the leaf and supercluster tiers' 50,000 IOPS), where EBS would need a 12xlarge.
 * Keeping EBS up to cluster-5 also means a 3 → 5 tier change keeps every server's data volume.
 */
export function defaultFamily(
  arch: Arch,
  tier: string,
  need: { cpuBurstCores: number; memoryMiB: number; diskIops: number },
): string {
  if (tier === "single-small") return arch === "x86" ? "t3" : "t4g";
  const ebs = arch === "x86" ? "c6i" : "c7g";
  const fitting = CATALOG.find(
    (t) => t.family === ebs && t.vcpu >= need.cpuBurstCores && t.memoryGiB * 1024 >= need.memoryMiB,
  );
  if (fitting === undefined || fitting.ebsBaselineIops >= need.diskIops) return ebs;
  return arch === "x86" ? "c6id" : "c7gd";
}

export const instanceStoreGB = (t: InstanceType): number =>
  t.instanceStore === undefined ? 0 : t.instanceStore.disks * t.instanceStore.diskGB;
