/**
 * `zester:aws:Topology`: a planned Zester topology on EC2. It declares, in plain loops over the
 * pure layout, what the layout placed; every config file comes from the renderers.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { generatedSecrets } from "../secrets";
import { clusterJob } from "../../jetstream/cluster-job";
import { JOB_ENV } from "../../jetstream/reconcile-job";
import { renderCloudInit } from "../../topology/render/cloud-init";
import type { Secrets } from "../../topology/auth";
import { renderPeelBootstrap } from "../../topology/render/peel-bootstrap";
import type { Topology } from "../../topology/types";
import type { ChecklistStatus } from "../checklist";
import { awsChecklist } from "./checklist";
import type { AwsLayout, IngressRule, RegionLayout, SecurityGroupName, ServerLayout } from "./layout";
import { createNetwork, type RegionNetwork } from "./network";
import { DEFAULT_NATS_SERVER, type AwsSettings } from "./settings";

export interface ZesterAwsArgs {
  topology: Topology;
  /** From `awsLayout(topology, settings)`: validated placement. */
  layout: AwsLayout;
  settings: AwsSettings;
  /** The bundled KV reconcile (`jetstream/reconcile-job.ts`), run by a Lambda function per region. */
  reconcileCode: string;
  /** Tags every resource and selects this stack's volumes for snapshots. */
  stackId: string;
}

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

/** Official Debian images are published by this AWS account. */
export const DEBIAN_AMI_OWNER = "136693071363";
const DATA_DEVICE = "/dev/sdf";
const ROOT_VOLUME_GIB = 20;
const CANARY_TYPE = { x86: "t3.micro", arm64: "t4g.micro" } as const;

export class ZesterAws extends pulumi.ComponentResource {
  public readonly clientUrl: pulumi.Output<string>;
  public readonly leafUrls: string[];
  public readonly servers: ServerOutput[];
  public readonly peelBootstrap: pulumi.Output<string>;
  public readonly checklist: ChecklistStatus[];

  constructor(name: string, args: ZesterAwsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zester:aws:Topology", name, {}, opts);
    const { topology: t, layout, settings: s } = args;
    const parent = { parent: this };
    const nats = s.natsServer ?? DEFAULT_NATS_SERVER[layout.arch];

    const secrets = generatedSecrets(this);
    const shared: Shared = { t, s, secrets };

    const providers = new Map<string, aws.Provider>();
    for (const r of layout.regions)
      providers.set(r.name, new aws.Provider(`aws-${r.name}`, { region: r.awsRegion as aws.Region }, parent));
    const inRegion = (r: RegionLayout): pulumi.CustomResourceOptions => ({
      parent: this,
      provider: providers.get(r.name),
    });
    const hub = layout.regions[0];
    if (hub === undefined) throw new Error("a layout has at least one region");

    const networks = new Map<string, RegionNetwork>();
    for (const r of layout.regions) networks.set(r.name, createNetwork(r, inRegion(r)));
    const networkOf = (r: RegionLayout): RegionNetwork => {
      const n = networks.get(r.name);
      if (n === undefined) throw new Error(`no network for region ${r.name}`);
      return n;
    };
    this.peerRegions(layout, networkOf, inRegion);

    // One private zone for every region: names never change when servers are added.
    const zone = new aws.route53.Zone(
      "zone",
      {
        name: layout.dnsZone,
        comment: `Zester servers (${args.stackId})`,
        vpcs: [{ vpcId: networkOf(hub).vpcId, vpcRegion: hub.awsRegion }],
      },
      { ...inRegion(hub), ignoreChanges: ["vpcs"] },
    );
    for (const r of layout.regions.slice(1))
      new aws.route53.ZoneAssociation(
        `${r.prefix}zone`,
        { zoneId: zone.zoneId, vpcId: networkOf(r).vpcId, vpcRegion: r.awsRegion },
        inRegion(hub),
      );

    const lambdaRole = new aws.iam.Role(
      "kv-reconcile",
      { assumeRolePolicy: assumeRole("lambda.amazonaws.com"), description: "Zester KV reconcile (Lambda in the VPC)" },
      inRegion(hub),
    );
    new aws.iam.RolePolicyAttachment(
      "kv-reconcile",
      { role: lambdaRole.name, policyArn: "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole" },
      inRegion(hub),
    );
    const dlmRole = layout.ebsBackups
      ? new aws.iam.Role(
          "backups",
          { assumeRolePolicy: assumeRole("dlm.amazonaws.com"), description: "Zester JetStream volume snapshots" },
          inRegion(hub),
        )
      : undefined;
    if (dlmRole !== undefined)
      new aws.iam.RolePolicyAttachment(
        "backups",
        { role: dlmRole.name, policyArn: "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole" },
        inRegion(hub),
      );

    const servers: ServerOutput[] = [];
    let clientUrl: pulumi.Output<string> | undefined;
    for (const r of layout.regions) {
      const o = inRegion(r);
      const net = networkOf(r);
      const groups = this.securityGroups(r, net, o);
      const ami =
        r.ami ??
        aws.ec2.getAmiOutput(
          {
            owners: [DEBIAN_AMI_OWNER],
            mostRecent: true,
            filters: [{ name: "name", values: [`debian-12-${layout.arch === "x86" ? "amd64" : "arm64"}-*`] }],
          },
          { parent: this, provider: providers.get(r.name) },
        ).id;

      const instances = new Map<string, aws.ec2.Instance>();
      let previous: aws.ec2.Instance | undefined;
      for (const server of r.servers) {
        const storage = server.hardware.storage;
        const userData = secrets.apply((sec) =>
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
        const tags = {
          Name: `zester-${server.name}`,
          "zester:server": server.name,
          "zester:role": server.role,
          "zester:az": server.az,
          "zester:stack": args.stackId,
        };
        const instance = new aws.ec2.Instance(
          server.name,
          {
            ami,
            instanceType: server.hardware.instance.name,
            subnetId: net.subnetId(server.subnet),
            vpcSecurityGroupIds: [groups.get(server.role === "core" ? "core" : "leaf")?.id ?? missing(server.role)],
            userData,
            userDataReplaceOnChange: false,
            rootBlockDevice: { volumeType: "gp3", volumeSize: ROOT_VOLUME_GIB, encrypted: true },
            metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
            ...(server.hardware.instance.burstable ? { creditSpecification: { cpuCredits: "unlimited" } } : {}),
            tags,
          },
          // A newer Debian image must not replace running servers: the AMI is read at launch only.
          // Servers change one after another (a type or user-data change stops and starts an
          // instance, and wipes instance-store NVMe): never the whole cluster at once.
          { ...o, ignoreChanges: ["ami"], ...(previous === undefined ? {} : { dependsOn: [previous] }) },
        );
        instances.set(server.name, instance);
        previous = instance;
        if (storage.kind === "ebs") {
          const volume = new aws.ebs.Volume(
            `${server.name}-data`,
            {
              availabilityZone: server.az,
              size: storage.sizeGiB,
              type: storage.volumeType,
              iops: storage.iops,
              ...(storage.volumeType === "gp3" ? { throughput: storage.throughputMiBps } : {}),
              encrypted: true,
              tags: { ...tags, Name: `zester-${server.name}-jetstream`, "zester:backup": args.stackId },
            },
            o,
          );
          new aws.ec2.VolumeAttachment(
            `${server.name}-data`,
            { deviceName: DATA_DEVICE, volumeId: volume.id, instanceId: instance.id },
            o,
          );
        }
        new aws.route53.Record(
          server.name,
          { zoneId: zone.zoneId, name: server.host, type: "A", ttl: 60, records: [instance.privateIp] },
          inRegion(hub),
        );
        servers.push(serverOutput(server, r));
      }

      const scope: RegionScope = { r, net, groups, o };
      const url = this.loadBalancer(scope, instances, zone, inRegion(hub), layout.dnsZone);
      if (r === hub) clientUrl = url;
      this.reconcile(scope, shared, lambdaRole, args.reconcileCode);
      if (dlmRole !== undefined && r.servers.some((x) => x.hardware.storage.kind === "ebs"))
        new aws.dlm.LifecyclePolicy(
          `${r.prefix}backups`,
          {
            description: `Zester JetStream volumes (${args.stackId})`,
            executionRoleArn: dlmRole.arn,
            state: "ENABLED",
            policyDetails: {
              resourceTypes: ["VOLUME"],
              targetTags: { "zester:backup": args.stackId },
              schedules: [
                {
                  name: `every ${String(s.backups.everyHours)} h`,
                  createRule: { interval: s.backups.everyHours, intervalUnit: "HOURS" },
                  retainRule: { count: s.backups.keep },
                  copyTags: true,
                },
              ],
            },
          },
          o,
        );
      if (s.peelCanaries > 0) this.canaries(scope, shared, ami, layout.arch);
    }

    this.clientUrl = clientUrl ?? pulumi.output("");
    this.leafUrls = t.servers
      .filter((x) => x.ports.leafnode !== undefined)
      .map((x) => `nats-leaf://${x.host}:${String(x.ports.leafnode)}`);
    this.servers = servers;
    this.peelBootstrap = pulumi.secret(
      secrets.apply((sec) =>
        renderPeelBootstrap({
          topology: t,
          region: hub.name,
          appPassword: sec.app,
          ...(s.zesterPeel === undefined ? {} : { zesterPeel: s.zesterPeel }),
        }),
      ),
    );
    this.checklist = awsChecklist(t.plan, layout, s);
    this.registerOutputs({
      clientUrl: this.clientUrl,
      leafUrls: this.leafUrls,
      servers: this.servers,
      peelBootstrap: this.peelBootstrap,
      checklist: this.checklist,
    });
  }

  /** Each group with its ingress rules, one resource per rule (stable names), egress open. */
  private securityGroups(
    r: RegionLayout,
    net: RegionNetwork,
    o: pulumi.CustomResourceOptions,
  ): Map<SecurityGroupName, aws.ec2.SecurityGroup> {
    const groups = new Map<SecurityGroupName, aws.ec2.SecurityGroup>();
    for (const g of r.groups) {
      const sg = new aws.ec2.SecurityGroup(
        `${r.prefix}${g}`,
        { vpcId: net.vpcId, description: `Zester ${g} (${r.name})`, tags: { Name: `zester-${r.prefix}${g}` } },
        o,
      );
      new aws.vpc.SecurityGroupEgressRule(
        `${r.prefix}${g}-egress`,
        { securityGroupId: sg.id, ipProtocol: "-1", cidrIpv4: "0.0.0.0/0", description: "outbound" },
        o,
      );
      groups.set(g, sg);
    }
    for (const rule of r.ingress) {
      const sg = groups.get(rule.group);
      if (sg === undefined) throw new Error(`rule for missing group ${rule.group}`);
      new aws.vpc.SecurityGroupIngressRule(
        ruleName(r, rule),
        {
          securityGroupId: sg.id,
          ipProtocol: "tcp",
          fromPort: rule.port,
          toPort: rule.port,
          description: rule.description,
          ...("cidr" in rule.from
            ? { cidrIpv4: rule.from.cidr }
            : { referencedSecurityGroupId: groups.get(rule.from.group)?.id ?? missing(rule.from.group) }),
        },
        o,
      );
    }
    return groups;
  }

  /** An internal NLB for client connections (4222) to the region's core; never for routes. */
  private loadBalancer(
    scope: RegionScope,
    instances: Map<string, aws.ec2.Instance>,
    zone: aws.route53.Zone,
    dnsOpts: pulumi.CustomResourceOptions,
    dnsZone: string,
  ): pulumi.Output<string> {
    const { r, net, groups, o } = scope;
    const nlb = new aws.lb.LoadBalancer(
      `${r.prefix}clients`,
      {
        internal: true,
        loadBalancerType: "network",
        subnets: [...new Set(r.coreSubnets)].map((x) => net.subnetId(x)),
        securityGroups: [groups.get("nlb")?.id ?? missing("nlb")],
        tags: { Name: `zester-${r.prefix}clients` },
      },
      o,
    );
    const targets = new aws.lb.TargetGroup(
      `${r.prefix}clients`,
      { port: 4222, protocol: "TCP", vpcId: net.vpcId, targetType: "instance", healthCheck: { protocol: "TCP" } },
      o,
    );
    new aws.lb.Listener(
      `${r.prefix}clients`,
      {
        loadBalancerArn: nlb.arn,
        port: 4222,
        protocol: "TCP",
        defaultActions: [{ type: "forward", targetGroupArn: targets.arn }],
      },
      o,
    );
    for (const server of r.servers.filter((x) => x.role === "core")) {
      const instance = instances.get(server.name);
      if (instance !== undefined)
        new aws.lb.TargetGroupAttachment(
          server.name,
          { targetGroupArn: targets.arn, targetId: instance.id, port: 4222 },
          o,
        );
    }
    const host = `${r.prefix}clients.${dnsZone}`;
    new aws.route53.Record(
      `${r.prefix}clients`,
      { zoneId: zone.zoneId, name: host, type: "CNAME", ttl: 60, records: [nlb.dnsName] },
      dnsOpts,
    );
    return pulumi.output(`nats://${host}:4222`);
  }

  /** The KV reconcile on a schedule, from inside the VPC, with the same code every target runs. */
  private reconcile(scope: RegionScope, shared: Shared, role: aws.iam.Role, code: string): void {
    const { r, net, groups, o } = scope;
    const { t, s, secrets } = shared;
    const cluster = t.clusters.find((c) => c.region === r.name);
    if (cluster === undefined) return;
    const job = secrets.apply((sec) => clusterJob(t, cluster, sec.app));
    const fn = new aws.lambda.Function(
      `${r.prefix}kv-reconcile`,
      {
        runtime: "nodejs22.x",
        handler: "index.handler",
        code: new pulumi.asset.AssetArchive({ "index.js": new pulumi.asset.StringAsset(code) }),
        role: role.arn,
        timeout: 120,
        memorySize: 256,
        vpcConfig: {
          subnetIds: r.coreSubnets.map((x) => net.subnetId(x)),
          securityGroupIds: [groups.get("reconcile")?.id ?? missing("reconcile")],
        },
        environment: { variables: { [JOB_ENV]: pulumi.secret(job.apply((j) => JSON.stringify(j))) } },
        description: `Zester KV replicas for cluster ${cluster.name}`,
      },
      o,
    );
    const rule = new aws.cloudwatch.EventRule(
      `${r.prefix}kv-reconcile`,
      {
        scheduleExpression: `rate(${String(s.reconcileEveryMinutes)} ${s.reconcileEveryMinutes === 1 ? "minute" : "minutes"})`,
      },
      o,
    );
    new aws.cloudwatch.EventTarget(`${r.prefix}kv-reconcile`, { rule: rule.name, arn: fn.arn }, o);
    new aws.lambda.Permission(
      `${r.prefix}kv-reconcile`,
      { action: "lambda:InvokeFunction", function: fn.name, principal: "events.amazonaws.com", sourceArn: rule.arn },
      o,
    );
  }

  /** Peel hosts for canaries and load tests, bootstrapped with the exported peel user data. */
  private canaries(scope: RegionScope, shared: Shared, ami: pulumi.Input<string>, arch: AwsLayout["arch"]): void {
    const { r, net, groups, o } = scope;
    const { t, s, secrets } = shared;
    const userData = secrets.apply((sec) =>
      Buffer.from(
        renderPeelBootstrap({
          topology: t,
          region: r.name,
          appPassword: sec.app,
          ...(s.zesterPeel === undefined ? {} : { zesterPeel: s.zesterPeel }),
        }),
      ).toString("base64"),
    );
    const template = new aws.ec2.LaunchTemplate(
      `${r.prefix}peel-canary`,
      {
        imageId: ami,
        instanceType: CANARY_TYPE[arch],
        userData,
        vpcSecurityGroupIds: [groups.get("canary")?.id ?? missing("canary")],
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled" },
      },
      o,
    );
    new aws.autoscaling.Group(
      `${r.prefix}peel-canary`,
      {
        desiredCapacity: s.peelCanaries,
        minSize: s.peelCanaries,
        maxSize: s.peelCanaries,
        vpcZoneIdentifiers: r.coreSubnets.map((x) => net.subnetId(x)),
        launchTemplate: { id: template.id, version: "$Latest" },
        tags: [{ key: "zester:role", value: "peel-canary", propagateAtLaunch: true }],
      },
      o,
    );
  }

  /** Supercluster regions reach the hub over VPC peering (leaf connections, port 7422). */
  private peerRegions(
    layout: AwsLayout,
    networkOf: (r: RegionLayout) => RegionNetwork,
    inRegion: (r: RegionLayout) => pulumi.CustomResourceOptions,
  ): void {
    const hub = layout.regions[0];
    if (hub === undefined || hub.vpc.kind !== "new") return;
    const hubNet = networkOf(hub);
    for (const r of layout.regions.slice(1)) {
      if (!r.peerWithHub || r.vpc.kind !== "new") continue;
      const net = networkOf(r);
      const peering = new aws.ec2.VpcPeeringConnection(
        `${r.prefix}to-hub`,
        {
          vpcId: net.vpcId,
          peerVpcId: hubNet.vpcId,
          peerRegion: hub.awsRegion,
          tags: { Name: `zester-${r.name}-to-${hub.name}` },
        },
        inRegion(r),
      );
      new aws.ec2.VpcPeeringConnectionAccepter(
        `${r.prefix}to-hub`,
        { vpcPeeringConnectionId: peering.id, autoAccept: true },
        inRegion(hub),
      );
      // A route each way, each in its own region's private table.
      for (const [name, side, cidr, at] of [
        [`${r.prefix}to-hub`, net, hub.vpc.cidr, r],
        [`${r.prefix}from-hub`, hubNet, r.vpc.cidr, hub],
      ] as const)
        if (side.privateRouteTable !== undefined)
          new aws.ec2.Route(
            name,
            { routeTableId: side.privateRouteTable.id, destinationCidrBlock: cidr, vpcPeeringConnectionId: peering.id },
            inRegion(at),
          );
    }
  }
}

/** What every resource of one region is declared with. */
interface RegionScope {
  r: RegionLayout;
  net: RegionNetwork;
  groups: Map<SecurityGroupName, aws.ec2.SecurityGroup>;
  o: pulumi.CustomResourceOptions;
}

/** What every region shares. */
interface Shared {
  t: Topology;
  s: AwsSettings;
  secrets: pulumi.Output<Secrets>;
}

function assumeRole(service: string): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { Service: service }, Action: "sts:AssumeRole" }],
  });
}

function ruleName(r: RegionLayout, rule: IngressRule): string {
  const from = "cidr" in rule.from ? rule.from.cidr.replace(/[./]/g, "-") : rule.from.group;
  return `${r.prefix}${rule.group}-in-${String(rule.port)}-from-${from}`;
}

function serverOutput(server: ServerLayout, r: RegionLayout): ServerOutput {
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

function missing(what: string): never {
  throw new Error(`no security group "${what}" in this region`);
}
