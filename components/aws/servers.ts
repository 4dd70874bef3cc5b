/**
 * The servers of one region: an instance each, its JetStream volume, its DNS name, and the
 * configuration its agent applies (parameters under its own path, readable by its own instance
 * profile only). The user data only installs the agent, so a change of configuration never stops
 * an instance; a change of instance type does (a stop and a start), one server after another,
 * each waiting until that server and its peers are healthy again (a Lambda invocation that polls
 * their /healthz) before the next one stops.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { LEGACY_HOST } from "../../change/deployment";
import { renderBootstrap } from "../../topology/render/bootstrap";
import { monitorUrl } from "../../topology/types";
import type { Children } from "../children";
import type { Deferred } from "../deferred";
import type { AwsLayout, RegionLayout, ServerLayout } from "./layout";
import { serverParameters, serverProfile } from "./parameters";
import { securityGroup, type RegionScope, type ServersArgs } from "./scope";
import { peersOf } from "./server-config";
import { parameterPath } from "./target";

/** Official Debian images are published by this AWS account. */
export const DEBIAN_AMI_OWNER = "136693071363";
const DATA_DEVICE = "/dev/sdf";
const ROOT_VOLUME_GIB = 20;
/** How long a rollout waits for a server that stopped and started to be healthy again. */
export const HEALTHY_WITHIN_SECONDS = 840;

export interface ServerOutput {
  name: string;
  role: string;
  region: string;
  awsRegion: string;
  az: string;
  instanceType: string;
  dnsName: string;
  volume: string;
}

/** The region's image: the operator's, or the newest official Debian 12, read at launch only. */
export function regionAmi(
  children: Children,
  region: RegionScope,
  args: { arch: AwsLayout["arch"]; deferred: Deferred },
): pulumi.Input<string> {
  const { r, o } = region;
  if (r.ami !== undefined) return args.deferred.input(r.ami);
  return aws.ec2.getAmiOutput(
    {
      owners: [DEBIAN_AMI_OWNER],
      mostRecent: true,
      filters: [{ name: "name", values: [`debian-12-${args.arch === "x86" ? "amd64" : "arm64"}-*`] }],
    },
    { parent: children.parent, ...(o.provider === undefined ? {} : { provider: o.provider }) },
  ).id;
}

export interface RegionServers {
  instances: Map<string, aws.ec2.Instance>;
}

/** A region's servers, with what they share in the region. */
export interface RegionServersArgs extends ServersArgs {
  ami: pulumi.Input<string>;
  /** The private zone the servers are named in, and the options of a resource in its (the hub's) region. */
  zone: aws.route53.Zone;
  hubOpts: pulumi.CustomResourceOptions;
  /** The region's job function: a rollout invokes its health gate between servers. */
  healthGate: aws.lambda.Function;
}

export function createServers(children: Children, region: RegionScope, args: RegionServersArgs): RegionServers {
  const { zone, healthGate } = args;
  const instances = new Map<string, aws.ec2.Instance>();
  // Each server waits for the one before it: a type change stops one instance at a time.
  let before: pulumi.Resource | undefined;
  for (const server of region.r.servers) {
    const profile = serverProfile(children, region, server, {
      ids: args.ids,
      sessionManager: args.settings.ssmAgent !== undefined,
    });
    const instance = createInstance(children, region, server, { ...args, profile, before });
    serverParameters(children, region, server, instance.privateIp, args);
    instances.set(server.name, instance);
    before = waitUntilHealthy(children, region, server, { ...args, instance, healthGate }) ?? instance;
    if (server.hardware.storage.kind === "ebs") attachVolume(children, region, server, { ...args, instance });
    children.make(server.name, args.hubOpts, (name, opts) => {
      return new aws.route53.Record(
        name,
        { zoneId: zone.zoneId, name: server.host, type: "A", ttl: 60, records: [instance.privateIp] },
        opts,
      );
    });
  }
  return { instances };
}

function serverTags(children: Children, server: ServerLayout, stackId: string): Record<string, string> {
  return children.tags({
    Name: children.label(server.name),
    "zester:server": server.name,
    "zester:role": server.role,
    "zester:az": server.az,
    "zester:stack": stackId,
  });
}

interface InstanceArgs extends Pick<ServersArgs, "ids" | "topology" | "agentScript" | "previous"> {
  ami: pulumi.Input<string>;
  profile: aws.iam.InstanceProfile;
  /** The resource the previous server's change ends with. */
  before: pulumi.Resource | undefined;
}

function createInstance(
  children: Children,
  region: RegionScope,
  server: ServerLayout,
  input: InstanceArgs,
): aws.ec2.Instance {
  const { r, net, o } = region;
  const storage = server.hardware.storage;
  const userData = renderBootstrap({
    server: server.name,
    tier: input.topology.tier,
    agentScript: input.agentScript,
    agent: { region: r.awsRegion, path: parameterPath(input.ids, server.name) },
    ...(storage.kind === "none"
      ? {}
      : { dataDisk: { kind: storage.kind, disks: storage.kind === "instance-store" ? storage.disks : 1 } }),
  });
  const group = securityGroup(region, server.role === "core" ? "core" : "leaf");
  // A newer Debian image must not replace running servers: the AMI is read at launch only. So is
  // the user data of a server the agent already runs on: the agent updates itself, with the rest
  // of the server's files, from the parameter store. (A server a version before the agent set up
  // through its user data gets the agent's: a stop and a start, in turn.)
  const managed =
    input.previous?.servers.some((x) => x.name === server.name && !x.host.startsWith(LEGACY_HOST)) ?? false;
  const opts = {
    ...o,
    ignoreChanges: managed ? ["ami", "userData"] : ["ami"],
    ...(input.before === undefined ? {} : { dependsOn: [input.before] }),
  };
  return children.make(server.name, opts, (name, options) => {
    return new aws.ec2.Instance(
      name,
      {
        ami: input.ami,
        instanceType: server.hardware.instance.name,
        subnetId: net.subnetId(server.subnet),
        vpcSecurityGroupIds: [group.id],
        iamInstanceProfile: input.profile.name,
        userData,
        userDataReplaceOnChange: false,
        rootBlockDevice: { volumeType: "gp3", volumeSize: ROOT_VOLUME_GIB, encrypted: true },
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
        ...(server.hardware.instance.burstable ? { creditSpecification: { cpuCredits: "unlimited" } } : {}),
        tags: serverTags(children, server, input.ids.stackId),
      },
      options,
    );
  });
}

/**
 * After a server of the deployed fleet changes, the rollout waits here until it and its peers
 * answer /healthz (JetStream caught up). A new server has nothing to wait for: a fresh cluster
 * forms only once all its servers run.
 */
function waitUntilHealthy(
  children: Children,
  region: RegionScope,
  server: ServerLayout,
  args: Pick<ServersArgs, "topology" | "previous"> & { instance: aws.ec2.Instance; healthGate: aws.lambda.Function },
): aws.lambda.Invocation | undefined {
  const { instance, healthGate } = args;
  if (!(args.previous?.servers.some((x) => x.name === server.name) ?? false)) return undefined;
  const t = args.topology;
  // Only the peers deployed before this update: one it adds is created after this gate (each
  // server waits for the one before it), so waiting for it would never end.
  const deployed = new Set(args.previous?.servers.map((x) => x.name) ?? []);
  const peers = peersOf(t, server.name).filter((n) => n !== server.name && deployed.has(n));
  const monitors = [server.name, ...peers].flatMap((n) => {
    const s = t.servers.find((x) => x.name === n);
    return s === undefined ? [] : [monitorUrl(s)];
  });
  return children.make(`${server.name}-healthy`, { ...region.o, dependsOn: [instance] }, (name, opts) => {
    return new aws.lambda.Invocation(
      name,
      {
        functionName: healthGate.name,
        input: JSON.stringify({ action: "await-healthy", servers: monitors, timeoutSeconds: HEALTHY_WITHIN_SECONDS }),
        // Invoked again whenever what a stop and start changes does.
        triggers: { instanceType: server.hardware.instance.name },
      },
      opts,
    );
  });
}

function attachVolume(
  children: Children,
  region: RegionScope,
  server: ServerLayout,
  args: Pick<ServersArgs, "ids"> & { instance: aws.ec2.Instance },
): void {
  const { instance } = args;
  const stackId = args.ids.stackId;
  const storage = server.hardware.storage;
  if (storage.kind !== "ebs") return;
  const local = `${server.name}-data`;
  // `pulumi up` never deletes JetStream data: a volume dropped from the program stays in AWS.
  const volume = children.make(local, { ...region.o, retainOnDelete: true }, (name, opts) => {
    return new aws.ebs.Volume(
      name,
      {
        availabilityZone: server.az,
        size: storage.sizeGiB,
        type: storage.volumeType,
        iops: storage.iops,
        ...(storage.volumeType === "gp3" ? { throughput: storage.throughputMiBps } : {}),
        encrypted: true,
        tags: {
          ...serverTags(children, server, stackId),
          Name: children.label(`${server.name}-jetstream`),
          "zester:backup": stackId,
        },
      },
      opts,
    );
  });
  children.make(local, region.o, (name, opts) => {
    return new aws.ec2.VolumeAttachment(
      name,
      { deviceName: DATA_DEVICE, volumeId: volume.id, instanceId: instance.id },
      opts,
    );
  });
}

export function serverOutput(server: ServerLayout, r: RegionLayout): ServerOutput {
  const st = server.hardware.storage;
  const volume =
    st.kind === "ebs"
      ? `EBS ${st.volumeType} ${String(st.sizeGiB)} GiB, ${String(st.iops)} IOPS${st.volumeType === "gp3" ? `, ${String(st.throughputMiBps)} MiB/s` : ""}`
      : st.kind === "instance-store"
        ? `instance-store NVMe ${String(st.disks)} × ${String(st.totalGB / st.disks)} GB${st.disks > 1 ? " (RAID0)" : ""}`
        : "none (leaf server: no JetStream)";
  return {
    name: server.name,
    role: server.role,
    region: r.name,
    awsRegion: r.awsRegion,
    az: server.az,
    instanceType: server.hardware.instance.name,
    dnsName: server.host,
    volume,
  };
}
