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
import type { RegionLayout, ServerLayout } from "./layout";
import { serverParameters, serverProfile } from "./parameters";
import { securityGroup, type AwsScope, type RegionScope } from "./scope";
import { peersOf } from "./server-config";

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
export function regionAmi(scope: AwsScope, r: RegionLayout, o: pulumi.CustomResourceOptions): pulumi.Input<string> {
  if (r.ami !== undefined) return scope.deferred.input(r.ami);
  return aws.ec2.getAmiOutput(
    {
      owners: [DEBIAN_AMI_OWNER],
      mostRecent: true,
      filters: [{ name: "name", values: [`debian-12-${scope.layout.arch === "x86" ? "amd64" : "arm64"}-*`] }],
    },
    { parent: scope.children.parent, ...(o.provider === undefined ? {} : { provider: o.provider }) },
  ).id;
}

export interface RegionServers {
  instances: Map<string, aws.ec2.Instance>;
}

export function createServers(
  scope: AwsScope,
  region: RegionScope,
  ami: pulumi.Input<string>,
  zone: aws.route53.Zone,
  healthGate: aws.lambda.Function,
): RegionServers {
  const { children } = scope;
  const hub = scope.layout.regions[0];
  if (hub === undefined) throw new Error("a layout has at least one region");
  const instances = new Map<string, aws.ec2.Instance>();
  // Each server waits for the one before it: a type change stops one instance at a time.
  let before: pulumi.Resource | undefined;
  for (const server of region.r.servers) {
    const profile = serverProfile(scope, region, server);
    const instance = createInstance(scope, region, server, { ami, profile, before });
    serverParameters(scope, region, server, instance.privateIp);
    instances.set(server.name, instance);
    before = waitUntilHealthy(scope, region, server, instance, healthGate) ?? instance;
    if (server.hardware.storage.kind === "ebs") attachVolume(scope, region, server, instance);
    children.make(server.name, scope.inRegion(hub), (name, opts) => {
      return new aws.route53.Record(
        name,
        { zoneId: zone.zoneId, name: server.host, type: "A", ttl: 60, records: [instance.privateIp] },
        opts,
      );
    });
  }
  return { instances };
}

function serverTags(scope: AwsScope, server: ServerLayout): Record<string, string> {
  return scope.children.tags({
    Name: scope.children.label(server.name),
    "zester:server": server.name,
    "zester:role": server.role,
    "zester:az": server.az,
    "zester:stack": scope.stackId,
  });
}

interface InstanceInput {
  ami: pulumi.Input<string>;
  profile: aws.iam.InstanceProfile;
  /** The resource the previous server's change ends with. */
  before: pulumi.Resource | undefined;
}

function createInstance(
  scope: AwsScope,
  region: RegionScope,
  server: ServerLayout,
  input: InstanceInput,
): aws.ec2.Instance {
  const { r, net, o } = region;
  const storage = server.hardware.storage;
  const userData = renderBootstrap({
    server: server.name,
    tier: scope.topology.tier,
    agentScript: scope.agentScript,
    agent: { region: r.awsRegion, path: scope.parameterPath(server.name) },
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
    scope.previous?.servers.some((x) => x.name === server.name && !x.host.startsWith(LEGACY_HOST)) ?? false;
  const opts = {
    ...o,
    ignoreChanges: managed ? ["ami", "userData"] : ["ami"],
    ...(input.before === undefined ? {} : { dependsOn: [input.before] }),
  };
  return scope.children.make(server.name, opts, (name, options) => {
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
        tags: serverTags(scope, server),
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
  scope: AwsScope,
  region: RegionScope,
  server: ServerLayout,
  instance: aws.ec2.Instance,
  healthGate: aws.lambda.Function,
): aws.lambda.Invocation | undefined {
  if (!(scope.previous?.servers.some((x) => x.name === server.name) ?? false)) return undefined;
  const t = scope.topology;
  const monitors = [server.name, ...peersOf(t, server.name).filter((n) => n !== server.name)].flatMap((n) => {
    const s = t.servers.find((x) => x.name === n);
    return s === undefined ? [] : [monitorUrl(s)];
  });
  return scope.children.make(`${server.name}-healthy`, { ...region.o, dependsOn: [instance] }, (name, opts) => {
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

function attachVolume(scope: AwsScope, region: RegionScope, server: ServerLayout, instance: aws.ec2.Instance): void {
  const storage = server.hardware.storage;
  if (storage.kind !== "ebs") return;
  const { children } = scope;
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
          ...serverTags(scope, server),
          Name: scope.children.label(`${server.name}-jetstream`),
          "zester:backup": scope.stackId,
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
