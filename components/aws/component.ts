/**
 * `zester:aws:Topology`: a planned Zester topology on EC2, from a sizing spec and the AWS
 * settings. Everything is decided first, in pure code (plan, topology, layout), so bad input is
 * refused before any resource exists; then the resources are declared in plain steps.
 */
import type * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { plan as planSizing, type SizingPlan, type SizingSpecInput } from "../../sizing";
import { build, standardAddressing } from "../../topology";
import { renderPeelBootstrap } from "../../topology/render/peel-bootstrap";
import { checkChange, type ChangePlan } from "../../topology/change";
import type { Deployment } from "../../topology/deployment";
import type { Topology } from "../../topology/types";
import type { ChecklistStatus } from "../checklist";
import { Children } from "../children";
import { Deferred } from "../deferred";
import { shippedReconcileCode } from "../reconcile-code";
import type { ReconcileDuringTransition } from "../transition";
import { stackTls } from "../certificates";
import { configIdentities, generatedIdentities, issuedPeelCreds } from "../identities";
import { peelCredentialParameters } from "./peel-credentials";
import { certificateAlertRules, rulesYaml } from "../certificate-alerts";
import { resolveAwsSettings, type AwsSettingsArgs } from "./args";
import type { AwsTarget } from "./settings";
import { snapshotPolicy } from "./backups";
import { canaries, canaryPeelIds } from "./canaries";
import { awsChecklist } from "./checklist";
import { privateZone } from "./dns";
import { agentScript } from "./agent";
import { awsLayout, type AwsLayout, type RegionLayout } from "./layout";
import { loadBalancer } from "./load-balancer";
import { createNetwork, type RegionNetwork } from "./network";
import { peerRegions } from "./peering";
import { regionProviders } from "./providers";
import { scheduledReconcile } from "./reconcile";
import { createRoles } from "./roles";
import type { AwsScope } from "./scope";
import { securityGroups } from "./security-groups";
import { awsDeployment } from "./server-config";
import { createServers, regionAmi, serverOutput, type ServerOutput } from "./servers";

export interface ZesterAwsArgs {
  /** How many peels, and the optional regions, leaf sites and overrides (what `plan()` takes). */
  spec: SizingSpecInput;
  /** The AWS target's settings (`zester:aws`; see docs/aws.md). The ids of a VPC, subnets or an AMI may be outputs. */
  settings: AwsSettingsArgs;
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
    const deferred = new Deferred();
    const stackId = args.stackId ?? `${pulumi.getProject()}-${pulumi.getStack()}`;
    const { settings, plan, topology, layout, deployment } = prepareAws(args, deferred);
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
    const scope: AwsScope = {
      children,
      deferred,
      topology: this.topology,
      layout,
      settings,
      identities,
      configIdentities: configIdentities(identities, this.topology, settings.revokedPeels),
      tls: stackTls(children, this.topology, stackId),
      stackId,
      inRegion: (r) => ({ provider: providers.get(r.name) }),
      previous: args.previousDeployment,
      generations: new Map(this.deployment.servers.map((x) => [x.name, x.restart])),
      agentScript: agentScript(),
      parameterPath: (server) => `/zester/${stackId}/${name}/${server}/`,
      reconcile: args.reconcile ?? {},
    };
    const issued = issuedPeelCreds(identities);
    const declared = declareTopology(scope, args.reconcileCode ?? shippedReconcileCode(), issued);
    this.peelCredentials = peelCredentialParameters(scope, issued);
    // Once every certificate is issued.
    this.certificateAlertRules = scope.tls
      .expiries()
      .apply((certs) => rulesYaml(certificateAlertRules(certs, "zester-certificates")));
    this.clientUrl = pulumi.output(declared.clientUrl);
    this.leafUrls = this.topology.servers
      .filter((x) => x.ports.leafnode !== undefined)
      .map((x) => `nats-leaf://${x.host}:${String(x.ports.leafnode)}`);
    this.servers = layout.regions.flatMap((r) => r.servers.map((x) => serverOutput(x, r)));
    this.peelBootstrap = peelBootstraps(scope, declared);
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

export interface PreparedAws {
  settings: AwsTarget;
  plan: SizingPlan;
  topology: Topology;
  layout: AwsLayout;
  deployment: Deployment;
}

/** Everything the component decides before it declares a resource. Pure; throws SpecError naming the key. */
export function prepareAws(args: Pick<ZesterAwsArgs, "spec" | "settings">, deferred = new Deferred()): PreparedAws {
  const settings = resolveAwsSettings(args.settings, deferred);
  const plan = planSizing(args.spec);
  const topology = build(plan, standardAddressing(settings.dnsZone));
  const layout = awsLayout(topology, settings);
  return { settings, plan, topology, layout, deployment: awsDeployment(topology, layout, settings) };
}

/** Networks and what spans regions first, then each region's servers and services. */
function declareTopology(
  scope: AwsScope,
  reconcileCode: string,
  issued: pulumi.Output<Record<string, string>>,
): Declared {
  const { layout } = scope;
  const networks = new Map<string, RegionNetwork>();
  for (const r of layout.regions) networks.set(r.name, createNetwork({ ...scope, region: r, opts: scope.inRegion(r) }));
  const networkOf = (r: RegionLayout): RegionNetwork => {
    const n = networks.get(r.name);
    if (n === undefined) throw new Error(`no network for region ${r.name}`);
    return n;
  };
  peerRegions(scope, networkOf);
  const zone = privateZone(scope, networkOf);
  const roles = createRoles(scope);
  const regions: Declared["regions"] = new Map();
  const urls = layout.regions.map((r) => {
    const net = networkOf(r);
    const o = scope.inRegion(r);
    const region = { r, net, o, groups: securityGroups(scope, r, net, o) };
    const ami = regionAmi(scope, r, o);
    const jobs = scheduledReconcile(scope, region, roles.reconcile, reconcileCode);
    const { instances } = createServers(scope, region, ami, zone, jobs);
    const nlb = loadBalancer(scope, region, instances, zone);
    if (roles.backups !== undefined) snapshotPolicy(scope, region, roles.backups);
    canaries(scope, region, ami, issued);
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
function peelBootstraps(scope: AwsScope, declared: Declared): pulumi.Output<Record<string, string>> {
  const { topology: t, settings: s } = scope;
  const supercluster = t.plan.regions.length > 1;
  const entries = t.plan.regions.flatMap((region) => {
    const own = declared.regions.get(region.name);
    if (own === undefined) return [];
    const core = own.nlbDnsName.apply((dns) => `nats://${dns}:4222`);
    const sites = t.leafSites
      .filter((x) => x.region === region.name)
      .map((site) => ({
        key: site.name,
        site: site.name,
        servers: pulumi
          .all([...site.servers.map((n) => own.instances.get(n)?.privateIp ?? missingServer(n)), core])
          .apply((urls) => urls.map((u, i) => (i < site.servers.length ? `nats://${u}:4222` : u))),
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
  return pulumi.all([scope.tls.ca, pulumi.all(entries.map((e) => e.servers))]).apply(([ca, servers]) =>
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
