/**
 * Where every piece of a topology goes on AWS, as plain data: regions and their networks, each
 * server's AZ, subnet, instance type and volume, the security rules, the load balancer and the
 * DNS names. Pure, so a preview, a test and `pulumi up` see the same placement, and every
 * problem is found before anything is created.
 */
import { SpecError, type Problem } from "../../sizing/spec";
import type { RegionPlan, ServerSize } from "../../sizing/types";
import { STANDARD_PORTS } from "../../topology/build";
import type { Role, Topology, TopologyServer } from "../../topology/types";
import { defaultFamily, type Arch } from "./catalog";
import { pickHardware, type Hardware } from "./hardware";
import { parseCidr } from "../cidr";
import type { AwsTarget, Network, Subnet } from "./settings";

/** A subnet this project creates (by logical name) or the operator's (by id), with its AZ. */
export type SubnetRef = { key: string; az: string } | { id: string; az: string };

export interface NewSubnet {
  key: string;
  cidr: string;
  az: string;
  /** Leaf site the subnet is for; core subnets have none. */
  site?: string;
}

export type VpcLayout =
  | {
      kind: "new";
      cidr: string;
      azs: string[];
      subnets: NewSubnet[];
      /** The NAT gateway's public subnet, when servers need one to download their binaries. */
      natSubnet?: NewSubnet;
    }
  | { kind: "existing"; vpcId: string; cidr?: undefined };

export interface ServerLayout {
  name: string;
  role: TopologyServer["role"];
  site?: string;
  host: string;
  az: string;
  subnet: SubnetRef;
  hardware: Hardware;
}

export type Source = { cidr: string } | { group: SecurityGroupName };
export type SecurityGroupName = Role | "nlb" | "reconcile" | "canary";

export interface IngressRule {
  group: SecurityGroupName;
  port: number;
  from: Source;
  description: string;
}

export interface RegionLayout {
  /** The Zester region (`main`, `region-1`, …) and the AWS region it is built in. */
  name: string;
  awsRegion: string;
  /** Prefix of every resource name of the region; empty below the supercluster tier. */
  prefix: string;
  vpc: VpcLayout;
  coreSubnets: SubnetRef[];
  ami?: string;
  servers: ServerLayout[];
  /** Security groups the region needs, and their ingress rules (no rule opens anything else). */
  groups: SecurityGroupName[];
  ingress: IngressRule[];
  /** Supercluster regions other than the hub: peer the new VPC with the hub's. */
  peerWithHub: boolean;
}

export interface AwsLayout {
  arch: Arch;
  dnsZone: string;
  regions: RegionLayout[];
  /** EBS-backed JetStream volumes exist, so Data Lifecycle Manager snapshots them. */
  ebsBackups: boolean;
}

const FIRST_DEFAULT_OCTET = 42;

const ipv4 = (n: number): string => [24, 16, 8, 0].map((s) => String(Math.floor(n / 2 ** s) % 256)).join(".");

/** The `index`-th subnet of `bits` more prefix bits inside `cidr`. */
export function carve(cidr: string, bits: number, index: number): string {
  const parsed = parseCidr(cidr);
  if (parsed === undefined) throw new Error(`not a CIDR: ${cidr}`);
  const prefix = parsed.prefix + bits;
  return `${ipv4(parsed.base + index * 2 ** (32 - prefix))}/${String(prefix)}`;
}

function overlaps(a: string, b: string): boolean {
  const [x, y] = [parseCidr(a), parseCidr(b)];
  if (x === undefined || y === undefined) return false;
  const prefix = Math.min(x.prefix, y.prefix);
  const size = 2 ** (32 - prefix);
  return Math.floor(x.base / size) === Math.floor(y.base / size);
}

/** The AZs servers go to in order: the first `count` servers land in different zones. */
function spread(subnets: SubnetRef[], count: number): SubnetRef[] {
  const byAz = new Map<string, SubnetRef>();
  for (const s of subnets) if (!byAz.has(s.az)) byAz.set(s.az, s);
  const zones = [...byAz.values()];
  return Array.from({ length: count }, (_, i) => zones[i % zones.length] as SubnetRef);
}

const distinctAzs = (subnets: SubnetRef[]): string[] => [...new Set(subnets.map((s) => s.az))];

/** 1-1-1 for three servers, 2-2-1 for five: a cluster of n needs min(n, 3) zones. */
export const zonesNeeded = (servers: number): number => Math.min(servers, 3);

/** One rule per source: `group` accepts `port` from each. */
const allow = (group: SecurityGroupName, port: number, sources: Source[], description: string): IngressRule[] =>
  sources.map((from) => ({ group, port, from, description }));

const isWorld = (c: string): boolean => parseCidr(c)?.prefix === 0;

type Path = Problem["path"];

/** What the tier's servers run on; undefined where a problem was found instead. */
interface TierHardware {
  core: Hardware | undefined;
  leaf: Hardware | undefined;
}

/** A VPC range a region claims: regions are peered, so no two may overlap. */
interface CidrClaim {
  cidr: string;
  path: Path;
}

/**
 * Places a topology on AWS, or throws a SpecError listing every problem found. Reads as its
 * steps: settings that only the plan can check, the hardware, each region, then what spans regions.
 */
export function awsLayout(t: Topology, s: AwsTarget): AwsLayout {
  const problems: Problem[] = [];
  checkNamedThings(t, s, problems);
  checkExposure(s, problems);
  if (s.peelCanaries > 0 && s.zesterPeel === undefined)
    problems.push({
      path: ["aws", "zesterPeel"],
      message: `is required with peelCanaries (${String(s.peelCanaries)}): { url, sha256 } of the zester-peel binary the canary hosts run`,
    });
  const hardware = tierHardware(t, s, problems);
  const cidrs: CidrClaim[] = [];
  const regions = t.plan.regions.flatMap((region, index) => {
    const placed = regionLayout(t, s, { region, index, hardware }, problems, cidrs);
    return placed === undefined ? [] : [placed];
  });
  checkPeering(regions, t.plan.regions[0]?.name ?? "", cidrs, problems);
  if (problems.length > 0) throw new SpecError(problems);
  return {
    arch: s.arch,
    dnsZone: s.dnsZone,
    regions,
    ebsBackups: regions.some((r) => r.servers.some((x) => x.hardware.storage.kind === "ebs")),
  };
}

/** Regions and leaf sites named in the settings must be the plan's. */
function checkNamedThings(t: Topology, s: AwsTarget, problems: Problem[]): void {
  const plan = t.plan;
  const hub = plan.regions[0]?.name ?? "";
  const knownRegions = new Set(plan.regions.map((r) => r.name));
  for (const name of Object.keys(s.regions ?? {})) {
    if (name === hub)
      problems.push({
        path: ["aws", "regions", name],
        message: `is the first region: it is built in zester:aws.region with zester:aws.network`,
      });
    else if (!knownRegions.has(name))
      problems.push({
        path: ["aws", "regions", name],
        message: `is not a region of this plan; its regions are: ${[...knownRegions].join(", ")}`,
      });
  }
  const sites = new Set(plan.leafSites.map((x) => x.name));
  for (const name of Object.keys(s.leafSites ?? {}))
    if (!sites.has(name))
      problems.push({
        path: ["aws", "leafSites", name],
        message: `is not a leaf site of this plan; its sites are: ${sites.size === 0 ? "(none)" : [...sites].join(", ")}`,
      });
}

/** A CIDR open to the whole internet needs a second "yes"; a "yes" with no such CIDR is a mistake. */
function checkExposure(s: AwsTarget, problems: Problem[]): void {
  for (const [key, list] of [
    ["peelCidrs", s.peelCidrs ?? []],
    ["monitoringCidrs", s.monitoringCidrs],
  ] as const)
    list.forEach((c, i) => {
      if (isWorld(c) && !s.openToTheWorld)
        problems.push({
          path: ["aws", key, i],
          message: `${c} opens the port to the whole internet; if that is what you mean, also set zester:aws.openToTheWorld to true`,
        });
    });
  const anyWorld = [...(s.peelCidrs ?? []), ...s.monitoringCidrs].some(isWorld);
  if (s.openToTheWorld && !anyWorld)
    problems.push({
      path: ["aws", "openToTheWorld"],
      message: "is true, but no CIDR in peelCidrs or monitoringCidrs is 0.0.0.0/0: remove it",
    });
}

function tierHardware(t: Topology, s: AwsTarget, problems: Problem[]): TierHardware {
  const plan = t.plan;
  const leafSize = plan.leafNode?.server ?? plan.server;
  const pick = (size: ServerSize, family: string, familyKey: Path, singleServer: boolean): Hardware | undefined => {
    try {
      return pickHardware(size, family, s.arch, { familyKey, singleServer });
    } catch (error) {
      if (!(error instanceof SpecError)) throw error;
      problems.push(...error.problems);
      return undefined;
    }
  };
  return {
    core: pick(
      plan.server,
      s.instanceFamily ?? defaultFamily(s.arch, plan.tier, plan.server),
      ["aws", "instanceFamily"],
      plan.serversPerCluster === 1,
    ),
    leaf:
      plan.leafSites.length > 0
        ? pick(
            leafSize,
            s.leafInstanceFamily ?? defaultFamily(s.arch, "leaf-node", leafSize),
            ["aws", "leafInstanceFamily"],
            false,
          )
        : undefined,
  };
}

interface RegionInput {
  region: RegionPlan;
  index: number;
  hardware: TierHardware;
}

/** One region: its network, where each of its servers goes, and who may reach which port. */
function regionLayout(
  t: Topology,
  s: AwsTarget,
  { region, index, hardware }: RegionInput,
  problems: Problem[],
  cidrs: CidrClaim[],
): RegionLayout | undefined {
  const isHub = index === 0;
  const entry = isHub ? { region: s.region, network: s.network } : s.regions?.[region.name];
  if (entry === undefined) {
    problems.push({
      path: ["aws", "regions", region.name, "region"],
      message: `is required: the AWS region that Zester region "${region.name}" is built in`,
    });
    return undefined;
  }
  const network: Network = entry.network ?? {};
  const netPath: Path = [...(isHub ? ["aws"] : ["aws", "regions", region.name]), "network"];
  // The first region keeps its unprefixed names when the fleet grows into a supercluster.
  const prefix = isHub ? "" : `${region.name}-`;
  const siteNames = t.plan.leafSites.filter((x) => x.region === region.name).map((x) => x.name);
  const placed =
    network.vpcId === undefined
      ? newVpc(s, { network, awsRegion: entry.region, prefix, index, siteNames }, problems)
      : existingVpc(s, network.vpcId, network.subnets ?? [], siteNames, problems);
  if (placed.vpc.kind === "new") cidrs.push({ cidr: placed.vpc.cidr, path: [...netPath, "vpcCidr"] });

  const coreNames = t.clusters.find((c) => c.region === region.name)?.servers ?? [];
  const zones = distinctAzs(placed.coreSubnets);
  if (zones.length < zonesNeeded(coreNames.length))
    problems.push({
      path: [...netPath, "subnets"],
      message: `a ${String(coreNames.length)}-server cluster spreads over ${String(zonesNeeded(coreNames.length))} availability zones (${coreNames.length >= 5 ? "2-2-1" : "1-1-1"}), but these subnets cover ${String(zones.length)} (${zones.join(", ")}): add subnets in other zones`,
    });
  const servers = [
    ...place(t, coreNames, placed.coreSubnets, hardware.core),
    ...t.leafSites
      .filter((x) => x.region === region.name)
      .flatMap((site) => place(t, site.servers, placed.siteSubnets.get(site.name) ?? [], hardware.leaf)),
  ];
  const hasLeafs = siteNames.length > 0;
  const canaries = s.peelCanaries > 0;
  return {
    name: region.name,
    awsRegion: entry.region,
    prefix,
    vpc: placed.vpc,
    coreSubnets: placed.coreSubnets,
    ...(network.ami === undefined ? {} : { ami: network.ami }),
    servers,
    groups: [
      "core",
      "nlb",
      "reconcile",
      ...(canaries ? (["canary"] as const) : []),
      ...(hasLeafs ? (["leaf"] as const) : []),
    ],
    ingress: ingressRules(s, placed.vpc, { hasLeafs, clustered: coreNames.length > 1, canaries }),
    peerWithHub: !isHub && t.regionLinks.length > 0,
  };
}

interface PlacedNetwork {
  vpc: VpcLayout;
  coreSubnets: SubnetRef[];
  siteSubnets: Map<string, SubnetRef[]>;
}

/** The operator's VPC: its subnets as given; leaf sites and peel CIDRs must be given too. */
function existingVpc(
  s: AwsTarget,
  vpcId: string,
  subnets: Subnet[],
  siteNames: string[],
  problems: Problem[],
): PlacedNetwork {
  const siteSubnets = new Map<string, SubnetRef[]>();
  for (const site of siteNames) {
    const given = s.leafSites?.[site]?.subnets;
    if (given === undefined)
      problems.push({
        path: ["aws", "leafSites", site, "subnets"],
        message: `is required with the operator's VPC (${vpcId}): the subnets leaf site "${site}" runs in`,
      });
    else
      siteSubnets.set(
        site,
        given.map((x) => ({ id: x.id, az: x.az })),
      );
  }
  if (s.peelCidrs === undefined)
    problems.push({
      path: ["aws", "peelCidrs"],
      message: `is required with the operator's VPC (${vpcId}): the CIDRs peels connect from (nothing is opened by default)`,
    });
  return {
    vpc: { kind: "existing", vpcId },
    coreSubnets: subnets.map((x) => ({ id: x.id, az: x.az })),
    siteSubnets,
  };
}

interface NewVpcInput {
  network: Network;
  awsRegion: string;
  prefix: string;
  index: number;
  siteNames: string[];
}

/** A VPC this project creates: a private subnet per zone, subnets per leaf site, a NAT subnet. */
function newVpc(
  s: AwsTarget,
  { network, awsRegion, prefix, index, siteNames }: NewVpcInput,
  problems: Problem[],
): PlacedNetwork {
  const cidr = network.vpcCidr ?? `10.${String(FIRST_DEFAULT_OCTET + index)}.0.0/16`;
  const azs = network.availabilityZones ?? ["a", "b", "c"].map((z) => `${awsRegion}${z}`);
  const subnets: NewSubnet[] = azs.map((az, i) => ({
    key: `${prefix}private-${String(i)}`,
    cidr: carve(cidr, 4, i),
    az,
  }));
  if (siteNames.length > 15)
    problems.push({
      path: ["leafSites"],
      message: "at most 15 leaf sites fit the subnets of a VPC this project creates",
    });
  const siteSubnets = new Map<string, SubnetRef[]>();
  siteNames.forEach((site, j) => {
    const own = s.leafSites?.[site]?.subnets;
    if (own !== undefined) {
      siteSubnets.set(
        site,
        own.map((x) => ({ id: x.id, az: x.az })),
      );
      return;
    }
    const made = azs.map((az, i) => ({
      key: `${prefix}site-${site}-${String(i)}`,
      cidr: carve(cidr, 6, 16 + 3 * j + i),
      az,
      site,
    }));
    subnets.push(...made);
    siteSubnets.set(
      site,
      made.map((m) => ({ key: m.key, az: m.az })),
    );
  });
  const natGateway = network.natGateway ?? true;
  return {
    vpc: {
      kind: "new",
      cidr,
      azs,
      subnets,
      ...(natGateway ? { natSubnet: { key: `${prefix}public-nat`, cidr: carve(cidr, 6, 63), az: azs[0] ?? "" } } : {}),
    },
    coreSubnets: subnets.filter((x) => x.site === undefined).map((x) => ({ key: x.key, az: x.az })),
    siteSubnets,
  };
}

/** Servers in order over the subnets' zones: the first ones land in different zones. */
function place(t: Topology, names: string[], subnets: SubnetRef[], hardware: Hardware | undefined): ServerLayout[] {
  if (hardware === undefined || subnets.length === 0) return [];
  const spots = spread(subnets, names.length);
  return names.flatMap((name, i) => {
    const server = t.servers.find((x) => x.name === name);
    const spot = spots[i];
    if (server === undefined || spot === undefined) return [];
    return [
      {
        name,
        role: server.role,
        ...(server.site === undefined ? {} : { site: server.site }),
        host: server.host,
        az: spot.az,
        subnet: spot,
        hardware,
      },
    ];
  });
}

/** Who may reach which port: nothing else is opened (egress aside). */
function ingressRules(
  s: AwsTarget,
  vpc: VpcLayout,
  has: { hasLeafs: boolean; clustered: boolean; canaries: boolean },
): IngressRule[] {
  const peelSources: Source[] =
    s.peelCidrs !== undefined ? s.peelCidrs.map((cidr) => ({ cidr })) : vpc.kind === "new" ? [{ cidr: vpc.cidr }] : [];
  const monitorSources: Source[] = s.monitoringCidrs.map((cidr) => ({ cidr }));
  const { hasLeafs, clustered, canaries } = has;
  return [
    ...allow("nlb", STANDARD_PORTS.client, peelSources, "peels to the load balancer"),
    ...allow("core", STANDARD_PORTS.client, peelSources, "peels straight to a server"),
    ...allow("core", STANDARD_PORTS.client, [{ group: "nlb" }], "the load balancer to servers"),
    ...allow("core", STANDARD_PORTS.client, [{ group: "reconcile" }], "the KV reconcile"),
    ...allow("core", STANDARD_PORTS.client, canaries ? [{ group: "canary" }] : [], "canary peels"),
    ...allow("core", STANDARD_PORTS.cluster, clustered ? [{ group: "core" }] : [], "cluster routes between servers"),
    ...allow("core", STANDARD_PORTS.leafnode, hasLeafs ? [{ group: "leaf" }] : [], "leaf servers to their hub"),
    ...allow("core", STANDARD_PORTS.monitor, monitorSources, "monitoring"),
    // /healthz: peers' agents take turns restarting, a rollout waits for it, the NLB checks it.
    ...allow(
      "core",
      STANDARD_PORTS.monitor,
      [{ group: "core" }, { group: "reconcile" }, { group: "nlb" }],
      "health checks",
    ),
    ...allow("leaf", STANDARD_PORTS.client, hasLeafs ? peelSources : [], "peels to a leaf server"),
    ...allow("leaf", STANDARD_PORTS.client, hasLeafs && canaries ? [{ group: "canary" }] : [], "canary peels"),
    ...allow("leaf", STANDARD_PORTS.monitor, hasLeafs ? monitorSources : [], "monitoring"),
    ...allow(
      "leaf",
      STANDARD_PORTS.monitor,
      hasLeafs ? [{ group: "leaf" }, { group: "reconcile" }] : [],
      "health checks",
    ),
  ];
}

/** Regions link over VPC peering: distinct ranges, VPCs this project creates, the hub open to them on 7422. */
function checkPeering(regions: RegionLayout[], hub: string, cidrs: CidrClaim[], problems: Problem[]): void {
  cidrs.forEach((a, i) => {
    for (const b of cidrs.slice(0, i))
      if (overlaps(a.cidr, b.cidr))
        problems.push({
          path: a.path,
          message: `${a.cidr} overlaps ${b.cidr} of another region; peered VPCs need distinct ranges`,
        });
  });
  const hubLayout = regions.find((r) => r.name === hub);
  for (const r of regions)
    if (r !== hubLayout && r.peerWithHub) {
      if (r.vpc.kind === "new" && hubLayout !== undefined)
        hubLayout.ingress.push(
          ...allow("core", STANDARD_PORTS.leafnode, [{ cidr: r.vpc.cidr }], `region ${r.name} to the hub`),
        );
      if (r.vpc.kind === "existing" || hubLayout?.vpc.kind === "existing")
        problems.push({
          path: ["aws", "regions", r.name, "network"],
          message:
            "a supercluster links regions over VPC peering between VPCs this project creates; with the operator's VPCs, leave network out or connect them yourself and ask for this to be supported",
        });
    }
}
