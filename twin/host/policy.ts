/**
 * What may reach what inside the twin's network, as an nftables ruleset for the sandbox's own
 * network namespace (every host's traffic passes through it: each host has its own link to it, no
 * shared bridge, so even two hosts of one subnet are filtered). Security groups and
 * NetworkPolicies are both per-host allow lists, stateful (a reply is always allowed); a host with
 * no policy is open. A cut drops everything to and from its addresses, replies included, as a
 * network partition does. Pure: the policy in, the ruleset text out.
 */
import { z } from "zod";

export const PortRuleSchema = z.object({
  /** Peers, as CIDRs (`10.0.1.10/32`, `0.0.0.0/0`). */
  cidrs: z.array(z.string()).min(1),
  protocol: z.enum(["tcp", "udp", "icmp", "all"]),
  /** An inclusive port range; absent: every port. */
  ports: z.tuple([z.number().int().min(0).max(65_535), z.number().int().min(0).max(65_535)]).optional(),
});
export type PortRule = z.infer<typeof PortRuleSchema>;

export const HostPolicySchema = z.object({
  /** What may connect to the host: rules, or "any". */
  ingress: z.union([z.literal("any"), z.array(PortRuleSchema)]),
  /** What the host may connect to. */
  egress: z.union([z.literal("any"), z.array(PortRuleSchema)]),
});
export type HostPolicy = z.infer<typeof HostPolicySchema>;

export interface NetworkState {
  /** Per host address. */
  policies: ReadonlyMap<string, HostPolicy>;
  /** Addresses (CIDRs) cut off, by the cut's id. */
  cuts: ReadonlyMap<string, readonly string[]>;
}

const TABLE = "twin";
const IPV4_CIDR = /^\d{1,3}(\.\d{1,3}){3}(\/\d{1,2})?$/;

function cidr(value: string): string {
  if (!IPV4_CIDR.test(value)) throw new Error(`"${value}" is not an IPv4 address or CIDR (e.g. 10.0.1.0/24)`);
  return value;
}

const chainName = (direction: "in" | "out", address: string): string => `${direction}_${address.replaceAll(".", "_")}`;

function ruleLine(rule: PortRule, peer: "saddr" | "daddr"): string {
  const peers = `ip ${peer} { ${rule.cidrs.map(cidr).join(", ")} }`;
  if (rule.protocol === "all") return `${peers} return`;
  if (rule.protocol === "icmp") return `${peers} ip protocol icmp return`;
  const ports =
    rule.ports === undefined ? "" : ` ${rule.protocol} dport ${String(rule.ports[0])}-${String(rule.ports[1])}`;
  return `${peers} meta l4proto ${rule.protocol}${ports} return`;
}

function policyChain(name: string, rules: PortRule[], peer: "saddr" | "daddr"): string[] {
  return [`  chain ${name} {`, ...rules.map((r) => `    ${ruleLine(r, peer)}`), "    drop", "  }"];
}

/** The whole ruleset: replacing the table in one transaction, so no packet sees half of it. */
export function renderRuleset(state: NetworkState): string {
  const cut = [...new Set([...state.cuts.values()].flat().map(cidr))];
  const checks: string[] = [];
  const chains: string[] = [];
  for (const [address, policy] of [...state.policies].sort(([a], [b]) => a.localeCompare(b))) {
    cidr(address);
    if (policy.egress !== "any") {
      checks.push(`ip saddr ${address} jump ${chainName("out", address)}`);
      chains.push(...policyChain(chainName("out", address), policy.egress, "daddr"));
    }
    if (policy.ingress !== "any") {
      checks.push(`ip daddr ${address} jump ${chainName("in", address)}`);
      chains.push(...policyChain(chainName("in", address), policy.ingress, "saddr"));
    }
  }
  const cutRules = cut.length === 0 ? [] : [`ip saddr @cut drop`, `ip daddr @cut drop`];
  const hook = (name: string, hookName: string, withPolicies: boolean) => [
    `  chain ${name} {`,
    `    type filter hook ${hookName} priority 0; policy accept;`,
    ...cutRules.map((r) => `    ${r}`),
    ...(withPolicies ? ["    ct state established,related accept", ...checks.map((c) => `    ${c}`)] : []),
    "  }",
  ];
  return [
    `table inet ${TABLE} {}`,
    `delete table inet ${TABLE}`,
    `table inet ${TABLE} {`,
    ...(cut.length === 0 ? [] : [`  set cut { type ipv4_addr; flags interval; elements = { ${cut.join(", ")} } }`]),
    ...chains,
    // Between hosts; and from the sandbox itself (load balancers' forwarders) to a host.
    ...hook("forward", "forward", true),
    ...hook("output", "output", true),
    ...hook("input", "input", false),
    "}",
    "",
  ].join("\n");
}
