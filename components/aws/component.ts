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
import type { Topology } from "../../topology/types";
import type { ChecklistStatus } from "../checklist";
import { Children } from "../children";
import { Deferred } from "../deferred";
import { shippedReconcileCode } from "../reconcile-code";
import { generatedSecrets } from "../secrets";
import { resolveAwsSettings, type AwsSettingsArgs } from "./args";
import { snapshotPolicy } from "./backups";
import { canaries } from "./canaries";
import { awsChecklist } from "./checklist";
import { privateZone } from "./dns";
import { awsLayout, type AwsLayout, type RegionLayout } from "./layout";
import { loadBalancer } from "./load-balancer";
import { createNetwork, type RegionNetwork } from "./network";
import { peerRegions } from "./peering";
import { regionProviders } from "./providers";
import { scheduledReconcile } from "./reconcile";
import { createRoles } from "./roles";
import type { AwsScope } from "./scope";
import { securityGroups } from "./security-groups";
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
}

export class ZesterAws extends pulumi.ComponentResource {
  public readonly plan: SizingPlan;
  public readonly topology: Topology;
  /** Where peels and tools connect: the internal load balancer's name in the private zone. */
  public readonly clientUrl: pulumi.Output<string>;
  /** Where leaf connections come in (leaf sites, other regions), by server. */
  public readonly leafUrls: string[];
  public readonly servers: ServerOutput[];
  /** `#cloud-config` for a peel host (secret: it holds the peels' password). */
  public readonly peelBootstrap: pulumi.Output<string>;
  public readonly checklist: ChecklistStatus[];

  constructor(name: string, args: ZesterAwsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("zester:aws:Topology", name, {}, opts);
    const deferred = new Deferred();
    const settings = resolveAwsSettings(args.settings, deferred);
    this.plan = planSizing(args.spec);
    this.topology = build(this.plan, standardAddressing(settings.dnsZone));
    const layout = awsLayout(this.topology, settings);
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
    const scope: AwsScope = {
      children,
      deferred,
      topology: this.topology,
      layout,
      settings,
      secrets: generatedSecrets(children),
      stackId: args.stackId ?? `${pulumi.getProject()}-${pulumi.getStack()}`,
      inRegion: (r) => ({ provider: providers.get(r.name) }),
    };
    this.clientUrl = declareTopology(scope, args.reconcileCode ?? shippedReconcileCode());
    this.leafUrls = this.topology.servers
      .filter((x) => x.ports.leafnode !== undefined)
      .map((x) => `nats-leaf://${x.host}:${String(x.ports.leafnode)}`);
    this.servers = layout.regions.flatMap((r) => r.servers.map((x) => serverOutput(x, r)));
    this.peelBootstrap = peelBootstrap(scope, layout);
    this.checklist = awsChecklist(this.plan, layout, settings);
    this.registerOutputs({
      clientUrl: this.clientUrl,
      leafUrls: this.leafUrls,
      servers: this.servers,
      peelBootstrap: this.peelBootstrap,
      checklist: this.checklist,
    });
  }
}

/** Networks and what spans regions first, then each region's servers and services; the hub's client URL. */
function declareTopology(scope: AwsScope, reconcileCode: string): pulumi.Output<string> {
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
  const urls = layout.regions.map((r) => {
    const net = networkOf(r);
    const o = scope.inRegion(r);
    const region = { r, net, o, groups: securityGroups(scope, r, net, o) };
    const ami = regionAmi(scope, r, o);
    const instances = createServers(scope, region, ami, zone);
    const url = loadBalancer(scope, region, instances, zone);
    scheduledReconcile(scope, region, roles.reconcile, reconcileCode);
    if (roles.backups !== undefined) snapshotPolicy(scope, region, roles.backups);
    canaries(scope, region, ami);
    return url;
  });
  const hubUrl = urls[0];
  if (hubUrl === undefined) throw new Error("a layout has at least one region");
  return hubUrl;
}

function peelBootstrap(scope: AwsScope, layout: AwsLayout): pulumi.Output<string> {
  const { topology: t, settings: s } = scope;
  const hub = layout.regions[0];
  if (hub === undefined) throw new Error("a layout has at least one region");
  return pulumi.secret(
    scope.secrets.apply((sec) =>
      renderPeelBootstrap({
        topology: t,
        region: hub.name,
        appPassword: sec.app,
        ...(s.zesterPeel === undefined ? {} : { zesterPeel: s.zesterPeel }),
      }),
    ),
  );
}
