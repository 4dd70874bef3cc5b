/**
 * What the AWS twin's account holds between operations, as its API would report it: subnets and
 * the addresses taken in them, instances, instance profiles and roles with their policies, the
 * credentials IMDS issues for a role, parameters, private zone records, load balancers with
 * their target groups, listeners and registered targets. The providers (providers.ts) change it;
 * what the hosts see follows from it (the endpoints' world, /etc/hosts, the forwarders).
 */
import { randomBytes } from "node:crypto";
import type { StoredParameter } from "./endpoint-world";

export const ACCOUNT = "123456789012";

/** An id as AWS shapes one: `prefix-` and 17 hex digits. */
export const awsId = (prefix: string): string => `${prefix}-${randomBytes(9).toString("hex").slice(0, 17)}`;

export interface SubnetRecord {
  cidr: string;
  az: string;
  tags: Record<string, string>;
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
}

export interface LoadBalancerRecord {
  arn: string;
  name: string;
  address: string;
  dnsName: string;
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
