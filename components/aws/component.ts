/**
 * `zester:aws:Topology`: a planned Zester topology on EC2, from a sizing spec and the AWS
 * settings. Everything is decided first, in pure code (plan, topology, layout), so bad input is
 * refused before any resource exists; then the resources are declared in plain steps.
 */
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { SizingPlan, SizingSpecInput } from "../../sizing";
import { planned, type Planned } from "../../topology/prepare";
import { renderPeelBootstrap } from "../../topology/render/peel-bootstrap";
import { checkChange, type ChangePlan } from "../../change/change";
import type { ReconcileDuringTransition } from "../../change/cloud-phase";
import type { Deployment } from "../../change/deployment";
import { prepareOn, type TargetPrepared } from "../../change/target";
import type { Topology } from "../../topology/types";
import type { ChecklistStatus } from "../checklist";
import { Children } from "../children";
import { Deferred } from "../deferred";
import { shippedReconcileCode } from "../reconcile-code";
import { stackTls } from "../certificates";
import { configIdentities, generatedIdentities, issuedPeelCreds } from "../identities";
import { certificateAlertRules, rulesYaml } from "../certificate-alerts";
import { peelCredentialParameters } from "./peel-credentials";
import { resolveAwsSettings, type AwsSettingsArgs } from "./args";
import type { AwsTarget } from "./settings";
import { snapshotPolicy } from "./backups";
import { canaries, canaryPeelIds } from "./canaries";
import { awsChecklist } from "./checklist";
import { privateZone } from "./dns";
import { agentScript } from "./agent";
import type { AwsLayout, RegionLayout } from "./layout";
import { clientUrlAt, loadBalancer } from "./load-balancer";
import { createNetwork, type RegionNetwork } from "./network";
import { peerRegions } from "./peering";
import { regionProviders } from "./providers";
import { scheduledReconcile } from "./reconcile";
import { createRoles } from "./roles";
import { securityGroups } from "./security-groups";
import { AWS } from "./target";
import type { ServersArgs } from "./scope";
import { createServers, regionAmi, serverOutput, type ServerOutput } from "./servers";

/** What the component plans and lays out. */
export interface AwsSpecArgs {
  /** How many peels, and the optional regions, leaf sites and overrides (what `plan()` takes). */
  spec: SizingSpecInput;
  /** The AWS target's settings (`zester:aws`; see docs/aws.md). The ids of a VPC, subnets or an AMI may be outputs. */
  settings: AwsSettingsArgs;
}

/**
 * Either a spec and settings to prepare, or what `prepareAws` made of them (a caller that decides
 * something from the preparation first, as the program decides a tier transition, hands it in so
 * nothing is planned twice).
 */
export type ZesterAwsArgs = (AwsSpecArgs | { prepared: PreparedAws }) & AwsOptionsArgs;

export interface AwsOptionsArgs {
  /** Tags every taggable resource carries, under this project's own `zester:*` tags. @default none */
  tags?: Record<string, string>;
  /**
   * Providers of the supercluster regions after the first, by Zester region name (the first
   * region uses the component's `provider`/`providers` option). @default one created per region
   */
  regionProviders?: Record<string, pulumi.ProviderResource>;
  /**
   * What every provider this component creates starts from: profile, assumeRoles,
   * allowedAccountIds, defaultTags … (an explicit provider ignores the stack's `aws:*` config).
   * @default none: the environment's credentials
   */
  providerDefaults?: Omit<aws.ProviderArgs, "region">;
  /** `<project>-<stack>` by default: in the `zester:stack` tag and the snapshot policy. */
  stackId?: string;
  /** The bundled KV reconcile. @default the bundle shipped with this package */
  reconcileCode?: string;
  /**
   * Stacks created before children were named `${name}-…` (this repository's own program):
   * alias every child to its old name, so nothing is replaced. @default false
   */
  aliasUnprefixedChildren?: boolean;
  /**
   * What is deployed now (this component's `deployment` from the last update, e.g. read back
   * through a StackReference to the stack itself). A change that would lose JetStream data or
   * quorum is then refused (ChangeRefused) before anything is created, and servers that exist
   * get their changes one at a time. @default none: nothing to compare, everything is new
   */
  previousDeployment?: Deployment;
  /**
   * A tier transition under way: the tier whose buckets the KV reconcile job keeps until its
   * data-moving phase, and that phase's steps, which the job carries out and then reports in the
   * SSM parameter `/zester/<stackId>/<name>/kv-reconcile/transition` (docs/aws.md). @default none
   */
  reconcile?: ReconcileDuringTransition;
}

export class ZesterAws extends pulumi.ComponentResource {
  public readonly plan: SizingPlan;
  public readonly topology: Topology;
  /** Where peels and tools connect: the internal load balancer's name in the private zone. */
  public readonly clientUrl: pulumi.Output<string>;
  /** Where leaf connections come in (leaf sites, other regions), by server. */
  public readonly leafUrls: string[];
  public readonly servers: ServerOutput[];
  /**
   * `#cloud-config` for a peel host, by where the peels are: `core` (each region's name in a
   * supercluster) and each leaf site. No secret: a peel's own credentials are its own, put at
   * `/etc/zester/peel.creds` by its enrollment (or read from `peelCredentials`).
   */
  public readonly peelBootstrap: pulumi.Output<Record<string, string>>;
  /** The SecureString parameter holding each issued peel's credentials (`settings.peelCredentials`), by id. */
  public readonly peelCredentials: Record<string, string>;
  /**
   * A Prometheus rule file alerting before any certificate of the stack expires (the CA, every
   * server's and link's), for the Prometheus that scrapes the servers (`monitoringCidrs`).
   */
  public readonly certificateAlertRules: pulumi.Output<string>;
  public readonly checklist: ChecklistStatus[];
  /** What this deploys, for the next update to compare against (no secrets). */
  public readonly deployment: Deployment;
  /** What happens to each server in this update. */
  public readonly change: ChangePlan;

  constructor(name: string, args: ZesterAwsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zester:aws:Topology", name, {}, opts);
    const stackId = args.stackId ?? `${pulumi.getProject()}-${pulumi.getStack()}`;
    const { settings, plan, topology, layout, deployment, deferred } =
      "prepared" in args ? args.prepared : prepareAws(args);
    this.plan = plan;
    this.topology = topology;
    this.deployment = deployment;
    this.change = checkChange(args.previousDeployment, this.deployment);
    const children = new Children({
      component: name,
      parent: this,
      ...(args.tags === undefined ? {} : { tags: args.tags }),
      ...(args.aliasUnprefixedChildren === undefined ? {} : { aliasUnprefixed: args.aliasUnprefixedChildren }),
    });
    const providers = regionProviders(children, layout, {
      given: this.getProvider("aws::Provider"),
      regionProviders: args.regionProviders,
      providerDefaults: args.providerDefaults,
    });
    const identities = generatedIdentities(children, [
      ...settings.peelCredentials,
      ...canaryPeelIds(layout, settings.peelCanaries),
    ]);
    const tls = stackTls(children, topology, stackId);
    const ids = { stackId, component: name };
    const servers: ServersArgs = {
      ids,
      topology,
      layout,
      settings,
      identities,
      configIdentities: configIdentities(identities, topology, settings.revokedPeels),
      tls,
      agentScript: agentScript(),
      previous: args.previousDeployment,
      generations: new Map(deployment.servers.map((x) => [x.name, x.restart])),
    };
    const inRegion = (r: RegionLayout) => ({ provider: providers.get(r.name) });
    const issued = issuedPeelCreds(identities);
    const declared = declareTopology(children, {
      servers,
      deferred,
      inRegion,
      reconcile: args.reconcile ?? {},
      reconcileCode: args.reconcileCode ?? shippedReconcileCode(),
      issued,
    });
    const first = layout.regions[0];
    if (first === undefined) throw new Error("a layout has at least one region");
    this.peelCredentials = peelCredentialParameters(children, {
      ids,
      peels: settings.peelCredentials,
      creds: issued,
      opts: inRegion(first),
    });
    // Once every certificate is issued.
    this.certificateAlertRules = tls
      .expiries()
      .apply((certs) => rulesYaml(certificateAlertRules(certs, "zester-certificates")));
    this.clientUrl = pulumi.output(declared.clientUrl);
    this.leafUrls = this.topology.servers.flatMap((x) => (x.endpoints.leaf === undefined ? [] : [x.endpoints.leaf]));
    this.servers = layout.regions.flatMap((r) => r.servers.map((x) => serverOutput(x, r)));
    this.peelBootstrap = peelBootstraps(servers, declared);
    this.checklist = awsChecklist(this.plan, layout, settings);
    this.registerOutputs({
      clientUrl: this.clientUrl,
      leafUrls: this.leafUrls,
      servers: this.servers,
      peelBootstrap: this.peelBootstrap,
      peelCredentials: this.peelCredentials,
      certificateAlertRules: this.certificateAlertRules,
      checklist: this.checklist,
      deployment: this.deployment,
    });
  }
}

interface Declared {
  clientUrl: string;
  /** Per region: its load balancer's own DNS name, and its instances. */
  regions: Map<string, { nlbDnsName: pulumi.Output<string>; instances: Map<string, aws.ec2.Instance> }>;
}

export interface PreparedAws extends TargetPrepared<AwsTarget, AwsLayout> {
  /** Settings given as outputs, as the layout's stand-ins; resolved when resources are declared. */
  deferred: Deferred;
}

/**
 * Everything the component decides before it declares a resource, for a spec planned once
 * (topology/prepare.ts `planned`): the settings resolved, the topology built, laid out and
 * recorded. Throws SpecError naming the key.
 */
export function prepareAwsPlanned(from: Planned, settingsArgs: AwsSettingsArgs): PreparedAws {
  const deferred = new Deferred();
  const settings = resolveAwsSettings(settingsArgs, deferred);
  return { ...prepareOn(AWS, from, settings), deferred };
}

/** The same from a spec: planned, then prepared. */
export function prepareAws(args: AwsSpecArgs): PreparedAws {
  return prepareAwsPlanned(planned(args.spec), args.settings);
}

interface TopologyArgs {
  /** What every server is declared with; the layout and the stack's ids among it. */
  servers: ServersArgs;
  deferred: Deferred;
  /** Options of a resource in a region: its provider. */
  inRegion: (r: RegionLayout) => pulumi.CustomResourceOptions;
  /** What the KV reconcile job does while a tier transition is under way. */
  reconcile: ReconcileDuringTransition;
  reconcileCode: string;
  /** Each peel the stack issues credentials to, its `.creds` (the canaries' among them). Secret. */
  issued: pulumi.Output<Record<string, string>>;
}

/** Networks and what spans regions first, then each region's servers and services. */
function declareTopology(children: Children, args: TopologyArgs): Declared {
  const { servers, deferred, inRegion } = args;
  const { layout, settings, ids } = servers;
  const stackId = ids.stackId;
  const hub = layout.regions[0];
  if (hub === undefined) throw new Error("a layout has at least one region");
  const hubOpts = inRegion(hub);
  const networks = new Map<string, RegionNetwork>();
  for (const r of layout.regions)
    networks.set(r.name, createNetwork({ children, deferred, region: r, opts: inRegion(r), stackId }));
  const networkOf = (r: RegionLayout): RegionNetwork => {
    const n = networks.get(r.name);
    if (n === undefined) throw new Error(`no network for region ${r.name}`);
    return n;
  };
  peerRegions(children, { regions: layout.regions, networkOf, inRegion, stackId });
  const zone = privateZone(children, { dnsZone: layout.dnsZone, regions: layout.regions, networkOf, hubOpts, stackId });
  const roles = createRoles(children, { hubOpts, ebsBackups: layout.ebsBackups, stackId });
  const regions: Declared["regions"] = new Map();
  const urls = layout.regions.map((r) => {
    const net = networkOf(r);
    const o = inRegion(r);
    const region = { r, net, o, groups: securityGroups(children, { r, net, o, stackId }) };
    const ami = regionAmi(children, region, { arch: layout.arch, deferred });
    const jobs = scheduledReconcile(children, region, {
      ids,
      // During a tier transition the job may reconcile to another tier's plan than the servers declared.
      topology: args.reconcile.topology ?? servers.topology,
      transition: args.reconcile.transition,
      role: roles.reconcile,
      code: args.reconcileCode,
      everyMinutes: settings.reconcileEveryMinutes,
      identities: servers.identities,
      ca: servers.tls.ca,
    });
    const { instances } = createServers(children, region, { ...servers, ami, zone, hubOpts, healthGate: jobs });
    const nlb = loadBalancer(children, region, { instances, zone, dnsZone: layout.dnsZone, hubOpts, stackId });
    if (roles.backups !== undefined)
      snapshotPolicy(children, region, { role: roles.backups, backups: settings.backups, stackId });
    canaries(children, region, { ...servers, ami, creds: args.issued });
    regions.set(r.name, { nlbDnsName: nlb.dnsName, instances });
    return nlb.url;
  });
  const hubUrl = urls[0];
  if (hubUrl === undefined) throw new Error("a layout has at least one region");
  return { clientUrl: hubUrl, regions };
}

/**
 * A peel bootstrap per place peels live, with addresses that resolve there: the load balancer's
 * own DNS name (public DNS, private addresses) for the core, the leaf servers' private addresses
 * for a leaf site (its DMZ need not resolve the private zone), the core last as a fallback.
 */
function peelBootstraps(
  args: Pick<ServersArgs, "topology" | "settings" | "tls">,
  declared: Declared,
): pulumi.Output<Record<string, string>> {
  const { topology: t, settings: s } = args;
  const supercluster = t.plan.regions.length > 1;
  const entries = t.plan.regions.flatMap((region) => {
    const own = declared.regions.get(region.name);
    if (own === undefined) return [];
    const core = own.nlbDnsName.apply(clientUrlAt);
    const sites = t.leafSites
      .filter((x) => x.region === region.name)
      .map((site) => ({
        key: site.name,
        site: site.name,
        servers: pulumi
          .all([...site.servers.map((n) => own.instances.get(n)?.privateIp ?? missingServer(n)), core])
          .apply((urls) => urls.map((u, i) => (i < site.servers.length ? clientUrlAt(u) : u))),
      }));
    return [
      {
        key: supercluster ? region.name : "core",
        region: region.name,
        site: undefined,
        servers: core.apply((u) => [u]),
      },
      ...sites.map((x) => ({ ...x, region: region.name })),
    ];
  });
  return pulumi.all([args.tls.ca, pulumi.all(entries.map((e) => e.servers))]).apply(([ca, servers]) =>
    Object.fromEntries(
      entries.map((e, i) => [
        e.key,
        renderPeelBootstrap({
          topology: t,
          region: e.region,
          ...(e.site === undefined ? {} : { site: e.site }),
          ca,
          servers: servers[i] ?? [],
          ...(s.zesterPeel === undefined ? {} : { zesterPeel: s.zesterPeel }),
        }),
      ]),
    ),
  );
}

function missingServer(name: string): never {
  throw new Error(`no instance for server ${name}`);
}
