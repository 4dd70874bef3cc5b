/**
 * What the AWS twin's account holds between operations, as its API would report it: subnets and
 * the addresses taken in them, instances, instance profiles and roles with their policies, the
 * credentials IMDS issues for a role, parameters, private zone records, load balancers with
 * their target groups, listeners and registered targets. The providers (providers.ts) change it;
 * what the hosts see follows from it (the endpoints' world, /etc/hosts, the forwarders).
 */
import { randomBytes } from "node:crypto";
import type { HostPolicy, PortRule } from "../host/policy";
import type { StoredParameter } from "./endpoint-world";

export const ACCOUNT = "123456789012";

/** An id as AWS shapes one: `prefix-` and 17 hex digits. */
export const awsId = (prefix: string): string => `${prefix}-${randomBytes(9).toString("hex").slice(0, 17)}`;

export interface SubnetRecord {
  cidr: string;
  az: string;
  tags: Record<string, string>;
}

/** One rule of a security group: its peers by CIDR or by group (the group's members' addresses). */
export interface GroupRule {
  cidr?: string;
  group?: string;
  protocol: "tcp" | "udp" | "icmp" | "all";
  ports?: [number, number];
}

export interface InstanceRecord {
  id: string;
  address: string;
  prefix: number;
  subnetId: string;
  az: string;
  instanceType: string;
  hostname: string;
  profile?: string;
  tokensRequired: boolean;
  tags: Record<string, string>;
  userData: string;
  /** Its security groups. */
  groups: string[];
}

export interface LoadBalancerRecord {
  arn: string;
  name: string;
  address: string;
  dnsName: string;
  groups: string[];
}

export interface TargetGroupRecord {
  arn: string;
  port: number;
  healthCheck: Record<string, unknown>;
  preserveClientIp: boolean;
}

export interface FunctionRecord {
  name: string;
  arn: string;
  /** The execution role's name. */
  role: string;
  handler: string;
  timeoutSeconds: number;
  environment: Record<string, string>;
  subnetIds: string[];
  /** Its VPC config's security groups. */
  groups: string[];
  /** The archive's files, by name (its `index.js`). */
  files: Record<string, string>;
}

export class AwsWorld {
  readonly subnets = new Map<string, SubnetRecord>();
  readonly instances = new Map<string, InstanceRecord>();
  /** Instance profile name → role name. */
  readonly profiles = new Map<string, string>();
  readonly roles = new Set<string>();
  /** Role name → inline policy id → its document's text. */
  readonly policies = new Map<string, Map<string, string>>();
  /** Access key id → the role it is for. */
  readonly credentials = new Map<string, { role: string; secret: string; token: string }>();
  readonly parameters = new Map<string, StoredParameter>();
  /** Record id → name, type and values, as Route 53 keeps them. */
  readonly records = new Map<string, { name: string; type: string; values: string[] }>();
  readonly loadBalancers = new Map<string, LoadBalancerRecord>();
  readonly targetGroups = new Map<string, TargetGroupRecord>();
  /** Attachment id → target group arn, instance id and port. */
  readonly attachments = new Map<string, { targetGroupArn: string; instanceId: string; port: number }>();
  /** Listener arn → load balancer arn, port and the target group it forwards to. */
  readonly listeners = new Map<string, { loadBalancerArn: string; port: number; targetGroupArn: string }>();
  /** Security groups: their ingress and egress rules, by rule id. */
  readonly groups = new Map<string, { ingress: Map<string, GroupRule>; egress: Map<string, GroupRule> }>();
  /** Clients a function runs on while it is invoked (its ENI), with its security groups. */
  readonly functionClients = new Map<string, string[]>();
  /** Lambda functions by ARN. */
  readonly functions = new Map<string, FunctionRecord>();
  /** EventBridge targets: target id → the function ARN a schedule invokes. */
  readonly scheduled = new Map<string, string>();
  /** Addresses handed out (instances, load balancers), also those planned but not yet created. */
  readonly taken = new Set<string>();

  private named: string | undefined;

  /** The stack's region, once its program registered its AWS provider. */
  get region(): string {
    if (this.named === undefined)
      throw new Error("the program used AWS before it registered its AWS provider (no region yet)");
    return this.named;
  }

  /** Sets the region (the provider's); the twin runs one region, so another is an error naming both. */
  useRegion(region: string): void {
    if (region === "") throw new Error("the stack's AWS provider names no region");
    if (this.named !== undefined && this.named !== region)
      throw new Error(
        `the AWS twin runs one region so far (${this.named}); this stack also uses ${region}: a stack of one region only`,
      );
    this.named = region;
  }

  get hasRegion(): boolean {
    return this.named !== undefined;
  }

  /** The role an instance acts as, through its profile. */
  roleOf(instance: InstanceRecord): string | undefined {
    return instance.profile === undefined ? undefined : this.profiles.get(instance.profile);
  }

  /** A role's credentials, made the first time they are asked for. */
  credentialsFor(role: string): string {
    for (const [key, c] of this.credentials) if (c.role === role) return key;
    const key = `ASIA${randomBytes(8).toString("hex").toUpperCase()}`;
    this.credentials.set(key, {
      role,
      secret: randomBytes(30).toString("base64").slice(0, 40),
      token: randomBytes(48).toString("base64"),
    });
    return key;
  }

  /** The addresses of a group's members: instances, load balancers, functions being invoked. */
  private members(group: string): string[] {
    return [
      ...[...this.instances.values()].filter((i) => i.groups.includes(group)).map((i) => i.address),
      ...[...this.loadBalancers.values()].filter((l) => l.groups.includes(group)).map((l) => l.address),
      ...[...this.functionClients].filter(([, groups]) => groups.includes(group)).map(([address]) => address),
    ];
  }

  /**
   * Each member's packet filter, from its security groups: what may reach it and what it may reach
   * (stateful: replies always pass). A rule that names a group admits that group's members; one
   * whose group has no member yet admits nobody. Load balancers are not filtered here (their
   * group applies before the forwarding, which the sandbox does not model): their targets are.
   */
  hostPolicies(): Map<string, HostPolicy> {
    const policies = new Map<string, HostPolicy>();
    const rulesOf = (groups: string[], direction: "ingress" | "egress"): PortRule[] =>
      groups.flatMap((g) =>
        [...(this.groups.get(g)?.[direction].values() ?? [])].flatMap((r): PortRule[] => {
          const cidrs = r.cidr !== undefined ? [r.cidr] : this.members(r.group ?? "").map((a) => `${a}/32`);
          return cidrs.length === 0
            ? []
            : [{ cidrs, protocol: r.protocol, ...(r.ports === undefined ? {} : { ports: r.ports }) }];
        }),
      );
    const filtered: [string, string[]][] = [
      ...[...this.instances.values()].map((i): [string, string[]] => [i.address, i.groups]),
      ...this.functionClients,
    ];
    for (const [address, groups] of filtered)
      if (groups.length > 0)
        policies.set(address, { ingress: rulesOf(groups, "ingress"), egress: rulesOf(groups, "egress") });
    return policies;
  }

  /** The records every host resolves: the zones' A records, CNAMEs followed to addresses. */
  hostRecords(extra: Record<string, string[]>): Record<string, string[]> {
    const byName = new Map<string, string[]>();
    for (const lb of this.loadBalancers.values()) byName.set(lb.dnsName, [lb.address]);
    for (const r of this.records.values()) if (r.type === "A") byName.set(r.name, r.values);
    const resolve = (name: string, depth: number): string[] => {
      const direct = byName.get(name);
      if (direct !== undefined) return direct;
      const alias = [...this.records.values()].find((r) => r.type === "CNAME" && r.name === name);
      if (alias === undefined || depth > 8) return [];
      return alias.values.flatMap((v) => resolve(v.replace(/\.$/, ""), depth + 1));
    };
    const out: Record<string, string[]> = { ...extra };
    for (const [name, values] of byName) out[name] = values;
    for (const r of this.records.values()) if (r.type === "CNAME") out[r.name] = resolve(r.name, 0);
    return Object.fromEntries(Object.entries(out).filter(([, v]) => v.length > 0));
  }
}

/** The first free address of `cidr` for an interface: AWS keeps the first four and the last. */
export function nextAddress(cidr: string, taken: ReadonlySet<string>): { address: string; prefix: number } {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const prefix = Number(m?.[5]);
  if (m === null || prefix < 16 || prefix > 28)
    throw new Error(`subnet ${cidr}: not an IPv4 CIDR block from /16 to /28 (what a VPC subnet may be)`);
  const base = m.slice(1, 5).reduce((n, octet) => n * 256 + Number(octet), 0);
  const size = 2 ** (32 - prefix);
  const network = base - (base % size);
  const text = (n: number) => [24, 16, 8, 0].map((shift) => String(Math.floor(n / 2 ** shift) % 256)).join(".");
  for (let n = network + 4; n < network + size - 1; n++) if (!taken.has(text(n))) return { address: text(n), prefix };
  throw new Error(`InsufficientFreeAddressesInSubnet: no free address left in ${cidr}`);
}
