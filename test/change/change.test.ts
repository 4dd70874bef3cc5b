import { checkChange, ChangeRefused, ec2Architecture, planChange, tolerates } from "../../change/change";
import type { DeployedServer, Deployment } from "../../change/deployment";

const server = (name: string, extra: Partial<DeployedServer> = {}): DeployedServer => ({
  name,
  role: "core",
  region: "main",
  cluster: "zester",
  host: "c6i.2xlarge",
  restart: "r1",
  reload: "l1",
  data: { kind: "ebs", volume: `${name}-data`, detail: "gp3 200 GiB" },
  ...extra,
});

const deployment = (servers: DeployedServer[]): Deployment => ({
  version: 1,
  target: "aws",
  tier: "cluster-3",
  peels: 2_000,
  natsVersion: "2.14.6",
  servers,
});

const three = deployment(["core-0", "core-1", "core-2"].map((n) => server(n)));
const each = (f: (s: DeployedServer) => DeployedServer) => deployment(three.servers.map(f));

describe("what a change does to each server, and what is refused", () => {
  test("nothing deployed yet: every server is new", () => {
    expect(planChange(undefined, three).changes.map((c) => c.action)).toEqual(["create", "create", "create"]);
  });

  test("a deployment from before per-peel identities moving to them: refused, its buckets would be left behind", () => {
    const operator = (d: Deployment): Deployment => ({ ...d, accounts: "operator" });
    const moved = planChange(three, operator(each((s) => ({ ...s, reload: "l2" }))));
    expect(moved.refused).toEqual([
      expect.objectContaining({
        server: "core-0",
        risk: "data-loss",
        reason: expect.stringMatching(
          /names the app account by its key instead of ZESTER.*nats stream backup/,
        ) as string,
      }),
    ]);
    // Once there, or with no JetStream data to leave behind, nothing to refuse.
    expect(planChange(operator(three), operator(three)).refused).toEqual([]);
    const leafOnly = deployment([server("leaf-edge-0", { role: "leaf", cluster: undefined, data: undefined })]);
    expect(planChange(leafOnly, operator(leafOnly)).refused).toEqual([]);
  });

  test("a config a reload applies: reloaded, nothing refused", () => {
    const plan = checkChange(
      three,
      each((s) => ({ ...s, reload: "l2" })),
    );
    expect(plan.changes.map((c) => [c.server, c.action, c.risks])).toEqual([
      ["core-0", "reload", ["reload"]],
      ["core-1", "reload", ["reload"]],
      ["core-2", "reload", ["reload"]],
    ]);
  });

  test("a bigger instance on EBS: stopped and started one at a time, data kept, volume grown in place", () => {
    const plan = checkChange(
      three,
      each((s) => ({
        ...s,
        host: "c6i.4xlarge",
        data: { kind: "ebs", volume: `${s.name}-data`, detail: "io2 500 GiB" },
      })),
    );
    expect(plan.changes[0]).toEqual({
      server: "core-0",
      action: "stop-start",
      risks: ["restart"],
      why: ["data gp3 200 GiB → io2 500 GiB, in place", "host c6i.2xlarge → c6i.4xlarge"],
    });
  });

  test("an instance-store server is never stopped: its NVMe would be wiped", () => {
    const nvme = each((s) => ({
      ...s,
      host: "c6id.8xlarge",
      data: { kind: "instance-store", volume: s.name, detail: "1 × 1900 GB" },
    }));
    expect(() => checkChange(nvme, deployment(nvme.servers.map((s) => ({ ...s, host: "c6id.12xlarge" }))))).toThrow(
      /\[data-loss\] core-0 keeps JetStream on instance-store NVMe, which a stop wipes/,
    );
  });

  test("another processor architecture in place is refused: the instance would keep its image and stay stopped", () => {
    expect(() =>
      checkChange(
        three,
        each((s) => ({ ...s, host: "c7g.2xlarge" })),
      ),
    ).toThrow(/\[restart\] core-0 would change from c6i\.2xlarge \(x86_64\) to c7g\.2xlarge \(arm64\) in place/);
    // The same architecture, a bigger type: a stop and a start, allowed.
    expect(
      planChange(
        three,
        each((s) => ({ ...s, host: "c6i.4xlarge" })),
      ).refused,
    ).toEqual([]);
    expect([ec2Architecture("c7gd.8xlarge"), ec2Architecture("t4g.small"), ec2Architecture("m7i-flex.large")]).toEqual([
      "arm64",
      "arm64",
      "x86_64",
    ]);
    expect(ec2Architecture("pod")).toBeUndefined();
  });

  test("data moved to another kind of disk, or a server with data removed, is refused", () => {
    const plan = planChange(
      three,
      deployment([
        server("core-0", { data: { kind: "instance-store", volume: "core-0", detail: "NVMe" } }),
        server("core-1"),
      ]),
    );
    expect(plan.refused.map((r) => [r.server, r.risk])).toEqual([
      ["core-0", "data-loss"],
      ["core-2", "data-loss"],
    ]);
    expect(plan.refused[1]?.reason).toMatch(/removing core-2 deletes its JetStream data \(ebs core-2-data\)/);
  });

  test("a store bound elsewhere (another zone, namespace, class) is refused, naming the settings; records without placement compare as before", () => {
    const zone = "availability zone (zester:aws.region, zester:aws.network)";
    const placed = (az: (i: number) => string) =>
      deployment(
        three.servers.map((s, i) => ({
          ...s,
          data: { kind: "ebs", volume: `${s.name}-data`, detail: "gp3 200 GiB", placement: { [zone]: az(i) } },
        })),
      );
    const zones = ["eu-west-1a", "eu-west-1b", "eu-west-1c"];
    const before = placed((i) => zones[i] ?? "");
    // The same zones in another order: every volume would be replaced in its new zone.
    const reordered = planChange(
      before,
      placed((i) => zones[(i + 1) % 3] ?? ""),
    );
    expect(reordered.refused.map((r) => [r.server, r.risk])).toEqual([
      ["core-0", "data-loss"],
      ["core-1", "data-loss"],
      ["core-2", "data-loss"],
    ]);
    expect(reordered.refused[0]?.reason).toMatch(
      /core-0's JetStream data \(ebs core-0-data\) is bound to its availability zone \(zester:aws\.region, zester:aws\.network\) eu-west-1a; eu-west-1b would replace the volume/,
    );
    expect(reordered.changes[0]?.risks).toContain("data-loss");
    expect(
      planChange(
        before,
        placed((i) => zones[i] ?? ""),
      ).refused,
    ).toEqual([]);
    // A record from before placement was kept: nothing to compare, nothing refused.
    expect(
      planChange(
        three,
        placed((i) => zones[(i + 1) % 3] ?? ""),
      ).refused,
    ).toEqual([]);
    // A label one record lacks is not compared; a label both have is.
    const claims = (namespace: string, extra: Record<string, string> = {}) =>
      each((s) => ({
        ...s,
        data: { kind: "claim", volume: `jetstream-${s.name}`, detail: "10Gi", placement: { namespace, ...extra } },
      }));
    expect(planChange(claims("zester"), claims("zester", { class: "gp3" })).refused).toEqual([]);
    const renamed = planChange(claims("zester"), claims("zester-prod"));
    expect(renamed.refused).toHaveLength(3);
    expect(renamed.refused[0]?.reason).toMatch(/bound to its namespace zester; zester-prod would replace the claim/);
  });

  test("a store never shrinks: a smaller volume or claim is refused, naming the setting; growing is in place", () => {
    const sized = (kind: "ebs" | "claim", sizeGiB: number | undefined) =>
      each((s) => ({
        ...s,
        data: {
          kind,
          volume: kind === "ebs" ? `${s.name}-data` : `jetstream-${s.name}`,
          detail: `${String(sizeGiB)} GiB`,
          ...(sizeGiB === undefined ? {} : { sizeGiB }),
        },
      }));
    const shrunk = planChange(sized("ebs", 500), sized("ebs", 200));
    expect(shrunk.refused).toHaveLength(3);
    expect(shrunk.refused[0]).toEqual({
      server: "core-0",
      risk: "data-loss",
      reason: expect.stringMatching(
        /core-0-data would shrink from 500 GiB to 200 GiB: EC2's ModifyVolume refuses a smaller size.*zester:overrides\.server\.jetstreamDiskGiB .* at 500 GiB or more/,
      ) as string,
    });
    expect(planChange(sized("claim", 50), sized("claim", 10)).refused[0]?.reason).toMatch(
      /claim jetstream-core-0 would shrink from 50 GiB to 10 GiB: Kubernetes refuses a claim's storage request below/,
    );
    const grown = planChange(sized("ebs", 200), sized("ebs", 500));
    expect(grown.refused).toEqual([]);
    expect(grown.changes[0]?.why).toEqual(["data 200 GiB → 500 GiB, in place"]);
    // A record from before sizes were kept: nothing to compare, nothing refused.
    expect(planChange(sized("ebs", undefined), sized("ebs", 200)).refused).toEqual([]);
  });

  test("a leaf server (no data) may go", () => {
    const withLeaf = deployment([
      ...three.servers,
      server("leaf-dmz-2", { role: "leaf", data: undefined, cluster: undefined, site: "dmz" }),
    ]);
    expect(checkChange(withLeaf, three).changes.find((c) => c.server === "leaf-dmz-2")?.action).toBe("delete");
  });

  test("a single server does not become a cluster member in place", () => {
    const single = deployment([server("core-0")]);
    expect(() => checkChange(single, three)).toThrow(
      /core-0 runs alone; a standalone server cannot become a member of a 3-server cluster/,
    );
  });

  test("more voters down at once than the cluster survives is refused (quorum)", () => {
    expect(tolerates(3)).toBe(1);
    expect(tolerates(5)).toBe(2);
    // core-2 removed for good while the others roll: two of three down.
    const plan = planChange(
      three,
      deployment([server("core-0", { restart: "r2" }), server("core-1", { restart: "r2" })]),
    );
    expect(plan.refused.map((r) => r.risk)).toContain("quorum");
    expect(plan.refused.find((r) => r.risk === "quorum")?.reason).toMatch(
      /has 3 voters and survives 1 down at once; this change takes 2 down together/,
    );
  });

  test("the refusal lists every reason, each with its risk", () => {
    let error: unknown;
    try {
      checkChange(three, deployment([server("core-0")]));
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ChangeRefused);
    expect((error as ChangeRefused).refusals.map((r) => `${r.server}:${r.risk}`)).toEqual([
      "core-1:data-loss",
      "core-2:data-loss",
      // Two of three voters gone at once: the cluster loses its quorum too.
      "core-0:quorum",
    ]);
  });
});
