/**
 * Whether a change admits more traffic than before: an ingress rule created or widened (a port
 * range, a source), a NetworkPolicy deleted (its pods then admit anyone) or widened, a
 * LoadBalancer Service created or its source ranges widened. Returns what is newly admitted, in
 * words, or nothing. A narrower rule, a new NetworkPolicy (it restricts) or a deleted security
 * group rule admits nothing new.
 */
import { isDeepStrictEqual } from "node:util";
import { parseCidr } from "../components/cidr";
import type { ResourceChange } from "./resources";

const INGRESS_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const SERVICE = "kubernetes:core/v1:Service";

type Inputs = Record<string, unknown>;

export function exposureOf(change: ResourceChange): string | undefined {
  const [was, now] = [change.before?.inputs, change.after?.inputs];
  if (change.type === INGRESS_RULE)
    return change.action === "delete" || now === undefined ? undefined : ruleExposure(was, now);
  if (change.type === NETWORK_POLICY) return policyExposure(change.action, was, now);
  if (change.type === SERVICE && now !== undefined) return serviceExposure(was, now);
  return undefined;
}

/** Whether CIDR `outer` holds every address of `inner` (IPv4; anything else only when equal). */
export function cidrContains(outer: string, inner: string): boolean {
  if (outer === inner) return true;
  const [o, i] = [parseCidr(outer), parseCidr(inner)];
  if (o === undefined || i === undefined || o.prefix > i.prefix) return false;
  const block = 2 ** (32 - o.prefix);
  return Math.floor(i.base / block) === Math.floor(o.base / block);
}

interface Admitted {
  protocol: string;
  from: number;
  to: number;
  source: string;
}

function admittedByRule(inputs: Inputs): Admitted {
  const protocol = typeof inputs.ipProtocol === "string" ? inputs.ipProtocol : "-1";
  const all = protocol === "-1";
  const source = [inputs.cidrIpv4, inputs.cidrIpv6, inputs.referencedSecurityGroupId, inputs.prefixListId].find(
    (v) => typeof v === "string",
  );
  return {
    protocol,
    from: all ? 0 : Number(inputs.fromPort ?? 0),
    to: all ? 65_535 : Number(inputs.toPort ?? 65_535),
    source: typeof source === "string" ? source : "(unknown until deploy)",
  };
}

const describeRule = (a: Admitted) =>
  `${a.protocol === "-1" ? "every port" : a.from === a.to ? `${String(a.from)}/${a.protocol}` : `${String(a.from)}-${String(a.to)}/${a.protocol}`} from ${a.source}`;

function ruleExposure(was: Inputs | undefined, now: Inputs): string | undefined {
  const next = admittedByRule(now);
  if (was === undefined) return `opens ${describeRule(next)}`;
  const old = admittedByRule(was);
  const ports = (old.protocol === "-1" || old.protocol === next.protocol) && next.from >= old.from && next.to <= old.to;
  const sources = cidrContains(old.source, next.source);
  return ports && sources ? undefined : `widens ${describeRule(old)} to ${describeRule(next)}`;
}

/** (port, peer) pairs a NetworkPolicy's ingress admits; "any" where a rule leaves either out. */
function policyPairs(inputs: Inputs | undefined): { port: string; peer: unknown }[] {
  const spec = inputs?.spec as { ingress?: { from?: unknown[]; ports?: unknown[] }[] } | undefined;
  return (spec?.ingress ?? []).flatMap((rule) => {
    const ports =
      rule.ports === undefined || rule.ports.length === 0 ? ["any"] : rule.ports.map((p) => JSON.stringify(p));
    const peers = rule.from === undefined || rule.from.length === 0 ? ["any"] : rule.from;
    return ports.flatMap((port) => peers.map((peer) => ({ port, peer })));
  });
}

const ipBlock = (peer: unknown): string | undefined => {
  const block = (peer as { ipBlock?: { cidr?: unknown; except?: unknown } } | undefined)?.ipBlock;
  return typeof block?.cidr === "string" && block.except === undefined ? block.cidr : undefined;
};

function peerCovered(old: unknown, next: unknown): boolean {
  if (old === "any" || isDeepStrictEqual(old, next)) return true;
  const [o, n] = [ipBlock(old), ipBlock(next)];
  return o !== undefined && n !== undefined && cidrContains(o, n);
}

function policyExposure(
  action: ResourceChange["action"],
  was: Inputs | undefined,
  now: Inputs | undefined,
): string | undefined {
  if (action === "delete") return "removes a NetworkPolicy: its pods admit any traffic";
  if (action === "create" || now === undefined) return undefined;
  const old = policyPairs(was);
  const wider = policyPairs(now).filter(
    (pair) => !old.some((o) => (o.port === "any" || o.port === pair.port) && peerCovered(o.peer, pair.peer)),
  );
  if (wider.length === 0) return undefined;
  return `admits ${wider.map((w) => `${w.port === "any" ? "every port" : w.port} from ${w.peer === "any" ? "anyone" : JSON.stringify(w.peer)}`).join("; ")}`;
}

function serviceExposure(was: Inputs | undefined, now: Inputs): string | undefined {
  const spec = (i: Inputs | undefined) => (i?.spec ?? {}) as { type?: string; loadBalancerSourceRanges?: string[] };
  const [old, next] = [spec(was), spec(now)];
  const reachable = (s: typeof old) => s.type === "LoadBalancer" || s.type === "NodePort";
  if (!reachable(next)) return undefined;
  const ranges = next.loadBalancerSourceRanges ?? [];
  const describe = ranges.length === 0 ? "anywhere" : ranges.join(", ");
  if (!reachable(old)) return `a ${String(next.type)} Service reachable from ${describe}`;
  const oldRanges = old.loadBalancerSourceRanges ?? [];
  if (oldRanges.length === 0) return undefined;
  const wider = ranges.length === 0 || ranges.some((r) => !oldRanges.some((o) => cidrContains(o, r)));
  return wider ? `source ranges ${oldRanges.join(", ")} → ${describe}` : undefined;
}
