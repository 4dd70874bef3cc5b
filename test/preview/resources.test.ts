/**
 * The resource-level diff on hand-made plans: what `pulumi up` would create, update, replace or
 * delete, matched by URN and aliases, with ignoreChanges left out and the providers' own
 * replacement rules; and which changes admit more traffic than before.
 */
import { cidrContains, exposureOf } from "../../preview/exposure";
import type { PlannedResource } from "../../preview/plan-json";
import { replacingChanges } from "../../plan-json/replacement";
import { diffResources } from "../../preview/resources";
import { withoutPaths } from "../../plan-json/diff";

const urn = (type: string, name: string) => `urn:pulumi:s::zester-infra::zester:aws:Topology$${type}::${name}`;

/** A resource's options as Pulumi defaults them. */
const OPTIONS: PlannedResource["options"] = {
  protect: false,
  retainOnDelete: false,
  ignoreChanges: [],
  dependsOn: [],
  deleteBeforeReplace: false,
  replaceOnChanges: [],
};

function resource(
  type: string,
  name: string,
  inputs: Record<string, unknown>,
  extra: Partial<PlannedResource> = {},
): PlannedResource {
  return {
    type,
    name,
    urn: urn(type, name),
    aliases: [],
    custom: true,
    options: OPTIONS,
    inputs,
    ...extra,
  };
}

const INSTANCE = "aws:ec2/instance:Instance";
const SECRET = "kubernetes:core/v1:Secret";
const RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy";
const SERVICE = "kubernetes:core/v1:Service";

describe("which changes replace a resource", () => {
  test("an instance's new type is an update; a new subnet replaces it", () => {
    const before = { instanceType: "c6i.2xlarge", subnetId: "subnet-a" };
    expect(replacingChanges(INSTANCE, { before, after: { ...before, instanceType: "c6i.4xlarge" } })).toEqual([]);
    expect(replacingChanges(INSTANCE, { before, after: { ...before, subnetId: "subnet-b" } })).toEqual(["subnetId"]);
  });

  test("new user data replaces an instance only with userDataReplaceOnChange", () => {
    const before = { userData: "a" };
    expect(replacingChanges(INSTANCE, { before, after: { userData: "b" } })).toEqual([]);
    expect(replacingChanges(INSTANCE, { before, after: { userData: "b", userDataReplaceOnChange: true } })).toEqual([
      "userData",
    ]);
  });

  test("an SSM parameter's tier replaces it only from Advanced down to Standard", () => {
    const type = "aws:ssm/parameter:Parameter";
    expect(replacingChanges(type, { before: { tier: "Standard" }, after: { tier: "Advanced" } })).toEqual([]);
    expect(replacingChanges(type, { before: { tier: "Advanced" }, after: { tier: "Standard" } })).toEqual(["tier"]);
  });

  test("a Secret's data replaces it unless the Kubernetes provider makes Secrets mutable", () => {
    const [before, after] = [{ stringData: { a: "1" } }, { stringData: { a: "2" } }];
    expect(replacingChanges(SECRET, { before, after })).toEqual(["stringData"]);
    expect(replacingChanges(SECRET, { before, after, mutableSecrets: true })).toEqual([]);
  });

  test("a network load balancer leaving a subnet is replaced; gaining one is not", () => {
    const type = "aws:lb/loadBalancer:LoadBalancer";
    const nlb = (subnets: string[]) => ({ loadBalancerType: "network", subnets });
    expect(replacingChanges(type, { before: nlb(["a", "b"]), after: nlb(["a", "b", "c"]) })).toEqual([]);
    expect(replacingChanges(type, { before: nlb(["a", "b"]), after: nlb(["a"]) })).toEqual(["subnets"]);
  });

  test("any change to a random password replaces it", () => {
    const type = "random:index/randomPassword:RandomPassword";
    expect(replacingChanges(type, { before: { length: 32 }, after: { length: 40 } })).toEqual(["(any input)"]);
  });
});

describe("the diff of two plans", () => {
  test("a resource renamed with an alias is the same resource: an update when its inputs change, nothing when they do not", () => {
    const old = resource("aws:ebs/volume:Volume", "core-0-data", { size: 200, availabilityZone: "a" });
    const renamed = resource(
      "aws:ebs/volume:Volume",
      "zester-core-0-data",
      { size: 200, availabilityZone: "a" },
      {
        aliases: [old.urn],
      },
    );
    expect(diffResources([old], [renamed])).toEqual([]);
    const grown = { ...renamed, inputs: { size: 500, availabilityZone: "a" } };
    expect(diffResources([old], [grown]).map((c) => [c.action, c.name, c.properties])).toEqual([
      ["update", "zester-core-0-data", ["size"]],
    ]);
  });

  test("without the alias the rename is a delete and a create", () => {
    const old = resource("aws:ebs/volume:Volume", "core-0-data", { size: 200 });
    const renamed = resource("aws:ebs/volume:Volume", "zester-core-0-data", { size: 200 });
    expect(diffResources([old], [renamed]).map((c) => `${c.action} ${c.name}`)).toEqual([
      "create zester-core-0-data",
      "delete core-0-data",
    ]);
  });

  test("a property in ignoreChanges changes nothing, nested paths included", () => {
    const old = resource(INSTANCE, "zester-core-0", { userData: "a", ami: "x" });
    const next = resource(
      INSTANCE,
      "zester-core-0",
      { userData: "b", ami: "y" },
      {
        options: { ...OPTIONS, ignoreChanges: ["userData", "ami"] },
      },
    );
    expect(diffResources([old], [next])).toEqual([]);
    expect(withoutPaths({ spec: { volumeClaimTemplates: [1], replicas: 3 } }, ["spec.volumeClaimTemplates"])).toEqual({
      spec: { replicas: 3 },
    });
  });

  test("a named Kubernetes object replaced is deleted first; a retained volume deleted says it stays", () => {
    const secret = (v: string) =>
      resource(SECRET, "zester-nats-config", { metadata: { name: "nats-config" }, stringData: { "core-0.conf": v } });
    const [change] = diffResources([secret("a")], [secret("b")]);
    expect(change?.action).toBe("replace");
    expect(change?.notes).toContain("deleted before it is created again (it keeps its name)");
    const volume = resource(
      "aws:ebs/volume:Volume",
      "zester-core-4-data",
      {},
      {
        options: { ...OPTIONS, retainOnDelete: true },
      },
    );
    expect(diffResources([volume], [])[0]?.notes).toEqual(["retainOnDelete: it stays in the cloud, no longer managed"]);
  });

  test("components and stack references are not diffed", () => {
    const component = resource("zester:aws:Topology", "zester", {});
    expect(diffResources([], [component])).toEqual([]);
  });
});

describe("exposure: a change that admits more than before", () => {
  const rule = (inputs: Record<string, unknown>) =>
    resource(RULE, "zester-core-in-4222", { ipProtocol: "tcp", fromPort: 4222, toPort: 4222, ...inputs });
  const change = (before: PlannedResource | undefined, after: PlannedResource | undefined) => {
    const [c] = diffResources(before === undefined ? [] : [before], after === undefined ? [] : [after]);
    if (c === undefined) throw new Error("no change");
    return exposureOf(c);
  };

  test("a new ingress rule opens its port; a wider CIDR widens it; a narrower one and a deleted rule do not", () => {
    expect(change(undefined, rule({ cidrIpv4: "10.0.0.0/8" }))).toBe("opens 4222/tcp from 10.0.0.0/8");
    expect(change(rule({ cidrIpv4: "10.1.0.0/16" }), rule({ cidrIpv4: "10.0.0.0/8" }))).toBe(
      "widens 4222/tcp from 10.1.0.0/16 to 4222/tcp from 10.0.0.0/8",
    );
    expect(change(rule({ cidrIpv4: "10.0.0.0/8" }), rule({ cidrIpv4: "10.1.0.0/16" }))).toBeUndefined();
    expect(change(rule({ cidrIpv4: "10.0.0.0/8" }), undefined)).toBeUndefined();
    expect(change(rule({ cidrIpv4: "10.0.0.0/8" }), rule({ cidrIpv4: "10.0.0.0/8", toPort: 4223 }))).toMatch(/^widens/);
  });

  test("a NetworkPolicy deleted admits anyone; one that gains a source widens; a new one restricts", () => {
    const policy = (from: unknown[]) =>
      resource(POLICY, "zester-np", { spec: { ingress: [{ from, ports: [{ port: 4222, protocol: "TCP" }] }] } });
    const peels = { ipBlock: { cidr: "10.1.0.0/16" } };
    expect(change(policy([peels]), undefined)).toBe("removes a NetworkPolicy: its pods admit any traffic");
    expect(change(undefined, policy([peels]))).toBeUndefined();
    expect(change(policy([peels]), policy([{ ipBlock: { cidr: "10.0.0.0/8" } }]))).toMatch(/^admits .*10\.0\.0\.0\/8/);
    expect(change(policy([{ ipBlock: { cidr: "10.0.0.0/8" } }]), policy([peels]))).toBeUndefined();
    expect(change(policy([peels]), policy([]))).toMatch(/from anyone/);
  });

  test("a LoadBalancer Service created, or its source ranges widened, is an exposure", () => {
    const lb = (ranges?: string[]) =>
      resource(SERVICE, "zester-leafnodes", {
        spec: { type: "LoadBalancer", ...(ranges === undefined ? {} : { loadBalancerSourceRanges: ranges }) },
      });
    expect(change(undefined, lb(["10.43.0.0/16"]))).toBe("a LoadBalancer Service reachable from 10.43.0.0/16");
    expect(change(lb(["10.43.0.0/16"]), lb(["10.43.0.0/16", "10.44.0.0/16"]))).toMatch(/→/);
    expect(change(lb(["10.43.0.0/16"]), lb())).toBe("source ranges 10.43.0.0/16 → anywhere");
  });

  test("CIDR containment", () => {
    expect(cidrContains("10.0.0.0/8", "10.42.0.0/16")).toBe(true);
    expect(cidrContains("10.42.0.0/16", "10.0.0.0/8")).toBe(false);
    expect(cidrContains("0.0.0.0/0", "192.168.1.0/24")).toBe(true);
  });
});
