/**
 * The AWS target through the offline plan (`npm run -s plan -- --stack NAME --json`): what
 * every tier creates, what a tier change does to the servers that stay, and what bad config
 * is refused with.
 */
import { createHash } from "node:crypto";
import { keyResourceName } from "../../components/identities";
import { KEY_KIND, STACK_KEYS, type Seeds } from "../../topology/auth";
import { serverIdentities } from "../../topology/identities";
import { publicKeyOf, seedOf } from "../../topology/nkeys";
import { PLACEHOLDER_FILES } from "../../topology/render/server-files";
import { readFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { parse } from "yaml";
import { plan } from "../../sizing";
import { build, standardAddressing } from "../../topology";
import { DEFAULT_NATS_SERVER } from "../../components/aws/settings";
import { serverFiles } from "../../topology/render/server-files";
import { parsePlanJson } from "../../preview/plan-json";
import { diffResources } from "../../preview/resources";
import { once, planOf, runPlan, runPlanOver } from "../helpers/plans";
import { TIER_EXAMPLES } from "../helpers/tiers";
import { cloudInitSchema } from "../helpers/tools";

interface Resource {
  type: string;
  name: string;
  parent?: string;
  options: { dependsOn: string[]; ignoreChanges: string[]; retainOnDelete: boolean };
  inputs: Record<string, unknown>;
}
interface PlanJson {
  outputs: {
    tier: string;
    totalServers: number;
    aws?: {
      clientUrl: string;
      servers: { name: string; az: string; instanceType: string; volume: string; dnsName: string }[];
      peelBootstrap: Record<string, string>;
      checklist: { id: string; status: string; how: string }[];
    };
  };
  resources: Resource[];
}

const SUPERCLUSTER_AWS = JSON.stringify({
  region: "eu-west-1",
  monitoringCidrs: ["10.60.0.0/16"],
  regions: { "region-1": { region: "us-east-1" } },
});

function planJson(peels: number, ...sets: string[]): PlanJson {
  const regions = peels >= 100_000 ? [`aws=${SUPERCLUSTER_AWS}`] : [];
  return planOf("staging", [`peels=${String(peels)}`, ...regions, ...sets]) as PlanJson;
}

const refused = (peels: number, ...sets: string[]) => runPlan("staging", [`peels=${String(peels)}`, ...sets]);

const ofType = (p: PlanJson, type: string): Resource[] => p.resources.filter((r) => r.type === type);
const INSTANCE = "aws:ec2/instance:Instance";
const VOLUME = "aws:ebs/volume:Volume";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const PARAMETER = "aws:ssm/parameter:Parameter";

const planned = once((peels: number) => planJson(peels));
beforeAll(() => {
  for (const [, peels] of TIER_EXAMPLES) planned(peels);
});

describe("every tier on AWS", () => {
  const expected: Record<string, { core: string; volume: string }> = {
    "single-small": { core: "t3.micro", volume: "gp3 10 GiB 3000" },
    single: { core: "c6i.xlarge", volume: "gp3 50 GiB 3000" },
    "cluster-3": { core: "c6i.2xlarge", volume: "gp3 200 GiB 5000" },
    "cluster-5": { core: "c6i.4xlarge", volume: "io2 500 GiB 20000" },
    leaf: { core: "c6id.8xlarge", volume: "instance store" },
    supercluster: { core: "c6id.12xlarge", volume: "instance store" },
  };

  test.each(TIER_EXAMPLES)(
    "%s (%i peels): one instance per planned server, sized and stored by the plan",
    (tier, peels) => {
      const p = planned(peels);
      expect(p.outputs.tier).toBe(tier);
      const instances = ofType(p, INSTANCE);
      expect(instances).toHaveLength(p.outputs.totalServers);
      const core = instances.filter((i) => (i.inputs.tags as Record<string, string>)["zester:role"] === "core");
      const want = expected[tier];
      expect(new Set(core.map((i) => i.inputs.instanceType))).toEqual(new Set([want?.core]));
      const volumes = ofType(p, VOLUME);
      if (want?.volume === "instance store") {
        expect(volumes).toEqual([]);
        // The disk is prepared on every boot by the unit the user data installs.
        expect(String(core[0]?.inputs.userData)).toMatch(/Amazon EC2 NVMe Instance Storage/);
      } else {
        expect(volumes).toHaveLength(core.length);
        for (const v of volumes)
          expect(`${String(v.inputs.type)} ${String(v.inputs.size)} GiB ${String(v.inputs.iops)}`).toBe(want?.volume);
        expect(ofType(p, "aws:ec2/volumeAttachment:VolumeAttachment")).toHaveLength(core.length);
      }
    },
  );

  test.each(TIER_EXAMPLES)("%s (%i peels): each cluster spreads 1-1-1 or 2-2-1 over three zones", (_tier, peels) => {
    const p = planned(peels);
    const core = (p.outputs.aws?.servers ?? []).filter((s) => /(^|-)core-\d+$/.test(s.name));
    const byCluster = new Map<string, string[]>();
    for (const s of core) {
      const cluster = s.name.replace(/core-\d+$/, "");
      byCluster.set(cluster, [...(byCluster.get(cluster) ?? []), s.az]);
    }
    for (const azs of byCluster.values()) {
      const counts = [...new Set(azs)]
        .map((az) => azs.filter((a) => a === az).length)
        .sort()
        .reverse();
      expect(counts).toEqual({ 1: [1], 3: [1, 1, 1], 5: [2, 2, 1] }[azs.length]);
    }
  });

  test.each(TIER_EXAMPLES)(
    "%s (%i peels): no port is open to the world; routes and monitoring stay inside",
    (_tier, peels) => {
      const rules = ofType(planned(peels), INGRESS).map((r) => r.inputs);
      expect(rules.length).toBeGreaterThan(0);
      for (const r of rules) {
        expect(r.cidrIpv4).not.toBe("0.0.0.0/0");
        expect(r.fromPort).toBe(r.toPort);
        expect([4222, 6222, 7422, 8222]).toContain(r.fromPort);
        // Cluster routes only from the servers' own group; 7222 (gateways) is never opened.
        if (r.fromPort === 6222) expect(r.referencedSecurityGroupId).toMatch(/core-id$/);
        // Monitoring from its CIDRs only; /healthz from peers, the rollout's gate and the NLB.
        if (r.fromPort === 8222)
          expect(r.cidrIpv4 ?? r.referencedSecurityGroupId).toMatch(
            /^10\.60\.0\.0\/16$|-(core|leaf|reconcile|nlb)-id$/,
          );
      }
    },
  );

  test.each(TIER_EXAMPLES)(
    "%s (%i peels): an internal NLB per cluster on 4222 only, a DNS name per server",
    (_tier, peels) => {
      const p = planned(peels);
      const nlbs = ofType(p, "aws:lb/loadBalancer:LoadBalancer");
      expect(nlbs.length).toBeGreaterThan(0);
      for (const n of nlbs) expect(n.inputs).toMatchObject({ internal: true, loadBalancerType: "network" });
      for (const l of ofType(p, "aws:lb/listener:Listener"))
        expect(l.inputs).toMatchObject({ port: 4222, protocol: "TCP" });
      expect(ofType(p, "aws:lb/listener:Listener")).toHaveLength(nlbs.length);
      const records = ofType(p, "aws:route53/record:Record");
      const a = records.filter((r) => r.inputs.type === "A").map((r) => r.inputs.name);
      expect(new Set(a)).toEqual(new Set((p.outputs.aws?.servers ?? []).map((s) => s.dnsName)));
      expect(p.outputs.aws?.clientUrl).toMatch(/^nats:\/\/(\S+-)?clients\.zester\.internal:4222$/);
    },
  );

  test("the supercluster has one explicit provider per AWS region and peers each region's VPC with the hub's", () => {
    const p = planned(150_000);
    const providers = ofType(p, "pulumi:providers:aws").map((r) => r.inputs.region);
    expect(providers).toEqual(["eu-west-1", "us-east-1"]);
    expect(ofType(p, "aws:ec2/vpcPeeringConnection:VpcPeeringConnection")).toHaveLength(1);
    const hubLeaf = ofType(p, INGRESS).filter((r) => r.name.startsWith("zester-core-in-7422-from-10-43"));
    expect(hubLeaf).toHaveLength(1);
  });

  test("backups: EBS tiers get a Data Lifecycle Manager policy; NVMe tiers say what protects them instead", () => {
    const ebs = planned(2_000);
    const [policy] = ofType(ebs, "aws:dlm/lifecyclePolicy:LifecyclePolicy");
    expect(policy?.inputs).toMatchObject({ state: "ENABLED", policyDetails: { resourceTypes: ["VOLUME"] } });
    const nvme = planned(60_000);
    expect(ofType(nvme, "aws:dlm/lifecyclePolicy:LifecyclePolicy")).toEqual([]);
    const backups = nvme.outputs.aws?.checklist.find((c) => c.id === "jetstream-backups");
    expect(backups?.how).toMatch(/not snapshotted.*replicated R3 across availability zones/);
  });

  test("the KV reconcile runs in the VPC on a schedule, with the cluster's servers and the plan's buckets", () => {
    const p = planned(2_000);
    const [fn] = ofType(p, "aws:lambda/function:Function");
    const env = (fn?.inputs.environment as { variables: Record<string, string> }).variables;
    const job = JSON.parse(env.ZESTER_RECONCILE_JOB ?? "{}") as {
      servers: string[];
      clusterSize: number;
      buckets: unknown[];
    };
    expect(job.servers).toEqual([
      "nats://core-0.zester.internal:4222",
      "nats://core-1.zester.internal:4222",
      "nats://core-2.zester.internal:4222",
    ]);
    expect(job.clusterSize).toBe(3);
    expect(job.buckets).toEqual(plan({ peels: 2_000 }).kv);
    const [rule] = ofType(p, "aws:cloudwatch/eventRule:EventRule");
    expect(rule?.inputs.scheduleExpression).toBe("rate(5 minutes)");
  });

  test("core-1's nats-server.conf, a SecureString under its own path, is the renderer's: all addresses, advertised name, AZ tag", () => {
    const p = planned(2_000);
    const conf = ofType(p, PARAMETER).find((r) => r.name === "zester-core-1-file-nats-server.conf")?.inputs;
    expect(conf).toMatchObject({
      name: "/zester/zester-infra-staging/zester/core-1/files/nats-server.conf",
      type: "SecureString",
    });
    // The keys the mocks' random bytes make (scripts/plan-mocks.ts): a config holds public JWTs only.
    const seeds = Object.fromEntries(
      STACK_KEYS.map((k) => [
        k,
        seedOf(
          KEY_KIND[k],
          createHash("sha256")
            .update(`zester-${keyResourceName(k)}`)
            .digest(),
        ),
      ]),
    ) as Seeds;
    const topology = build(plan({ peels: 2_000 }), standardAddressing("zester.internal"));
    const files = serverFiles({
      topology,
      server: "core-1",
      natsVersion: "2.14.6",
      natsServer: { url: DEFAULT_NATS_SERVER.x86.url, sha256: DEFAULT_NATS_SERVER.x86.sha256 },
      identities: serverIdentities(seeds, topology),
      secretFiles: PLACEHOLDER_FILES,
      bindHost: "0.0.0.0",
      serverTags: ["az:eu-west-1b"],
      uniqueTagPrefix: "az:",
    });
    // Past 4 KB the parameter holds it gzipped (the manifest says so; the agent decodes it).
    const text = gunzipSync(Buffer.from(String(conf?.value), "base64")).toString();
    expect(text).toBe(files.files.find((f) => f.name === "nats-server.conf")?.content);
    expect(text).toMatch(/^listen: "0\.0\.0\.0:4222"$/m);
    // Public JWTs and file paths only: no seed, no private key.
    expect(text).not.toMatch(/PRIVATE KEY|S[OAU][A-Z0-9]{56}|password/);
  });

  test.each([
    [2_000, "core-0"],
    [60_000, "leaf-dmz-0"],
    [150_000, "region-1-core-3"],
  ])("%i peels: %s's user data and every peel bootstrap pass `cloud-init schema`", (peels, server) => {
    const p = peels === 60_000 ? planJson(peels, 'leafSites=[{"name":"dmz"}]') : planned(peels);
    const userData = String(ofType(p, INSTANCE).find((i) => i.name === `zester-${server}`)?.inputs.userData);
    const bootstraps = Object.values(p.outputs.aws?.peelBootstrap ?? {});
    expect(bootstraps.length).toBeGreaterThan(0);
    for (const text of [userData, ...bootstraps]) {
      const r = cloudInitSchema(text);
      expect(r.out).toMatch(/Valid cloud-config/);
    }
  });

  test("the user data holds no secret and nothing that follows the peel count: only the agent and where its config is", () => {
    for (const peels of [2_000, 60_000]) {
      for (const i of ofType(planned(peels), INSTANCE)) {
        const doc = parse(String(i.inputs.userData)) as { write_files: { path: string; content: string }[] };
        const paths = doc.write_files.map((f) => f.path);
        expect(paths).not.toContain("/etc/nats/nats-server.conf");
        for (const f of doc.write_files.filter((x) => x.path !== "/usr/local/sbin/zester-apply"))
          expect(f.content).not.toMatch(/password|generated-at-deploy|max_connections/);
        expect(i.inputs.iamInstanceProfile).toBe(`${i.name}-agent`);
      }
    }
  });

  test("a file the manifest says is gzipped (the agent) is, in its parameter: the agent decodes what the manifest says", () => {
    const p = planned(2_000);
    const param = (name: string) => ofType(p, PARAMETER).find((r) => r.name === name)?.inputs;
    const manifest = JSON.parse(String(param("zester-core-0-manifest")?.value)) as {
      files: { name: string; encoding?: string }[];
    };
    const gzipped = manifest.files.filter((f) => f.encoding === "gzip+base64").map((f) => f.name);
    // The agent, and a nats-server.conf past 4 KB (every identity's permissions are in it).
    expect(gzipped).toEqual(["nats-server.conf", "zester-apply"]);
    const agent = gunzipSync(Buffer.from(String(param("zester-core-0-file-zester-apply")?.value), "base64")).toString();
    expect(agent).toBe(readFileSync(path.join(__dirname, "..", "..", "components", "aws", "zester-apply.py"), "utf8"));
    for (const f of manifest.files.filter((x) => x.encoding === undefined))
      expect(String(param(`zester-core-0-file-${f.name}`)?.value).length).toBeLessThanOrEqual(4_096);
  });

  test("each server's instance profile may read its own parameters and nothing else", () => {
    const p = planned(2_000);
    const agents = ofType(p, "aws:iam/rolePolicy:RolePolicy").filter((x) => x.name.endsWith("-agent"));
    for (const policy of agents) {
      const server = policy.name.replace(/^zester-/, "").replace(/-agent$/, "");
      const doc = JSON.parse(String(policy.inputs.policy)) as { Statement: { Action: string[]; Resource: string[] }[] };
      expect(doc.Statement).toEqual([
        {
          Effect: "Allow",
          Action: ["ssm:GetParametersByPath", "ssm:GetParameter", "ssm:GetParameters"],
          Resource: [
            `arn:aws:ssm:eu-west-1:*:parameter/zester/zester-infra-staging/zester/${server}`,
            `arn:aws:ssm:eu-west-1:*:parameter/zester/zester-infra-staging/zester/${server}/*`,
          ],
        },
      ]);
    }
    expect(agents).toHaveLength(3);
    // The KV reconcile function may read its own seed's parameter and write its tier transition
    // report's, one parameter each, nothing else.
    const seed = ofType(p, "aws:iam/rolePolicy:RolePolicy").find((x) => x.name === "zester-kv-reconcile-seed");
    expect(JSON.parse(String(seed?.inputs.policy))).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Action: ["ssm:GetParameter"],
          Resource: "arn:aws:ssm:eu-west-1:*:parameter/zester/zester-infra-staging/zester/kv-reconcile/seed",
        },
        {
          Effect: "Allow",
          Action: ["ssm:PutParameter"],
          Resource: "arn:aws:ssm:eu-west-1:*:parameter/zester/zester-infra-staging/zester/kv-reconcile/transition",
        },
      ],
    });
    expect(ofType(p, "aws:iam/rolePolicy:RolePolicy")).toHaveLength(4);
  });

  test("with the SSM Agent pinned: Session Manager's permissions (and no parameter of another server), the agent installed", () => {
    const pin = { url: "https://example.com/amazon-ssm-agent.deb", sha256: "a".repeat(64) };
    const p = planJson(
      2_000,
      `aws=${JSON.stringify({ region: "eu-west-1", monitoringCidrs: ["10.60.0.0/16"], ssmAgent: pin })}`,
    );
    const policy = JSON.parse(
      String(ofType(p, "aws:iam/rolePolicy:RolePolicy").find((r) => r.name === "zester-core-0-agent")?.inputs.policy),
    ) as { Statement: { Action: string[]; Resource: string | string[] }[] };
    expect(policy.Statement[1]).toEqual({
      Effect: "Allow",
      Action: [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
      ],
      Resource: "*",
    });
    const manifest = JSON.parse(
      String(ofType(p, PARAMETER).find((r) => r.name === "zester-core-0-manifest")?.inputs.value),
    ) as { pins: Record<string, unknown>; services: string[] };
    expect(manifest.pins["amazon-ssm-agent"]).toEqual({
      ...pin,
      dest: "/var/lib/zester/amazon-ssm-agent.deb",
      package: true,
    });
    expect(manifest.services).toContain("amazon-ssm-agent.service");
  });

  test("peels get a bootstrap per site: the core through the load balancer's own name, a leaf site through its servers' addresses", () => {
    const p = planOf("prod", []) as PlanJson;
    const boot = p.outputs.aws?.peelBootstrap ?? {};
    expect(Object.keys(boot).sort()).toEqual(["branch-offices", "core", "dmz"]);
    const servers = (site: string) => {
      const doc = parse(boot[site] ?? "") as { write_files: { path: string; content: string }[] };
      const peel = parse(doc.write_files.find((f) => f.path === "/etc/zester/peel.yaml")?.content ?? "") as {
        nats: { servers: string[] };
      };
      return peel.nats.servers;
    };
    expect(servers("core")).toEqual(["nats://zester-clients-nlb-dns-name:4222"]);
    expect(servers("dmz")).toEqual([
      "nats://zester-leaf-dmz-0-private-ip:4222",
      "nats://zester-leaf-dmz-1-private-ip:4222",
      "nats://zester-leaf-dmz-2-private-ip:4222",
      "nats://zester-clients-nlb-dns-name:4222",
    ]);
  });

  test("each issued peel and each canary gets its own credentials, in a parameter of its own; the bootstrap carries none; a revoked peel is in every config", () => {
    const pin = { url: "https://example.com/zester-peel", sha256: "a".repeat(64) };
    const p = planJson(
      2_000,
      `aws=${JSON.stringify({ region: "eu-west-1", peelCanaries: 2, zesterPeel: pin, peelCredentials: ["edge-1", "edge-2"], revokedPeels: ["edge-2"] })}`,
    );
    const params = ofType(p, PARAMETER);
    const valueOf = (name: string) => String(params.find((r) => r.inputs.name === name)?.inputs.value);
    const seed = (creds: string) => /SU[A-Z2-7]{56}/.exec(creds)?.[0] ?? "none";
    const issued = (p.outputs.aws as unknown as { peelCredentials: Record<string, string> }).peelCredentials;
    expect(issued).toEqual({
      "edge-1": "/zester/zester-infra-staging/zester/peels/edge-1",
      "edge-2": "/zester/zester-infra-staging/zester/peels/edge-2",
    });
    const canaries = ["peel-canary-0", "peel-canary-1"].map(
      (c) => `/zester/zester-infra-staging/zester/${c}/files/peel.creds`,
    );
    const seeds = [...Object.values(issued), ...canaries].map((name) => seed(valueOf(name)));
    expect(new Set(seeds).size).toBe(4);
    expect(seeds).not.toContain("none");
    for (const name of [...Object.values(issued), ...canaries])
      expect(params.find((r) => r.inputs.name === name)?.inputs.type).toBe("SecureString");
    // A canary reads its own path only: one instance each, its own profile.
    expect(
      ofType(p, INSTANCE)
        .filter((i) => i.name.includes("peel-canary"))
        .map((i) => i.name),
    ).toEqual(["zester-peel-canary-0", "zester-peel-canary-1"]);
    const yaml = parse(valueOf("/zester/zester-infra-staging/zester/peel-canary-1/files/peel.yaml")) as {
      nats: { inbox_prefix: string };
    };
    expect(yaml.nats.inbox_prefix).toBe("_INBOX.canary-main-1");
    // The bootstraps hold no seed of anyone's.
    for (const text of Object.values(p.outputs.aws?.peelBootstrap ?? {}))
      expect(text).not.toMatch(/S[OAU][A-Z2-7]{56}/);
    // The revoked peel's key is refused by every server's config.
    const conf = gunzipSync(
      Buffer.from(valueOf("/zester/zester-infra-staging/zester/core-0/files/nats-server.conf"), "base64"),
    ).toString();
    const peelsAccount = [...conf.matchAll(/"(eyJ[^"]+)"/g)]
      .map(
        (m) =>
          JSON.parse(Buffer.from(m[1]?.split(".")[1] ?? "", "base64url").toString()) as {
            name: string;
            nats: { revocations?: Record<string, number> };
          },
      )
      .find((c) => c.name === "ZESTER_PEELS");
    expect(Object.keys(peelsAccount?.nats.revocations ?? {})).toEqual([publicKeyOf(seeds[1] ?? "")]);
  });

  test("the load balancer spreads over every zone and checks /healthz?js-server-only=true over HTTP", () => {
    const p = planned(2_000);
    expect(ofType(p, "aws:lb/loadBalancer:LoadBalancer")[0]?.inputs.enableCrossZoneLoadBalancing).toBe(true);
    expect(ofType(p, "aws:lb/targetGroup:TargetGroup")[0]?.inputs.healthCheck).toEqual({
      protocol: "HTTP",
      port: "8222",
      path: "/healthz?js-server-only=true",
    });
  });
});

describe("a tier change on AWS", () => {
  test("staging 2,000 → 12,000 peels: the servers that stay keep their names, zones and volumes; only additions and in-place changes", () => {
    const before = planned(2_000);
    const after = planJson(12_000);
    expect(after.outputs.tier).toBe("cluster-5");
    const key = (r: Resource) => `${r.type}::${r.name}`;
    const next = new Map(after.resources.map((r) => [key(r), r]));
    const removed = before.resources.filter((r) => !next.has(key(r))).map(key);
    expect(removed).toEqual([]);
    // No property the provider can only change by replacing the resource changes (plan-json/replacement.ts).
    const diff = diffResources(parsePlanJson(before, "2,000").resources, parsePlanJson(after, "12,000").resources);
    expect(
      diff.filter((c) => c.action === "replace" || c.action === "delete").map((c) => [c.name, c.replacedBy]),
    ).toEqual([]);
    const added = after.resources.filter((r) => !before.resources.some((b) => key(b) === key(r))).map(key);
    expect(added).toEqual(
      expect.arrayContaining(["aws:ec2/instance:Instance::zester-core-3", "aws:ec2/instance:Instance::zester-core-4"]),
    );
    // Grown in place: a bigger type, a bigger and faster volume (EBS changes both online).
    const core0 = (p: PlanJson) =>
      p.resources.find((r) => r.type === VOLUME && r.name === "zester-core-0-data")?.inputs;
    expect([core0(before)?.type, core0(after)?.type]).toEqual(["gp3", "io2"]);
    // Routes list the first three servers only, so the survivors' cluster block is unchanged.
    const routes = (p: PlanJson) =>
      /routes: \[[^\]]*\]/.exec(
        String(p.resources.find((r) => r.type === INSTANCE && r.name === "zester-core-0")?.inputs.userData),
      )?.[0];
    expect(routes(after)).toBe(routes(before));
  });
});

describe("bad AWS config fails before any resource, naming the key", () => {
  test.each([
    [
      "an unknown instance family",
      2_000,
      ['aws={"region":"eu-west-1","instanceFamily":"x9z"}'],
      /zester:aws\.instanceFamily: "x9z" is not an instance family this project knows; the families are: t3, /,
    ],
    [
      "two AZs for a 5-node cluster",
      25_000,
      [
        'aws={"region":"eu-west-1","peelCidrs":["10.0.0.0/8"],"network":{"vpcId":"vpc-0123456789abcdef0","subnets":[{"id":"subnet-0123456789abcdef0","az":"eu-west-1a"},{"id":"subnet-0123456789abcdef1","az":"eu-west-1b"}]}}',
      ],
      /zester:aws\.network\.subnets: a 5-server cluster spreads over 3 availability zones \(2-2-1\), but these subnets cover 2 \(eu-west-1a, eu-west-1b\)/,
    ],
    [
      "a peel CIDR that is not a CIDR",
      2_000,
      ['aws={"region":"eu-west-1","peelCidrs":["10.0.0/8"]}'],
      /zester:aws\.peelCidrs\[0\]: must be an IPv4 CIDR/,
    ],
    [
      "IOPS beyond any volume type",
      2_000,
      ['overrides={"server":{"diskIops":300000}}', 'aws={"region":"eu-west-1","instanceFamily":"c6i"}'],
      /zester:overrides\.server\.diskIops: 300000 IOPS on 200 GiB is beyond every EBS volume type/,
    ],
    [
      "0.0.0.0/0 said once",
      2_000,
      ['aws={"region":"eu-west-1","peelCidrs":["0.0.0.0/0"]}'],
      /zester:aws\.peelCidrs\[0\]: 0\.0\.0\.0\/0 opens the port to the whole internet; .*openToTheWorld/,
    ],
    ["no region anywhere", 2_000, ["aws={}"], /zester:aws\.region: is required \(or aws:region\)/],
    [
      "canaries without a peel binary",
      2_000,
      ['aws={"region":"eu-west-1","peelCanaries":3}'],
      /zester:aws\.zesterPeel: is required with peelCanaries/,
    ],
    [
      "a single server on instance store",
      500,
      ['aws={"region":"eu-west-1","instanceFamily":"c6id"}'],
      /zester:aws\.instanceFamily: "c6id" keeps JetStream on instance-store NVMe/,
    ],
    [
      "AWS settings on a Kubernetes stack",
      2_000,
      ["target=kubernetes"],
      /zester:aws: is read only when zester:target is aws/,
    ],
  ])("%s", (_what, peels, sets, message) => {
    const r = refused(peels, ...sets);
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
  });

  test("0.0.0.0/0 said twice is accepted, and is then the only world-open rule: 4222", () => {
    const p = planJson(2_000, 'aws={"region":"eu-west-1","peelCidrs":["0.0.0.0/0"],"openToTheWorld":true}');
    const world = ofType(p, INGRESS).filter((r) => r.inputs.cidrIpv4 === "0.0.0.0/0");
    expect(world.map((r) => r.inputs.fromPort)).toEqual([4222, 4222]);
  });
});

test("`plan --json` of the prod stack (over 64 KiB) reaches a pipe whole", () => {
  const r = runPlan("prod", []);
  expect(r.status).toBe(0);
  expect(r.stdout.length).toBeGreaterThan(65_536);
  expect(() => JSON.parse(r.stdout) as unknown).not.toThrow();
});

describe("what is deployed decides what an update may do (the offline plan's --previous)", () => {
  const over = (previous: unknown, stack: string, ...sets: string[]) => runPlanOver(previous, stack, sets);
  const parsed = (r: { status: number | null; stdout: string; stderr: string }): PlanJson => {
    if (r.status !== 0) throw new Error(`plan failed (${String(r.status)}): ${r.stderr}`);
    return JSON.parse(r.stdout) as PlanJson;
  };

  test("staging 12,000 → 60,000 peels (EBS → instance-store NVMe) exits 2 naming every server's data", () => {
    const r = over(planJson(12_000), "staging", "peels=60000");
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
    for (const server of ["core-0", "core-1", "core-2", "core-3", "core-4"])
      expect(r.stderr).toContain(
        `[data-loss] ${server}'s JetStream data would move from ebs ${server}-data to instance-store ${server}`,
      );
  });

  test("prod 60,000 → 61,000 peels: no instance's user data or type changes; two leaf servers are added", () => {
    const before = planOf("prod", []) as PlanJson;
    const after = parsed(over(before, "prod", "peels=61000"));
    const instances = (p: PlanJson) => new Map(ofType(p, INSTANCE).map((i) => [i.name, i.inputs]));
    const [was, now] = [instances(before), instances(after)];
    for (const [name, inputs] of was) {
      expect([name, now.get(name)?.userData]).toEqual([name, inputs.userData]);
      expect([name, now.get(name)?.instanceType]).toEqual([name, inputs.instanceType]);
    }
    expect([...now.keys()].filter((n) => !was.has(n)).sort()).toEqual([
      "zester-leaf-branch-offices-3",
      "zester-leaf-dmz-3",
    ]);
    // What changes reaches the servers as configuration: the reloadable nats-server.conf.
    const changed = ofType(after, PARAMETER).filter((p) => {
      const old = ofType(before, PARAMETER).find((x) => x.name === p.name);
      return old !== undefined && old.inputs.value !== p.inputs.value;
    });
    expect(changed.some((p) => p.name.endsWith("-file-nats-server.conf"))).toBe(true);
    const deployment = (p: PlanJson) =>
      (p.outputs as unknown as { deployment: { servers: { name: string; restart: string; host: string }[] } })
        .deployment.servers;
    for (const s of deployment(before)) {
      const next = deployment(after).find((x) => x.name === s.name);
      expect([s.name, next?.restart, next?.host]).toEqual([s.name, s.restart, s.host]);
    }
  });

  test("staging 2,000 → 12,000 peels: each server that exists stops and starts only after the one before is healthy again, never waiting for the ones the update adds", () => {
    const after = parsed(over(planned(2_000), "staging", "peels=12000"));
    const gates = ofType(after, "aws:lambda/invocation:Invocation");
    expect(gates.map((g) => g.name)).toEqual([
      "zester-core-0-healthy",
      "zester-core-1-healthy",
      "zester-core-2-healthy",
    ]);
    expect(JSON.parse(String(gates[1]?.inputs.input))).toEqual({
      action: "await-healthy",
      servers: [
        "http://core-1.zester.internal:8222",
        "http://core-0.zester.internal:8222",
        "http://core-2.zester.internal:8222",
      ],
      timeoutSeconds: 840,
    });
    // core-3 and core-4 are created after core-2's gate: a gate or an agent that waited for them
    // would wait for ever (the agent's manifest marks them joining).
    const manifest = (server: string) =>
      JSON.parse(
        String(
          ofType(after, "aws:ssm/parameter:Parameter").find((p) => p.name === `zester-${server}-manifest`)?.inputs
            .value,
        ),
      ) as { peers: { name: string; joining?: boolean }[] };
    expect(manifest("core-0").peers.map((p) => [p.name, p.joining ?? false])).toEqual([
      ["core-1", false],
      ["core-2", false],
      ["core-3", true],
      ["core-4", true],
    ]);
    expect(gates[1]?.inputs.triggers).toEqual({ instanceType: "c6i.4xlarge" });
    const instance = (name: string) => ofType(after, INSTANCE).find((i) => i.name === name);
    expect(instance("zester-core-1")?.options.dependsOn).toEqual(["zester-core-0-healthy"]);
    expect(instance("zester-core-2")?.options.dependsOn).toEqual(["zester-core-1-healthy"]);
    expect(gates[1]?.options.dependsOn).toEqual(["zester-core-1"]);
    // The servers the agent already runs on keep their user data: it updates itself from the parameters.
    expect(instance("zester-core-0")?.options.ignoreChanges).toEqual(["ami", "userData"]);
    expect(instance("zester-core-3")?.options.ignoreChanges).toEqual(["ami"]);
  });

  test("JetStream volumes outlive any update that drops them (retainOnDelete)", () => {
    for (const v of ofType(planned(2_000), VOLUME)) expect(v.options).toMatchObject({ retainOnDelete: true });
  });

  test("a stack from before the deployment record: EBS servers move to the agent one at a time; NVMe ones are refused", () => {
    const legacy = (p: PlanJson) => ({ outputs: { ...p.outputs, deployment: undefined } });
    const staging = parsed(over(legacy(planned(2_000)), "staging"));
    expect(ofType(staging, "aws:lambda/invocation:Invocation")).toHaveLength(3);
    const prod = over(legacy(planOf("prod", []) as PlanJson), "prod");
    expect(prod.status).toBe(2);
    expect(prod.stderr).toMatch(/\[data-loss\] core-0 keeps JetStream on instance-store NVMe, which a stop wipes/);
  });

  test("--previous must be an earlier `plan --json`", () => {
    const r = over({ nothing: true }, "staging");
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--previous: .* has no "outputs" object; give the output of an earlier `plan --json`/);
  });
});
