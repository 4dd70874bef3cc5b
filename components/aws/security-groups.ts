/** Each group of a region with its ingress rules, one resource per rule (stable names), egress open. */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { IngressRule, RegionLayout, SecurityGroupName } from "./layout";
import type { RegionNetwork } from "./network";
import type { Children } from "../children";

export interface SecurityGroupsArgs {
  r: RegionLayout;
  net: RegionNetwork;
  o: pulumi.CustomResourceOptions;
  stackId: string;
}

export function securityGroups(
  children: Children,
  args: SecurityGroupsArgs,
): Map<SecurityGroupName, aws.ec2.SecurityGroup> {
  const { r, net, o } = args;
  const stackTag = { "zester:stack": args.stackId };
  const groups = new Map<SecurityGroupName, aws.ec2.SecurityGroup>();
  for (const g of r.groups) {
    const sg = children.make(`${r.prefix}${g}`, o, (name, opts) => {
      return new aws.ec2.SecurityGroup(
        name,
        {
          vpcId: net.vpcId,
          description: `Zester ${g} (${r.name})`,
          tags: children.tags({ Name: children.label(`${r.prefix}${g}`), ...stackTag }),
        },
        opts,
      );
    });
    children.make(`${r.prefix}${g}-egress`, o, (name, opts) => {
      return new aws.vpc.SecurityGroupEgressRule(
        name,
        {
          securityGroupId: sg.id,
          ipProtocol: "-1",
          cidrIpv4: "0.0.0.0/0",
          description: "outbound",
          ...children.tagged(stackTag),
        },
        opts,
      );
    });
    groups.set(g, sg);
  }
  const group = (name: SecurityGroupName): aws.ec2.SecurityGroup => {
    const found = groups.get(name);
    if (found === undefined) throw new Error(`a rule names security group "${name}", which region ${r.name} lacks`);
    return found;
  };
  for (const rule of r.ingress)
    children.make(ruleName(r, rule), o, (name, opts) => {
      return new aws.vpc.SecurityGroupIngressRule(
        name,
        {
          securityGroupId: group(rule.group).id,
          ipProtocol: "tcp",
          fromPort: rule.port,
          toPort: rule.port,
          description: rule.description,
          ...("cidr" in rule.from
            ? { cidrIpv4: rule.from.cidr }
            : { referencedSecurityGroupId: group(rule.from.group).id }),
          ...children.tagged(stackTag),
        },
        opts,
      );
    });
  return groups;
}

function ruleName(r: RegionLayout, rule: IngressRule): string {
  const from = "cidr" in rule.from ? rule.from.cidr.replace(/[./]/g, "-") : rule.from.group;
  return `${r.prefix}${rule.group}-in-${String(rule.port)}-from-${from}`;
}
