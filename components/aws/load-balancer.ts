/** An internal NLB per region for client connections to its core; never for routes. */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { STANDARD_PORTS } from "../../topology/build";
import type { Children } from "../children";
import { securityGroup, type RegionScope } from "./scope";

export interface LoadBalancer {
  /** `nats://<region>clients.<zone>:<client port>`, its name in the private zone. */
  url: string;
  /** The load balancer's own DNS name: resolvable anywhere (to private addresses). */
  dnsName: pulumi.Output<string>;
}

export interface LoadBalancerArgs {
  /** The region's instances by server name (its core servers are the targets). */
  instances: Map<string, aws.ec2.Instance>;
  /** The private zone the balancer is named in, and the options of a resource in its (the hub's) region. */
  zone: aws.route53.Zone;
  dnsZone: string;
  hubOpts: pulumi.CustomResourceOptions;
  stackId: string;
}

export function loadBalancer(children: Children, region: RegionScope, args: LoadBalancerArgs): LoadBalancer {
  const { instances, zone } = args;
  const { r, net, o } = region;
  const local = `${r.prefix}clients`;
  const stackTag = { "zester:stack": args.stackId };
  const nlb = children.make(local, o, (name, opts) => {
    return new aws.lb.LoadBalancer(
      name,
      {
        internal: true,
        loadBalancerType: "network",
        // Peels spread over every server, whichever zone's address they resolved.
        enableCrossZoneLoadBalancing: true,
        subnets: [...new Set(r.coreSubnets)].map((x) => net.subnetId(x)),
        securityGroups: [securityGroup(region, "nlb").id],
        tags: children.tags({ Name: children.label(local), ...stackTag }),
      },
      opts,
    );
  });
  const targets = children.make(local, o, (name, opts) => {
    return new aws.lb.TargetGroup(
      name,
      {
        port: STANDARD_PORTS.client,
        protocol: "TCP",
        vpcId: net.vpcId,
        targetType: "instance",
        // A server takes peels once it runs and its JetStream is enabled (NATS's readiness check).
        healthCheck: { protocol: "HTTP", port: String(STANDARD_PORTS.monitor), path: "/healthz?js-server-only=true" },
        ...children.tagged(stackTag),
      },
      opts,
    );
  });
  children.make(local, o, (name, opts) => {
    return new aws.lb.Listener(
      name,
      {
        loadBalancerArn: nlb.arn,
        port: STANDARD_PORTS.client,
        protocol: "TCP",
        defaultActions: [{ type: "forward", targetGroupArn: targets.arn }],
        ...children.tagged(stackTag),
      },
      opts,
    );
  });
  for (const server of r.servers.filter((x) => x.role === "core")) {
    const instance = instances.get(server.name);
    if (instance !== undefined)
      children.make(server.name, o, (name, opts) => {
        return new aws.lb.TargetGroupAttachment(
          name,
          { targetGroupArn: targets.arn, targetId: instance.id, port: STANDARD_PORTS.client },
          opts,
        );
      });
  }
  const host = `${local}.${args.dnsZone}`;
  children.make(local, args.hubOpts, (name, opts) => {
    return new aws.route53.Record(
      name,
      { zoneId: zone.zoneId, name: host, type: "CNAME", ttl: 60, records: [nlb.dnsName] },
      opts,
    );
  });
  return { url: clientUrlAt(host), dnsName: nlb.dnsName };
}

/** Where a client connects to a server or a load balancer by its host: every AWS server's client port. */
export const clientUrlAt = (host: string): string => `nats://${host}:${String(STANDARD_PORTS.client)}`;
