/**
 * The AWS provider as the twin carries it out, per type token of the plans. What changes the
 * account (world.ts) and the hosts: EC2 instances are machines booted by cloud-init from their user
 * data; EBS volumes are block devices of their size, attached as NVMe devices in attach order
 * (Nitro's naming); parameters, roles and their inline policies, instance profiles feed the
 * endpoints (IMDS, Systems Manager); Route 53 records become every host's /etc/hosts; a network
 * load balancer's listener forwards to its target group's registered instances by the kernel,
 * with AWS's health-check rules. Everything else the plans declare is kept as the API would keep
 * it (an id, an ARN) and does nothing on the hosts yet: network plumbing (the twin's network routes
 * every host to every other), security groups (not enforced yet), Lambda functions (run by
 * `run-job`). Schedules and snapshots are recorded, not run, and say so.
 */
import { createHash, randomBytes } from "node:crypto";
import { isDeepStrictEqual } from "node:util";
import type { OperationContext, PlanTimeContext, ResourceInput, TwinProvider } from "../engine/provider";
import type { ResourceState } from "../engine/state";
import { cloudInitBoot } from "../host/cloud-init";
import type { Machine } from "../host/machine";
import type { Twin } from "../daemon/twin";
import { parsePolicy } from "./iam";
import {
  ACCOUNT,
  awsId,
  nextAddress,
  type AwsWorld,
  type FunctionRecord,
  type GroupRule,
  type InstanceRecord,
} from "./world";

type Json = Record<string, unknown>;
const GiB = 1024 ** 3;
export const EBS_MODEL = "Amazon Elastic Block Store";

/** What the providers reach beyond the world: the twin, and the hosts' view brought up to date. */
export interface AwsContext {
  world: AwsWorld;
  twin: Twin;
  /** Brings the endpoints, the hosts' records and the forwarders up to the world. */
  sync(): Promise<void>;
  /** The CA bundle a host trusts (this machine's, and the twin endpoints' CA). */
  caBundle(): string;
  /** One invocation of a function with `event` (its input), run as Lambda runs it. */
  invoke(fn: FunctionRecord, event: unknown): Promise<{ status: number; stdout: string; stderr: string; ms: number }>;
}

const text = (value: unknown, what: string): string => {
  if (typeof value !== "string" || value === "")
    throw new Error(`${what} is required (a string); got ${JSON.stringify(value)}`);
  return value;
};
const tagsOf = (inputs: Json): Record<string, string> =>
  Object.fromEntries(Object.entries((inputs.tags ?? {}) as Json).map(([k, v]) => [k, String(v)]));
const hex = (n: number): string => randomBytes(n).toString("hex");
const changed = (before: Json, after: Json, key: string): boolean => !isDeepStrictEqual(before[key], after[key]);

/** A type the twin keeps as the API would (an id and ARN), with nothing to run on the hosts. */
function kept(
  types: string[],
  id: (r: ResourceInput) => string,
  arn?: (id: string, r: ResourceInput) => string,
  notRun?: string,
): TwinProvider {
  return {
    types,
    plan: (r) => {
      const made = id(r);
      return Promise.resolve({ id: made, outputs: arn === undefined ? {} : { arn: arn(made, r) } });
    },
    create: () => Promise.resolve(notRun === undefined ? {} : { notRun }),
    update: () => Promise.resolve(notRun === undefined ? {} : { notRun }),
    delete: () => Promise.resolve(),
  };
}

/** An EC2 ARN maker, reading the region when the ARN is made (the program names it first). */
/**
 * A type the world keeps in one map by its id: the value made from the inputs on create and on
 * update, dropped on delete; each time the hosts' view follows (records, forwarders, endpoints).
 */
function mapped<V>(
  ctx: AwsContext,
  types: string[],
  plan: NonNullable<TwinProvider["plan"]>,
  map: Map<string, V>,
  of: (id: string, inputs: Json) => V,
): TwinProvider {
  return {
    types,
    plan,
    create: async (r) => {
      const id = r.planned?.id ?? r.name;
      map.set(id, of(id, r.inputs));
      await ctx.sync();
      return {};
    },
    update: async (before, after) => {
      map.set(before.id, of(before.id, after.inputs));
      await ctx.sync();
      return {};
    },
    delete: async (r) => {
      map.delete(r.id);
      await ctx.sync();
    },
  };
}

function ec2Arn(world: AwsWorld, kind: string) {
  return (id: string) => `arn:aws:ec2:${world.region}:${ACCOUNT}:${kind}/${id}`;
}

export function awsProviders(ctx: AwsContext): TwinProvider[] {
  return [
    ...networkProviders(ctx.world),
    ...iamProviders(ctx),
    ssmProvider(ctx),
    ...dnsProviders(ctx),
    ...elbProviders(ctx),
    ...targetProviders(ctx),
    ...serverlessProviders(ctx),
    volumeProvider(ctx),
    attachmentProvider(ctx),
    instanceProvider(ctx),
  ];
}

/** A string input, or "" (a value the program left unknown). */
const str = (value: unknown): string => (typeof value === "string" ? value : "");

/** A subnet's CIDR block: the world's, or the plan's for one this `up` creates. */
function subnetCidr(world: AwsWorld, subnetId: string, pc: PlanTimeContext): string {
  return world.subnets.get(subnetId)?.cidr ?? str(pc.byId(subnetId)?.inputs.cidrBlock);
}

function networkProviders(world: AwsWorld): TwinProvider[] {
  return [
    kept(["aws:ec2/vpc:Vpc"], () => awsId("vpc"), ec2Arn(world, "vpc")),
    kept(["aws:ec2/internetGateway:InternetGateway"], () => awsId("igw"), ec2Arn(world, "internet-gateway")),
    kept(["aws:ec2/eip:Eip"], () => awsId("eipalloc"), ec2Arn(world, "elastic-ip")),
    kept(["aws:ec2/natGateway:NatGateway"], () => awsId("nat"), ec2Arn(world, "natgateway")),
    kept(["aws:ec2/routeTable:RouteTable"], () => awsId("rtb"), ec2Arn(world, "route-table")),
    kept(["aws:ec2/route:Route"], (r) => `r-${String(r.inputs.routeTableId)}${String(r.inputs.destinationCidrBlock)}`),
    kept(["aws:ec2/routeTableAssociation:RouteTableAssociation"], () => awsId("rtbassoc")),
    securityGroupProvider(world),
    groupRuleProvider(world, "ingress"),
    groupRuleProvider(world, "egress"),
    kept(["aws:ec2/vpcEndpoint:VpcEndpoint"], () => awsId("vpce"), ec2Arn(world, "vpc-endpoint")),
    {
      types: ["aws:ec2/subnet:Subnet"],
      plan: () => {
        const id = awsId("subnet");
        return Promise.resolve({ id, outputs: { arn: ec2Arn(world, "subnet")(id) } });
      },
      create: (r) => {
        world.subnets.set(r.planned?.id ?? "", {
          cidr: text(r.inputs.cidrBlock, "cidrBlock"),
          az: text(r.inputs.availabilityZone, "availabilityZone"),
          tags: tagsOf(r.inputs),
        });
        return Promise.resolve({});
      },
      update: (before, after) => {
        const s = world.subnets.get(before.id);
        if (s !== undefined) s.tags = tagsOf(after.inputs);
        return Promise.resolve({});
      },
      delete: (r) => {
        const users = [...world.instances.values()].filter((i) => i.subnetId === r.id).map((i) => i.id);
        if (users.length > 0)
          throw new Error(
            `DependencyViolation: The subnet '${r.id}' has dependencies and cannot be deleted (${users.join(", ")})`,
          );
        world.subnets.delete(r.id);
        return Promise.resolve();
      },
    },
  ];
}

function iamProviders(ctx: AwsContext): TwinProvider[] {
  const { world } = ctx;
  return [
    {
      types: ["aws:iam/role:Role"],
      plan: (r) =>
        Promise.resolve({
          id: r.name,
          outputs: {
            name: r.name,
            arn: `arn:aws:iam::${ACCOUNT}:role/${r.name}`,
            uniqueId: `AROA${hex(8).toUpperCase()}`,
          },
        }),
      create: (r) => {
        world.roles.add(r.planned?.id ?? r.name);
        return Promise.resolve({});
      },
      update: () => Promise.resolve({}),
      delete: (r) => {
        world.roles.delete(r.id);
        world.policies.delete(r.id);
        return Promise.resolve();
      },
    },
    {
      types: ["aws:iam/rolePolicy:RolePolicy"],
      plan: (r) => Promise.resolve({ id: `${String(r.inputs.role)}:${r.name}`, outputs: {} }),
      create: async (r) => {
        const role = text(r.inputs.role, "role");
        const policy = text(r.inputs.policy, "policy");
        parsePolicy(policy, r.name);
        const id = r.planned?.id ?? `${role}:${r.name}`;
        const own = world.policies.get(role) ?? new Map<string, string>();
        own.set(id, policy);
        world.policies.set(role, own);
        await ctx.sync();
        return {};
      },
      update: async (before, after) => {
        const policy = text(after.inputs.policy, "policy");
        parsePolicy(policy, after.name);
        world.policies.get(String(before.inputs.role))?.set(before.id, policy);
        await ctx.sync();
        return {};
      },
      delete: async (r) => {
        world.policies.get(String(r.inputs.role))?.delete(r.id);
        await ctx.sync();
      },
    },
    // Managed policies the plans attach go to service roles (Lambda in a VPC, DLM): they grant no
    // parameter, and the twin keeps only their names.
    kept(["aws:iam/rolePolicyAttachment:RolePolicyAttachment"], (r) => `${String(r.inputs.role)}-${hex(8)}`),
    mapped(
      ctx,
      ["aws:iam/instanceProfile:InstanceProfile"],
      (r) =>
        Promise.resolve({
          id: r.name,
          outputs: { name: r.name, arn: `arn:aws:iam::${ACCOUNT}:instance-profile/${r.name}` },
        }),
      world.profiles,
      (_, inputs) => text(inputs.role, "role"),
    ),
  ];
}

function ssmProvider(ctx: AwsContext): TwinProvider {
  const { world } = ctx;
  return {
    types: ["aws:ssm/parameter:Parameter"],
    plan: (r) => {
      const name = text(r.inputs.name, "name");
      return Promise.resolve({
        id: name,
        outputs: { arn: `arn:aws:ssm:${world.region}:${ACCOUNT}:parameter${name}`, tier: "Standard" },
      });
    },
    create: async (r) => {
      const name = text(r.inputs.name, "name");
      if (world.parameters.has(name)) throw new Error(`ParameterAlreadyExists: The parameter ${name} already exists.`);
      world.parameters.set(name, {
        type: parameterType(r.inputs.type),
        value: text(r.inputs.value, `${name}: value`),
        version: 1,
        modified: Date.now() / 1000,
      });
      await ctx.sync();
      return {};
    },
    update: async (before, after) => {
      const old = world.parameters.get(before.id);
      const version = (old?.version ?? 0) + 1;
      world.parameters.set(before.id, {
        type: parameterType(after.inputs.type),
        value: text(after.inputs.value, `${before.id}: value`),
        version,
        modified: Date.now() / 1000,
      });
      await ctx.sync();
      // The version is the store's own (a program that read it would be planned with it unknown).
      return {};
    },
    delete: async (r) => {
      world.parameters.delete(r.id);
      await ctx.sync();
    },
  };
}

function dnsProviders(ctx: AwsContext): TwinProvider[] {
  const { world } = ctx;
  return [
    kept(
      ["aws:route53/zone:Zone"],
      () => `Z${hex(10).toUpperCase().slice(0, 19)}`,
      (id) => `arn:aws:route53:::hostedzone/${id}`,
    ),
    mapped(
      ctx,
      ["aws:route53/record:Record"],
      (r) =>
        Promise.resolve({
          id: `${String(r.inputs.zoneId)}_${String(r.inputs.name)}_${String(r.inputs.type)}`,
          outputs: { fqdn: String(r.inputs.name) },
        }),
      world.records,
      (_, inputs) => recordOf(inputs),
    ),
  ];
}

function elbProviders(ctx: AwsContext): TwinProvider[] {
  const { world } = ctx;
  return [
    {
      types: ["aws:lb/loadBalancer:LoadBalancer"],
      plan: (r, pc) => {
        const subnets = (r.inputs.subnets ?? []) as string[];
        const first = subnets[0] ?? "";
        const cidr = subnetCidr(world, first, pc);
        const { address } = nextAddress(cidr, world.taken);
        world.taken.add(address);
        const name = `${r.name.slice(0, 24)}-${hex(3)}`;
        const id = `arn:aws:elasticloadbalancing:${world.region}:${ACCOUNT}:loadbalancer/net/${name}/${hex(8)}`;
        return Promise.resolve({
          id,
          outputs: {
            arn: id,
            name,
            dnsName: `${name}-${hex(8)}.elb.${world.region}.amazonaws.com`,
            zoneId: "Z2IFOLAFXWLO4F",
            twinAddress: address,
          },
        });
      },
      create: async (r) => {
        const out = r.planned?.outputs ?? {};
        const arn = r.planned?.id ?? "";
        world.loadBalancers.set(arn, {
          arn,
          name: String(out.name),
          address: String(out.twinAddress),
          dnsName: String(out.dnsName),
          groups: ((r.inputs.securityGroups ?? []) as unknown[]).map(String),
        });
        await ctx.sync();
        return {};
      },
      update: () => Promise.resolve({}),
      delete: async (r) => {
        world.loadBalancers.delete(r.id);
        world.taken.delete(String(r.outputs.twinAddress));
        await ctx.sync();
      },
    },
    mapped(
      ctx,
      ["aws:lb/targetGroup:TargetGroup"],
      (r) => {
        const id = `arn:aws:elasticloadbalancing:${world.region}:${ACCOUNT}:targetgroup/${r.name.slice(0, 24)}-${hex(3)}/${hex(8)}`;
        return Promise.resolve({ id, outputs: { arn: id } });
      },
      world.targetGroups,
      targetGroupOf,
    ),
  ];
}

function targetProviders(ctx: AwsContext): TwinProvider[] {
  const { world } = ctx;
  return [
    // Every input of an attachment replaces it: an update never comes.
    mapped(
      ctx,
      ["aws:lb/targetGroupAttachment:TargetGroupAttachment"],
      (r) =>
        Promise.resolve({
          id: `${String(r.inputs.targetGroupArn)}-${String(r.inputs.targetId)}-${hex(4)}`,
          outputs: {},
        }),
      world.attachments,
      (_, inputs) => ({
        targetGroupArn: text(inputs.targetGroupArn, "targetGroupArn"),
        instanceId: text(inputs.targetId, "targetId"),
        port: Number(inputs.port),
      }),
    ),
    mapped(
      ctx,
      ["aws:lb/listener:Listener"],
      () => {
        const id = `arn:aws:elasticloadbalancing:${world.region}:${ACCOUNT}:listener/net/${hex(8)}/${hex(8)}`;
        return Promise.resolve({ id, outputs: { arn: id } });
      },
      world.listeners,
      (_, inputs) => listenerOf(inputs),
    ),
  ];
}

function serverlessProviders(ctx: AwsContext): TwinProvider[] {
  const { world } = ctx;
  return [
    functionProvider(world),
    invocationProvider(ctx),
    kept(["aws:lambda/permission:Permission"], (r) => `${r.name}-${hex(4)}`),
    kept(
      ["aws:cloudwatch/eventRule:EventRule"],
      (r) => r.name,
      (id) => `arn:aws:events:${world.region}:${ACCOUNT}:rule/${id}`,
      "the twin runs no schedule: `run-job` runs the function once, as its schedule would",
    ),
    {
      types: ["aws:cloudwatch/eventTarget:EventTarget"],
      plan: (r) => Promise.resolve({ id: `${str(r.inputs.rule)}-${hex(4)}`, outputs: {} }),
      create: (r) => {
        world.scheduled.set(r.planned?.id ?? "", text(r.inputs.arn, "arn"));
        return Promise.resolve({});
      },
      update: (before, after) => {
        world.scheduled.set(before.id, text(after.inputs.arn, "arn"));
        return Promise.resolve({});
      },
      delete: (r) => {
        world.scheduled.delete(r.id);
        return Promise.resolve();
      },
    },
    kept(
      ["aws:dlm/lifecyclePolicy:LifecyclePolicy"],
      () => `policy-${hex(9).slice(0, 17)}`,
      (id) => `arn:aws:dlm:${world.region}:${ACCOUNT}:policy/${id}`,
      "the twin takes no EBS snapshot: the schedule is recorded, not run",
    ),
  ];
}

/** A function as Lambda keeps it: its code (the plan's archive), role, environment and subnets. */
function functionProvider(world: AwsWorld): TwinProvider {
  const recordOf = (arn: string, r: { name: string; inputs: Json }): FunctionRecord => {
    const code = (r.inputs.code ?? {}) as { assets?: Record<string, { text?: unknown }> };
    const files = Object.fromEntries(
      Object.entries(code.assets ?? {}).flatMap(([k, a]) => (typeof a.text === "string" ? [[k, a.text]] : [])),
    );
    const env = ((r.inputs.environment as Json | undefined)?.variables ?? {}) as Record<string, unknown>;
    const vpc = (r.inputs.vpcConfig ?? {}) as Json;
    return {
      name: r.name,
      arn,
      role: text(r.inputs.role, "role").split("/").pop() ?? "",
      handler: str(r.inputs.handler) || "index.handler",
      timeoutSeconds: Number(r.inputs.timeout ?? 3),
      environment: Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v)])),
      subnetIds: ((vpc.subnetIds ?? []) as unknown[]).map(String),
      groups: ((vpc.securityGroupIds ?? []) as unknown[]).map(String),
      files,
    };
  };
  return {
    types: ["aws:lambda/function:Function"],
    plan: (r) => {
      const arn = `arn:aws:lambda:${world.region}:${ACCOUNT}:function:${r.name}`;
      return Promise.resolve({ id: r.name, outputs: { arn, invokeArn: arn, qualifiedArn: `${arn}:$LATEST` } });
    },
    create: (r) => {
      const arn = `arn:aws:lambda:${world.region}:${ACCOUNT}:function:${r.planned?.id ?? r.name}`;
      world.functions.set(arn, recordOf(arn, r));
      return Promise.resolve({});
    },
    update: (before, after) => {
      const arn = str(before.outputs.arn);
      world.functions.set(arn, recordOf(arn, after));
      return Promise.resolve({});
    },
    delete: (r) => {
      world.functions.delete(str(r.outputs.arn));
      return Promise.resolve();
    },
  };
}

/**
 * `aws:lambda/invocation:Invocation`: the function invoked with the input when the resource is
 * created (every input change replaces it, so a change invokes again), the `pulumi up` held until it
 * returns; a function that fails fails the operation with its error. Deleting it invokes nothing
 * (the provider's default lifecycle scope, CREATE_ONLY).
 */
function invocationProvider(ctx: AwsContext): TwinProvider {
  return {
    types: ["aws:lambda/invocation:Invocation"],
    plan: (r) => Promise.resolve({ id: `${str(r.inputs.functionName)}_$LATEST_${hex(16)}`, outputs: {} }),
    create: async (r, oc) => {
      const name = text(r.inputs.functionName, "functionName");
      const fn = [...ctx.world.functions.values()].find((f) => f.name === name);
      if (fn === undefined) throw new Error(`ResourceNotFoundException: Function not found: ${name}`);
      const result = await ctx.invoke(fn, JSON.parse(text(r.inputs.input, "input")));
      if (result.status !== 0) {
        const why = result.stderr.trim().split("\n").slice(-3).join(" ");
        throw new Error(`Lambda function (${name}) returned error: (${why})`);
      }
      oc.log(`${name} returned in ${(result.ms / 1000).toFixed(1)} s`);
      return { outputs: { result: result.stdout.trim().split("\n").pop() ?? "null" } };
    },
    update: () => Promise.resolve({}),
    delete: () => Promise.resolve(),
  };
}

/** A security group: its rules are separate resources (below); enforced per host in the sandbox. */
function securityGroupProvider(world: AwsWorld): TwinProvider {
  return {
    types: ["aws:ec2/securityGroup:SecurityGroup"],
    plan: () => {
      const id = awsId("sg");
      return Promise.resolve({ id, outputs: { arn: ec2Arn(world, "security-group")(id) } });
    },
    create: (r) => {
      world.groups.set(r.planned?.id ?? "", { ingress: new Map(), egress: new Map() });
      return Promise.resolve({});
    },
    update: () => Promise.resolve({}),
    delete: (r) => {
      world.groups.delete(r.id);
      return Promise.resolve();
    },
  };
}

/** A rule as EC2 keeps it: `-1` every protocol (and port), else a protocol and a port range. */
function groupRuleOf(inputs: Json): GroupRule {
  const protocol = str(inputs.ipProtocol);
  const kind =
    protocol === "-1" ? "all" : protocol === "tcp" || protocol === "udp" || protocol === "icmp" ? protocol : undefined;
  if (kind === undefined) throw new Error(`ipProtocol ${protocol}: the twin enforces tcp, udp, icmp and -1`);
  const peer = str(inputs.cidrIpv4);
  const group = str(inputs.referencedSecurityGroupId);
  if ((peer === "") === (group === "")) throw new Error("a rule names one peer: cidrIpv4 or referencedSecurityGroupId");
  return {
    ...(peer === "" ? {} : { cidr: peer }),
    ...(group === "" ? {} : { group }),
    protocol: kind,
    ...(kind === "tcp" || kind === "udp"
      ? { ports: [Number(inputs.fromPort), Number(inputs.toPort)] as [number, number] }
      : {}),
  };
}

function groupRuleProvider(world: AwsWorld, direction: "ingress" | "egress"): TwinProvider {
  const rulesOf = (group: unknown) => {
    const found = world.groups.get(str(group));
    if (found === undefined)
      throw new Error(`InvalidGroup.NotFound: The security group '${str(group)}' does not exist`);
    return found[direction];
  };
  return {
    types: [
      direction === "ingress"
        ? "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
        : "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule",
    ],
    plan: () => {
      const id = awsId("sgr");
      return Promise.resolve({
        id,
        outputs: { arn: ec2Arn(world, "security-group-rule")(id), securityGroupRuleId: id },
      });
    },
    create: (r) => {
      rulesOf(r.inputs.securityGroupId).set(r.planned?.id ?? "", groupRuleOf(r.inputs));
      return Promise.resolve({});
    },
    update: (before, after) => {
      rulesOf(before.inputs.securityGroupId).set(before.id, groupRuleOf(after.inputs));
      return Promise.resolve({});
    },
    delete: (r) => {
      world.groups.get(str(r.inputs.securityGroupId))?.[direction].delete(r.id);
      return Promise.resolve();
    },
  };
}

function parameterType(value: unknown): "String" | "StringList" | "SecureString" {
  if (value === "String" || value === "StringList" || value === "SecureString") return value;
  throw new Error(`type must be one of String, StringList, SecureString; got ${JSON.stringify(value)}`);
}

function recordOf(inputs: Json): { name: string; type: string; values: string[] } {
  const type = text(inputs.type, "type");
  if (type !== "A" && type !== "CNAME") throw new Error(`the twin's Route 53 serves A and CNAME records; got ${type}`);
  return {
    name: text(inputs.name, "name").replace(/\.$/, ""),
    type,
    values: ((inputs.records ?? []) as unknown[]).map(String),
  };
}

function targetGroupOf(arn: string, inputs: Json) {
  return {
    arn,
    port: Number(inputs.port),
    healthCheck: (inputs.healthCheck ?? {}) as Json,
    // Instance targets over TCP keep the client's address unless told otherwise.
    preserveClientIp: inputs.preserveClientIp !== "false" && inputs.preserveClientIp !== false,
  };
}

function listenerOf(inputs: Json) {
  const action = ((inputs.defaultActions ?? []) as Json[])[0] ?? {};
  if (action.type !== "forward")
    throw new Error(`the twin's listeners forward; got a default action of type ${String(action.type)}`);
  return {
    loadBalancerArn: text(inputs.loadBalancerArn, "loadBalancerArn"),
    port: Number(inputs.port),
    targetGroupArn: text(action.targetGroupArn, "defaultActions[0].targetGroupArn"),
  };
}

// --- EBS ------------------------------------------------------------------------------------------

function volumeProvider(ctx: AwsContext): TwinProvider {
  return {
    types: ["aws:ebs/volume:Volume"],
    plan: () => {
      const id = awsId("vol");
      return Promise.resolve({ id, outputs: { arn: ec2Arn(ctx.world, "volume")(id) } });
    },
    create: (r) => {
      const id = r.planned?.id ?? awsId("vol");
      ctx.twin.volumes.create({
        id,
        sizeBytes: sizeOf(r.inputs),
        model: EBS_MODEL,
        serial: id.replace("-", ""),
        lifetime: "persistent",
      });
      return Promise.resolve({});
    },
    // Elastic Volumes: size, type, IOPS and throughput change in place; a volume never shrinks.
    update: (before, after, oc) => {
      const was = sizeOf(before.inputs);
      const now = sizeOf(after.inputs);
      if (now < was)
        return Promise.reject(
          new Error(
            `InvalidParameterValue: New size cannot be smaller than existing size (${String(was / GiB)} GiB → ${String(now / GiB)} GiB)`,
          ),
        );
      if (now > was) {
        ctx.twin.volumes.resize(before.id, now);
        oc.log(`${before.id}: grown to ${String(now / GiB)} GiB (the file system keeps its size until it is grown)`);
      }
      return Promise.resolve({});
    },
    delete: (r) => ctx.twin.volumes.delete(r.id),
  };
}

function sizeOf(inputs: Json): number {
  const size = Number(inputs.size);
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`size must be a whole number of GiB; got ${JSON.stringify(inputs.size)}`);
  return size * GiB;
}

function attachmentProvider(ctx: AwsContext): TwinProvider {
  return {
    types: ["aws:ec2/volumeAttachment:VolumeAttachment"],
    plan: (r) => {
      const digest = createHash("sha1")
        .update(`${String(r.inputs.deviceName)}${String(r.inputs.instanceId)}${String(r.inputs.volumeId)}`)
        .digest("hex");
      return Promise.resolve({ id: `vai-${digest.slice(0, 10)}`, outputs: {} });
    },
    create: async (r) => {
      const instanceId = text(r.inputs.instanceId, "instanceId");
      const volumeId = text(r.inputs.volumeId, "volumeId");
      if (!ctx.world.instances.has(instanceId))
        throw new Error(`InvalidInstanceID.NotFound: The instance ID '${instanceId}' does not exist`);
      // Nitro names NVMe devices in attach order: the root is nvme0n1.
      const used = new Set(
        ctx.twin.volumes
          .list()
          .filter((v) => v.attached?.host === instanceId)
          .map((v) => v.attached?.device),
      );
      let n = 1;
      while (used.has(`nvme${String(n)}n1`)) n += 1;
      await ctx.twin.volumes.attach(volumeId, instanceId, `nvme${String(n)}n1`);
      return {};
    },
    update: () => Promise.resolve({}),
    delete: (r) => ctx.twin.volumes.detach(String(r.inputs.volumeId)),
  };
}

// --- EC2 ------------------------------------------------------------------------------------------

const hostnameOf = (address: string): string => `ip-${address.replaceAll(".", "-")}`;

/** An instance as the world keeps it, from the plan's inputs. */
function instanceRecord(world: AwsWorld, id: string, address: string, prefix: number, inputs: Json): InstanceRecord {
  const subnetId = text(inputs.subnetId, "subnetId");
  const subnet = world.subnets.get(subnetId);
  if (subnet === undefined) throw new Error(`InvalidSubnetID.NotFound: The subnet ID '${subnetId}' does not exist`);
  const profile = typeof inputs.iamInstanceProfile === "string" ? inputs.iamInstanceProfile : undefined;
  return {
    id,
    address,
    prefix,
    subnetId,
    az: subnet.az,
    instanceType: text(inputs.instanceType, "instanceType"),
    hostname: hostnameOf(address),
    ...(profile === undefined ? {} : { profile }),
    tokensRequired: (inputs.metadataOptions as Json | undefined)?.httpTokens === "required",
    tags: tagsOf(inputs),
    userData: typeof inputs.userData === "string" ? inputs.userData : "",
    groups: ((inputs.vpcSecurityGroupIds ?? []) as unknown[]).map(String),
  };
}

/** Every boot: the image trusts the twin endpoints' CA, then cloud-init runs with the instance's user data. */
function bootOf(ctx: AwsContext, record: InstanceRecord) {
  const cloudInit = cloudInitBoot(() => ({
    userData: record.userData,
    instanceId: record.id,
    hostname: record.hostname,
  }));
  return async (machine: Machine, b: { count: number }) => {
    await machine.writeFile("/etc/ssl/certs/ca-certificates.crt", ctx.caBundle(), "0644");
    await cloudInit(machine, b);
  };
}

function instanceProvider(ctx: AwsContext): TwinProvider {
  const { world, twin } = ctx;
  return {
    types: ["aws:ec2/instance:Instance"],
    plan: (r, pc) => {
      const subnetId = String(r.inputs.subnetId);
      const cidr = subnetCidr(world, subnetId, pc);
      const { address } = nextAddress(cidr, world.taken);
      world.taken.add(address);
      const id = awsId("i");
      return Promise.resolve({
        id,
        outputs: {
          arn: ec2Arn(world, "instance")(id),
          privateIp: address,
          privateDns: `${hostnameOf(address)}.${world.region}.compute.internal`,
          primaryNetworkInterfaceId: awsId("eni"),
          instanceState: "running",
        },
      });
    },
    create: async (r) => {
      const id = r.planned?.id ?? awsId("i");
      const address = String(r.planned?.outputs.privateIp);
      const subnet = world.subnets.get(String(r.inputs.subnetId));
      const prefix = Number(subnet?.cidr.split("/")[1]);
      const record = instanceRecord(world, id, address, prefix, r.inputs);
      world.instances.set(id, record);
      world.taken.add(address);
      await ctx.sync();
      const rootSize = Number((r.inputs.rootBlockDevice as Json | undefined)?.volumeSize ?? 8) * GiB;
      await twin.addMachine({
        name: id,
        address,
        prefix,
        hostname: record.hostname,
        rootDisk: { name: "nvme0n1", partition: "nvme0n1p1", sizeBytes: rootSize, model: EBS_MODEL },
        boot: bootOf(ctx, record),
        packages: ["cloud-init"],
      });
      return {};
    },
    update: async (before: ResourceState, after: ResourceInput, oc: OperationContext) => {
      const old = world.instances.get(before.id);
      if (old === undefined)
        throw new Error(`InvalidInstanceID.NotFound: The instance ID '${before.id}' does not exist`);
      const next = instanceRecord(world, before.id, old.address, old.prefix, after.inputs);
      // The type and the user data change only while the instance is stopped: the provider stops
      // it (an ACPI shutdown, every unit's stop path), changes them, and starts it again.
      const cycle =
        changed(before.inputs, after.inputs, "instanceType") || changed(before.inputs, after.inputs, "userData");
      Object.assign(old, next);
      await ctx.sync();
      if (cycle) {
        const machine = twin.machine(before.id);
        oc.log(
          `${before.id}: stopping to change ${changed(before.inputs, after.inputs, "instanceType") ? `its type to ${next.instanceType}` : "its user data"}`,
        );
        await machine.stop();
        await machine.start();
      }
      return {};
    },
    delete: async (r) => {
      await twin.removeMachine(r.id);
      const gone = world.instances.get(r.id);
      world.instances.delete(r.id);
      if (gone !== undefined) world.taken.delete(gone.address);
      await ctx.sync();
    },
  };
}
