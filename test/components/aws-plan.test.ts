/**
 * The AWS target through the offline plan (`npm run -s plan -- --stack NAME --json`): what
 * every tier creates, what a tier change does to the servers that stay, and what bad config
 * is refused with.
 */
import { parse } from "yaml";
import { plan } from "../../sizing";
import { build, standardAddressing } from "../../topology";
import { renderNatsServerConf } from "../../topology/render/nats-server-conf";
import { STORE_DIR } from "../../topology/render/cloud-init";
import { once, planOf, runPlan } from "../helpers/plans";
import { TIER_EXAMPLES } from "../helpers/tiers";
import { cloudInitSchema } from "../helpers/tools";

interface Resource {
  type: string;
  name: string;
  parent?: string;
  inputs: Record<string, unknown>;
}
interface PlanJson {
  outputs: {
    tier: string;
    totalServers: number;
    aws?: {
      clientUrl: string;
      servers: { name: string; az: string; instanceType: string; volume: string; dnsName: string }[];
      peelBootstrap: string;
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
        if (r.fromPort === 8222) expect(r.cidrIpv4).toBe("10.60.0.0/16");
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
    const hubLeaf = ofType(p, INGRESS).filter((r) => r.name.startsWith("zester-region-0-core-in-7422-from-10-43"));
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

  test("the user data carries, byte for byte, the nats-server.conf the local target boots, with AZ tags", () => {
    const p = planned(2_000);
    const core1 = ofType(p, INSTANCE).find((i) => i.name === "zester-core-1");
    const doc = parse(String(core1?.inputs.userData)) as { write_files: { path: string; content: string }[] };
    const conf = doc.write_files.find((f) => f.path === "/etc/nats/nats-server.conf")?.content;
    const secrets = {
      system: "zester-system-password-generated-at-deploy",
      app: "zester-app-password-generated-at-deploy",
      leaf: "zester-leaf-password-generated-at-deploy",
      route: "zester-route-password-generated-at-deploy",
    };
    expect(conf).toBe(
      renderNatsServerConf({
        topology: build(plan({ peels: 2_000 }), standardAddressing("zester.internal")),
        server: "core-1",
        version: "2.14.6",
        storeDir: STORE_DIR,
        secrets,
        serverTags: ["az:eu-west-1b"],
        uniqueTagPrefix: "az:",
      }),
    );
  });

  test.each([
    [2_000, "core-0"],
    [60_000, "leaf-dmz-0"],
    [150_000, "region-1-core-3"],
  ])("%i peels: %s's user data and the peel bootstrap pass `cloud-init schema`", (peels, server) => {
    const p = peels === 60_000 ? planJson(peels, 'leafSites=[{"name":"dmz"}]') : planned(peels);
    const userData = String(ofType(p, INSTANCE).find((i) => i.name === `zester-${server}`)?.inputs.userData);
    for (const text of [userData, p.outputs.aws?.peelBootstrap ?? ""]) {
      expect(cloudInitSchema(text).out).toMatch(/Valid cloud-config/);
    }
  });
});

/** Properties the AWS provider can only change by replacing the resource ("forces new resource"). */
const REPLACING: Record<string, string[]> = {
  "aws:ec2/instance:Instance": ["subnetId", "availabilityZone", "privateIp", "keyName", "tenancy", "placementGroup"],
  "aws:ebs/volume:Volume": ["availabilityZone", "encrypted", "kmsKeyId", "snapshotId"],
  "aws:ec2/volumeAttachment:VolumeAttachment": ["deviceName", "instanceId", "volumeId"],
  "aws:ec2/subnet:Subnet": ["vpcId", "cidrBlock", "availabilityZone"],
  "aws:ec2/securityGroup:SecurityGroup": ["vpcId", "description", "name"],
  "aws:route53/record:Record": ["name", "zoneId", "type"],
  "aws:lb/loadBalancer:LoadBalancer": ["internal", "loadBalancerType", "name"],
  "aws:lb/targetGroup:TargetGroup": ["port", "protocol", "vpcId", "targetType", "name"],
  "aws:lb/targetGroupAttachment:TargetGroupAttachment": ["targetGroupArn", "targetId", "port"],
};

describe("a tier change on AWS", () => {
  test("staging 2,000 → 12,000 peels: the servers that stay keep their names, zones and volumes; only additions and in-place changes", () => {
    const before = planned(2_000);
    const after = planJson(12_000);
    expect(after.outputs.tier).toBe("cluster-5");
    const key = (r: Resource) => `${r.type}::${r.name}`;
    const next = new Map(after.resources.map((r) => [key(r), r]));
    const removed = before.resources.filter((r) => !next.has(key(r))).map(key);
    expect(removed).toEqual([]);
    for (const r of before.resources) {
      const now = next.get(key(r));
      for (const prop of REPLACING[r.type] ?? [])
        expect([key(r), prop, now?.inputs[prop]]).toEqual([key(r), prop, r.inputs[prop]]);
    }
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
