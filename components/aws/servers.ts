/**
 * The servers of one region: an instance each, its JetStream volume, its DNS name. Servers change
 * one after another (each depends on the previous one): a type or user-data change stops and
 * starts an instance, and never the whole cluster at once.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { renderCloudInit } from "../../topology/render/cloud-init";
import type { RegionLayout, ServerLayout } from "./layout";
import { securityGroup, type AwsScope, type RegionScope } from "./scope";
import { DEFAULT_NATS_SERVER } from "./settings";

/** Official Debian images are published by this AWS account. */
export const DEBIAN_AMI_OWNER = "136693071363";
const DATA_DEVICE = "/dev/sdf";
const ROOT_VOLUME_GIB = 20;

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

export function createServers(
  scope: AwsScope,
  region: RegionScope,
  ami: pulumi.Input<string>,
  zone: aws.route53.Zone,
): Map<string, aws.ec2.Instance> {
  const { children } = scope;
  const { r } = region;
  const hub = scope.layout.regions[0];
  if (hub === undefined) throw new Error("a layout has at least one region");
  const instances = new Map<string, aws.ec2.Instance>();
  let previous: aws.ec2.Instance | undefined;
  for (const server of r.servers) {
    const instance = createInstance(scope, region, server, ami, previous);
    instances.set(server.name, instance);
    previous = instance;
    const storage = server.hardware.storage;
    if (storage.kind === "ebs") attachVolume(scope, region, server, instance);
    children.make(server.name, scope.inRegion(hub), (name, opts) => {
      return new aws.route53.Record(
        name,
        { zoneId: zone.zoneId, name: server.host, type: "A", ttl: 60, records: [instance.privateIp] },
        opts,
      );
    });
  }
  return instances;
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

function createInstance(
  scope: AwsScope,
  region: RegionScope,
  server: ServerLayout,
  ami: pulumi.Input<string>,
  previous: aws.ec2.Instance | undefined,
): aws.ec2.Instance {
  const { topology: t, settings: s } = scope;
  const { r, net, o } = region;
  const nats = s.natsServer ?? DEFAULT_NATS_SERVER[scope.layout.arch];
  const storage = server.hardware.storage;
  const userData = scope.secrets.apply((sec) =>
    renderCloudInit({
      topology: t,
      server: server.name,
      natsVersion: nats.version,
      natsServer: { url: nats.url, sha256: nats.sha256 },
      ...(s.zesterMaster === undefined ? {} : { zesterMaster: s.zesterMaster }),
      secrets: sec,
      ...(storage.kind === "none"
        ? {}
        : { dataDisk: { kind: storage.kind, disks: storage.kind === "instance-store" ? storage.disks : 1 } }),
      ...(server.role === "core" && r.servers.filter((x) => x.role === "core").length > 1
        ? { serverTags: [`az:${server.az}`], uniqueTagPrefix: "az:" }
        : {}),
    }),
  );
  const group = securityGroup(region, server.role === "core" ? "core" : "leaf");
  // A newer Debian image must not replace running servers: the AMI is read at launch only.
  const opts = { ...o, ignoreChanges: ["ami"], ...(previous === undefined ? {} : { dependsOn: [previous] }) };
  return scope.children.make(server.name, opts, (name, options) => {
    return new aws.ec2.Instance(
      name,
      {
        ami,
        instanceType: server.hardware.instance.name,
        subnetId: net.subnetId(server.subnet),
        vpcSecurityGroupIds: [group.id],
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

function attachVolume(scope: AwsScope, region: RegionScope, server: ServerLayout, instance: aws.ec2.Instance): void {
  const storage = server.hardware.storage;
  if (storage.kind !== "ebs") return;
  const { children } = scope;
  const local = `${server.name}-data`;
  const volume = children.make(local, region.o, (name, opts) => {
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
