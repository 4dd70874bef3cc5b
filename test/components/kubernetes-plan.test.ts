/**
 * The Kubernetes target through the offline plan: the objects of every tier, each validated
 * against the Kubernetes OpenAPI schema (kubernetes-models), the alert rules checked by
 * promtool, tier changes that keep identities, and bad config refused before anything exists.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import * as appsV1 from "kubernetes-models/apps/v1";
import * as batchV1 from "kubernetes-models/batch/v1";
import * as networkingV1 from "kubernetes-models/networking.k8s.io/v1";
import * as policyV1 from "kubernetes-models/policy/v1";
import * as rbacV1 from "kubernetes-models/rbac.authorization.k8s.io/v1";
import * as coreV1 from "kubernetes-models/v1";
import { parse } from "yaml";
import { plan } from "../../sizing";
import { publicKeyOf } from "../../topology/nkeys";
import { once, planOf, runPlan } from "../helpers/plans";
import { promtool } from "../helpers/tools";
import { TIER_EXAMPLES } from "../helpers/tiers";

interface Resource {
  type: string;
  name: string;
  options: { ignoreChanges: string[]; retainOnDelete?: boolean };
  inputs: Record<string, unknown> & { metadata?: { name?: string; namespace?: string } };
}
interface PlanJson {
  outputs: {
    tier: string;
    serversPerCluster: number;
    totalServers: number;
    kubernetes?: { clientUrl: string; checklist: { id: string; status: string }[] };
  };
  resources: Resource[];
}

const NVME = { nvmeStorageClass: "local-nvme" };
const SUPER = {
  ...NVME,
  regions: { "region-1": { context: "eu" } },
  hubLeafHost: "leaf.hub.example.com",
  leafnodeSourceRanges: ["10.43.0.0/16"],
};

function settingsFor(peels: number): Record<string, unknown> {
  return peels >= 100_000 ? SUPER : peels >= 10_000 ? NVME : {};
}

const k8sSets = (peels: number, k8s: Record<string, unknown>): string[] => [
  `peels=${String(peels)}`,
  `kubernetes=${JSON.stringify(k8s)}`,
];

function planJson(peels: number, k8s: Record<string, unknown> = settingsFor(peels), ...sets: string[]): PlanJson {
  return planOf("dev", [...k8sSets(peels, k8s), ...sets]) as PlanJson;
}

const ofKind = (p: PlanJson, kind: string): Resource[] => p.resources.filter((r) => r.type.endsWith(`:${kind}`));

interface Container {
  name: string;
  args?: string[];
  resources: { requests: Record<string, string>; limits: Record<string, string> };
  startupProbe?: { httpGet: { path: string }; timeoutSeconds?: number };
  readinessProbe?: { httpGet: { path: string }; timeoutSeconds?: number };
  livenessProbe?: { httpGet: { path: string }; timeoutSeconds?: number };
  lifecycle?: { preStop: { exec: { command: string[] } } };
  env?: { name: string; value?: string }[];
  volumeMounts?: { name: string; mountPath: string }[];
}
interface StatefulSetSpec {
  replicas: number;
  podManagementPolicy: string;
  template: {
    metadata: { annotations: Record<string, string> };
    spec: {
      terminationGracePeriodSeconds: number;
      shareProcessNamespace?: boolean;
      containers: Container[];
      initContainers: Container[];
      securityContext: { sysctls?: { name: string; value: string }[] };
      topologySpreadConstraints: { topologyKey: string; whenUnsatisfiable: string }[];
    };
  };
}

const planned = once((peels: number) => planJson(peels));
beforeAll(() => {
  for (const [, peels] of TIER_EXAMPLES) planned(peels);
});

/** The schema models of the groups the target uses. */
const MODELS: Record<string, Record<string, unknown>> = {
  v1: coreV1,
  "apps/v1": appsV1,
  "batch/v1": batchV1,
  "policy/v1": policyV1,
  "networking.k8s.io/v1": networkingV1,
  "rbac.authorization.k8s.io/v1": rbacV1,
};

function validate(r: Resource): void {
  const [, group, kind] = /^kubernetes:(.+):(\w+)$/.exec(r.type) ?? [];
  const apiVersion = group === "core/v1" ? "v1" : String(group);
  const Model = MODELS[apiVersion]?.[String(kind)] as (new (o: unknown) => { validate(): void }) | undefined;
  if (Model === undefined) throw new Error(`no schema model for ${apiVersion} ${String(kind)}`);
  new Model({ ...r.inputs, apiVersion, kind }).validate();
}

describe("every tier on Kubernetes", () => {
  test.each(TIER_EXAMPLES)("%s (%i peels): every object validates against the Kubernetes schema", (_tier, peels) => {
    const objects = planned(peels).resources.filter(
      (r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:monitoring.coreos.com"),
    );
    expect(objects.length).toBeGreaterThan(8);
    for (const r of objects)
      expect(() => {
        validate(r);
      }).not.toThrow();
  });

  test.each(TIER_EXAMPLES)(
    "%s (%i peels): StatefulSets, PVCs, resources, probes, PDB and spread from the plan",
    (tier, peels) => {
      const p = planned(peels);
      const sizing = plan({ peels, ...(peels >= 100_000 ? {} : {}) });
      const sets = ofKind(p, "StatefulSet");
      const core = sets.filter((s) => /(^|-)core$/.test(s.inputs.metadata?.name ?? ""));
      expect(core).toHaveLength(sizing.regions.length);
      for (const set of sets) {
        const spec = set.inputs.spec as StatefulSetSpec;
        expect(spec.podManagementPolicy).toBe("Parallel");
        const pod = spec.template.spec;
        // Zones as hard as hosts by default: a pod waits rather than share a zone with a peer.
        expect(pod.topologySpreadConstraints.map((c) => [c.topologyKey, c.whenUnsatisfiable])).toEqual([
          ["topology.kubernetes.io/zone", "DoNotSchedule"],
          ["kubernetes.io/hostname", "DoNotSchedule"],
        ]);
        expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(sizing.natsServer.lameDuckDurationSeconds);
        expect(spec.template.metadata.annotations["zester.io/config-hash"]).toMatch(/^[0-9a-f]{16}$/);
        // Guaranteed QoS: requests = limits on every container, init containers included.
        for (const c of [...pod.containers, ...pod.initContainers]) {
          expect([c.name, c.resources.requests]).toEqual([c.name, c.resources.limits]);
          expect(Object.keys(c.resources.limits).sort()).toEqual(["cpu", "memory"]);
        }
        const nats = pod.containers.find((c) => c.name === "nats");
        // Plain /healthz at start (JetStream caught up), as the NATS Helm chart; every probe times out.
        expect(nats?.startupProbe).toMatchObject({ httpGet: { path: "/healthz" }, timeoutSeconds: 5 });
        expect(nats?.readinessProbe).toMatchObject({
          httpGet: { path: "/healthz?js-server-only=true" },
          timeoutSeconds: 5,
        });
        expect(nats?.livenessProbe).toMatchObject({
          httpGet: { path: "/healthz?js-enabled-only=true" },
          timeoutSeconds: 5,
        });
        // PID 1 is the pod's (one process namespace with the reloader): lame duck by the pid file.
        expect(pod.shareProcessNamespace).toBe(true);
        expect(nats?.lifecycle?.preStop.exec.command.join(" ")).toMatch(
          /nats-server --signal ldm=\/var\/run\/nats\/nats\.pid && sleep \d+/,
        );
        const reloader = pod.containers.find((c) => c.name === "reloader");
        expect(reloader?.args).toEqual([
          "-pid",
          "/var/run/nats/nats.pid",
          "-config",
          "/etc/nats-config/$(POD_NAME).conf",
        ]);
        // The reloader watches each file its pod's config names as cert_file, key_file or ca_file (read
        // by its own pattern, nack's natsreloader getCertPaths) and exits when one is not there: each
        // must reach it from the volume nats-server reads it from.
        const setName = set.inputs.metadata?.name ?? "";
        const confs = Object.entries(
          ofKind(p, "Secret")
            .filter((x) => x.inputs.metadata?.name === "nats-config")
            .reduce<Record<string, string>>(
              (all, x) => ({ ...all, ...(x.inputs.stringData as Record<string, string>) }),
              {},
            ),
        ).filter(([key]) => new RegExp(`^${setName}-\\d+\\.conf$`).test(key));
        expect(confs.length).toBeGreaterThan(0);
        const watched = confs.flatMap(([, conf]) =>
          [...conf.matchAll(/^\s*(cert_file|key_file|ca_file)\s*:\s*(['"]?[^'";\n]*)"?/gm)].map((m) =>
            (m[2] ?? "").replace(/^['"]/, ""),
          ),
        );
        expect(watched.length).toBeGreaterThan(0);
        const volumeOf = (c: Container | undefined, file: string): string | undefined =>
          c?.volumeMounts?.find((m) => file.startsWith(`${m.mountPath}/`))?.name;
        for (const file of watched) expect([file, volumeOf(reloader, file)]).toEqual([file, volumeOf(nats, file)]);
        expect(volumeOf(nats, watched[0] ?? "")).toBe("tls");
      }
      for (const set of core) {
        const spec = set.inputs.spec as StatefulSetSpec;
        expect(spec.replicas).toBe(sizing.serversPerCluster);
        const nats = spec.template.spec.containers.find((c) => c.name === "nats");
        expect(nats?.resources.limits).toEqual({
          cpu: `${String(sizing.server.cpuBurstCores * 1000)}m`,
          memory: `${String(sizing.server.memoryMiB)}Mi`,
        });
        expect(nats?.env?.find((e) => e.name === "GOMEMLIMIT")?.value).toBe(
          `${String(Math.floor(sizing.server.memoryMiB * 0.8))}MiB`,
        );
        const sysctls = spec.template.spec.securityContext.sysctls ?? [];
        expect(sysctls.map((x) => x.name)).toEqual(
          tier === "cluster-5" || tier === "leaf" || tier === "supercluster" ? ["net.ipv4.ip_local_port_range"] : [],
        );
      }
      const claims = ofKind(p, "PersistentVolumeClaim");
      expect(claims).toHaveLength(sizing.regions.reduce((n, r) => n + r.servers, 0));
      for (const c of claims) {
        const spec = c.inputs.spec as { resources: { requests: { storage: string } }; storageClassName?: string };
        expect(spec.resources.requests.storage).toBe(`${String(sizing.server.jetstreamDiskGiB)}Gi`);
        expect(spec.storageClassName).toBe(sizing.server.storage === "nvme" ? "local-nvme" : undefined);
      }
      for (const pdb of ofKind(p, "PodDisruptionBudget"))
        expect((pdb.inputs.spec as { maxUnavailable: number }).maxUnavailable).toBe(1);
      const headless = ofKind(p, "Service").filter(
        (s) => (s.inputs.spec as { clusterIP?: string }).clusterIP === "None",
      );
      expect(headless.length).toBe(sets.length);
      for (const h of headless)
        expect((h.inputs.spec as { publishNotReadyAddresses: boolean }).publishNotReadyAddresses).toBe(true);
    },
  );

  test("the KV reconcile: a Job and a CronJob on a pullable image, with the bundled code and the cluster's job", () => {
    const p = planned(2_000);
    const [cron] = ofKind(p, "CronJob");
    expect((cron?.inputs.spec as { schedule: string }).schedule).toBe("*/5 * * * *");
    expect(ofKind(p, "Job")).toHaveLength(1);
    const secret = ofKind(p, "Secret").find((s) => s.inputs.metadata?.name === "kv-reconcile-job");
    const job = JSON.parse((secret?.inputs.stringData as { job?: string } | undefined)?.job ?? "{}") as {
      servers: string[];
      clusterSize: number;
    };
    expect(job.servers).toEqual([0, 1, 2].map((i) => `nats://core-${String(i)}.core.zester.svc.cluster.local:4222`));
    expect(job.clusterSize).toBe(3);
    const code = ofKind(p, "ConfigMap").find((c) => c.inputs.metadata?.name === "kv-reconcile-code");
    expect(String((code?.inputs.data as Record<string, string>)["index.js"]).length).toBeLessThan(1_000_000);
  });

  test("leaf servers run in their own namespace; the configs live in Secrets per namespace", () => {
    const p = planned(60_000);
    const leafSet = ofKind(p, "StatefulSet").find((s) => s.inputs.metadata?.name === "leaf-edge");
    expect(leafSet?.inputs.metadata?.namespace).toBe("zester-leaf");
    const configs = ofKind(p, "Secret").filter((s) => s.inputs.metadata?.name === "nats-config");
    expect(configs.map((c) => c.inputs.metadata?.namespace).sort()).toEqual(["zester", "zester-leaf"]);
    const leafConf = (configs.find((c) => c.inputs.metadata?.namespace === "zester-leaf")?.inputs.stringData ??
      {}) as Record<string, string>;
    expect(leafConf["leaf-edge-0.conf"]).toMatch(/"nats-leaf:\/\/core-0\.core\.zester\.svc\.cluster\.local:7422"/);
    // Each namespace's TLS Secret: the DMZ's holds its own servers' keys and the leaf link's, none of the core's.
    const tlsOf = (ns: string) =>
      Object.keys(
        ofKind(p, "Secret").find((s) => s.inputs.metadata?.name === "nats-tls" && s.inputs.metadata.namespace === ns)
          ?.inputs.stringData ?? {},
      );
    expect(tlsOf("zester-leaf").filter((k) => k.endsWith("-key.pem"))).toEqual([
      ...[0, 1, 2, 3, 4, 5].map((i) => `leaf-edge-${String(i)}-key.pem`),
      "leaf-link-key.pem",
    ]);
    expect(tlsOf("zester").filter((k) => k.endsWith("-key.pem"))).toEqual(
      [0, 1, 2, 3, 4].map((i) => `core-${String(i)}-key.pem`),
    );
  });

  test("the supercluster has one provider per Kubernetes cluster, and other regions reach the hub at hubLeafHost", () => {
    const p = planned(150_000);
    expect(p.resources.filter((r) => r.type === "pulumi:providers:kubernetes").map((r) => r.inputs.context)).toEqual([
      undefined,
      "eu",
    ]);
    const secret = p.resources.find((r) => r.name === "zester-region-1-nats-config-zester");
    expect(String((secret?.inputs.stringData as Record<string, string>)["region-1-core-0.conf"])).toMatch(
      /"nats-leaf:\/\/leaf\.hub\.example\.com:7422"/,
    );
    expect(ofKind(p, "Service").some((s) => (s.inputs.spec as { type?: string }).type === "LoadBalancer")).toBe(true);
  });

  test("the missing-server alert fires with one server's metrics gone, and with every one gone (`promtool test rules`)", () => {
    const [rules] = ofKind(planned(2_000), "ConfigMap").filter((c) => c.inputs.metadata?.name === "zester-alert-rules");
    const dir = mkdtempSync(path.join(os.tmpdir(), "zester-rules-"));
    try {
      writeFileSync(
        path.join(dir, "rules.yaml"),
        (rules?.inputs.data as Record<string, string>)["zester.rules.yaml"] ?? "",
      );
      const series = (pod: string, values: string) => ({
        series: `gnatsd_varz_jetstream_meta_cluster_size{namespace="zester",pod="${pod}"}`,
        values,
      });
      const missing = (at: string) => ({ eval_time: at, alertname: "ZesterNatsServerMissing" });
      const exp_annotations = {
        summary:
          "Fewer than the 3 planned NATS servers of region main report metrics: the JetStream meta group is missing a member",
      };
      // Three servers report; core-2 stops after 4m, the others after 14m. A series counts for 5 more
      // minutes (Prometheus's lookback), and the alert waits 2 minutes: it fires from 11m (two of
      // three, by `count`) and from 21m (none at all, by `absent`, which keeps the namespace label).
      const cases = {
        rule_files: ["rules.yaml"],
        evaluation_interval: "1m",
        tests: [
          {
            interval: "1m",
            input_series: [series("core-0", "3x14"), series("core-1", "3x14"), series("core-2", "3x4")],
            alert_rule_test: [
              { ...missing("8m"), exp_alerts: [] },
              {
                ...missing("12m"),
                exp_alerts: [{ exp_labels: { severity: "critical", zester_region: "main" }, exp_annotations }],
              },
              {
                ...missing("25m"),
                exp_alerts: [
                  { exp_labels: { namespace: "zester", severity: "critical", zester_region: "main" }, exp_annotations },
                ],
              },
            ],
          },
        ],
      };
      writeFileSync(path.join(dir, "tests.yaml"), JSON.stringify(cases));
      const out = spawnSync(promtool(), ["test", "rules", "tests.yaml"], { cwd: dir, encoding: "utf8" });
      expect(`${out.stdout}${out.stderr}`).toMatch(/SUCCESS/);
      expect(out.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test.each([60_000, 150_000])("%i peels: the alert rules pass `promtool check rules`", (peels) => {
    const rules = ofKind(planned(peels), "ConfigMap").filter((c) => c.inputs.metadata?.name === "zester-alert-rules");
    expect(rules.length).toBeGreaterThan(0);
    const dir = mkdtempSync(path.join(os.tmpdir(), "zester-rules-"));
    try {
      for (const [i, r] of rules.entries()) {
        const file = path.join(dir, `rules-${String(i)}.yaml`);
        writeFileSync(file, (r.inputs.data as Record<string, string>)["zester.rules.yaml"] ?? "");
        const out = spawnSync(promtool(), ["check", "rules", file], { encoding: "utf8" });
        expect(`${out.stdout}${out.stderr}`).toMatch(/SUCCESS: \d+ rules found/);
        expect(out.status).toBe(0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("with the Prometheus Operator: a PodMonitor and a PrometheusRule instead of annotations", () => {
    const p = planJson(2_000, { prometheusOperator: true });
    expect(p.resources.some((r) => r.type === "kubernetes:monitoring.coreos.com/v1:PodMonitor")).toBe(true);
    expect(p.resources.some((r) => r.type === "kubernetes:monitoring.coreos.com/v1:PrometheusRule")).toBe(true);
    const set = ofKind(p, "StatefulSet")[0]?.inputs.spec as StatefulSetSpec;
    expect(set.template.metadata.annotations["prometheus.io/scrape"]).toBeUndefined();
  });
});

describe("a tier change on Kubernetes", () => {
  test("2,000 → 12,000 peels keeps the StatefulSet and the surviving claims; class and template changes are ignored on them", () => {
    const before = planned(2_000);
    const after = planJson(12_000);
    const names = (p: PlanJson, kind: string) =>
      ofKind(p, kind).map((r) => `${String(r.inputs.metadata?.namespace)}/${String(r.inputs.metadata?.name)}`);
    expect(names(after, "StatefulSet")).toEqual(names(before, "StatefulSet"));
    expect(names(after, "PersistentVolumeClaim")).toEqual(
      expect.arrayContaining(names(before, "PersistentVolumeClaim")),
    );
    expect(names(after, "PersistentVolumeClaim")).toHaveLength(5);
    const key = (r: Resource) => `${r.type}::${r.name}`;
    const next = new Set(after.resources.map(key));
    // Jobs are named by Pulumi, so a new template is a new run; everything else stays.
    expect(before.resources.filter((r) => !next.has(key(r))).map(key)).toEqual([]);
    for (const r of [...ofKind(after, "StatefulSet"), ...ofKind(after, "PersistentVolumeClaim")])
      expect(r.options.ignoreChanges).toEqual([
        r.type.endsWith("StatefulSet") ? "spec.volumeClaimTemplates" : "spec.storageClassName",
      ]);
  });
});

describe("bad Kubernetes config fails before any resource, naming the key", () => {
  test.each([
    [
      "an NVMe tier with no NVMe StorageClass",
      20_000,
      {},
      /zester:kubernetes\.nvmeStorageClass: is required: the cluster-5 tier keeps JetStream on NVMe/,
    ],
    [
      "a namespace that is not a DNS label",
      2_000,
      { namespace: "Zester_NS" },
      /zester:kubernetes\.namespace: must be a lowercase DNS label/,
    ],
    [
      "a supercluster without the other regions' contexts",
      150_000,
      { ...NVME, hubLeafHost: "leaf.hub.example.com" },
      /zester:kubernetes\.regions\.region-1\.context: is required/,
    ],
    [
      "a supercluster without the hub's leaf host",
      150_000,
      { ...NVME, regions: { "region-1": { context: "eu" } } },
      /zester:kubernetes\.hubLeafHost: is required for a supercluster/,
    ],
    [
      "a supercluster without the ranges its hub admits leaf connections from",
      150_000,
      { ...NVME, regions: { "region-1": { context: "eu" } }, hubLeafHost: "leaf.hub.example.com" },
      /zester:kubernetes\.leafnodeSourceRanges: is required for a supercluster: the CIDRs the other regions' leaf connections come from/,
    ],
    [
      "an unknown key",
      2_000,
      { storageclass: "x" },
      /zester:kubernetes\.storageclass: is not a setting this project reads/,
    ],
  ])("%s", (_what, peels, k8s, message) => {
    const r = runPlan("dev", k8sSets(peels, k8s));
    expect(r.stderr).toMatch(message);
    expect(r.status).toBe(2);
    expect(r.stdout).toBe("");
  });
});

test("the open-files check passes a hard limit that holds the plan and refuses one that does not", () => {
  const sizing = plan({ peels: 20_000 });
  const set = ofKind(planned(20_000), "StatefulSet")[0]?.inputs.spec as {
    template: { spec: { initContainers: { name: string; command: string[] }[] } };
  };
  const script = set.template.spec.initContainers.find((c) => c.name === "nofile-check")?.command[2] ?? "";
  expect(script).toContain(`-ge ${String(sizing.os.limitNofile)} ]`);
  // Limits can always be lowered: hold the script against 4,096 (soft and hard) in a subshell.
  const hard = 4_096;
  const withPlan = (n: number) =>
    spawnSync(
      "sh",
      ["-c", `ulimit -n ${String(hard)} && ${script.replaceAll(String(sizing.os.limitNofile), String(n))}`],
      {
        encoding: "utf8",
      },
    );
  expect(withPlan(hard).status).toBe(0);
  const low = withPlan(hard + 1);
  expect(low.status).toBe(1);
  expect(low.stderr).toMatch(`open files hard limit ${String(hard)} is below the plan's ${String(hard + 1)}`);
});

test("with Zester images: a master container next to each core server, and a pod per issued peel holding its own credentials alone, all schema-valid", () => {
  const p = planJson(2_000, {
    zesterMasterImage: "registry.example/zester-master:1.0",
    zesterPeelImage: "registry.example/zester-peel:1.0",
    peelCredentials: ["edge-1", "edge-2"],
    revokedPeels: ["edge-2"],
  });
  const core = ofKind(p, "StatefulSet").find((s) => s.inputs.metadata?.name === "core");
  const containers = (core?.inputs.spec as StatefulSetSpec).template.spec.containers.map((c) => c.name);
  expect(containers).toEqual(["nats", "reloader", "exporter", "zester-master"]);
  const masters = ofKind(p, "Secret").find((s) => s.inputs.metadata?.name === "zester-master");
  expect(Object.keys(masters?.inputs.stringData as Record<string, string>)).toEqual([
    "ca.pem",
    "core-0.yaml",
    "core-1.yaml",
    "core-2.yaml",
    "master.creds",
    "peel-issuer.nk",
  ]);
  expect(ofKind(p, "DaemonSet")).toEqual([]);
  const deployments = ofKind(p, "Deployment");
  expect(deployments.map((d) => d.inputs.metadata?.name)).toEqual(["zester-peel-edge-1", "zester-peel-edge-2"]);
  const secrets = Object.fromEntries(
    ofKind(p, "Secret")
      .filter((s) => s.inputs.metadata?.name?.startsWith("zester-peel-") === true)
      .map((s): [string, Record<string, string>] => [
        s.inputs.metadata?.name ?? "",
        s.inputs.stringData as Record<string, string>,
      ]),
  );
  expect(Object.keys(secrets)).toEqual(["zester-peel-edge-1", "zester-peel-edge-2"]);
  const seedOf = (creds: string | undefined) => /SU[A-Z2-7]{56}/.exec(creds ?? "")?.[0];
  const own = [
    seedOf(secrets["zester-peel-edge-1"]?.["peel.creds"]),
    seedOf(secrets["zester-peel-edge-2"]?.["peel.creds"]),
  ];
  expect(own.every((s) => s !== undefined) && own[0] !== own[1]).toBe(true);
  for (const [name, data] of Object.entries(secrets)) {
    const peel = name.replace("zester-peel-", "");
    expect(Object.keys(data).sort()).toEqual(["ca.pem", "peel.creds", "peel.yaml"]);
    expect(parse(data["peel.yaml"] ?? "")).toMatchObject({
      nats: { credentials: "/etc/zester/peel.creds", inbox_prefix: `_INBOX.${peel}` },
    });
    // Nothing of the other peel's.
    for (const other of own)
      if (other !== seedOf(data["peel.creds"])) expect(JSON.stringify(data)).not.toContain(other);
  }
  for (const d of deployments) {
    const spec = d.inputs.spec as { template: { spec: { volumes: { secret: { secretName: string } }[] } } };
    expect(spec.template.spec.volumes.map((v) => v.secret.secretName)).toEqual([d.inputs.metadata?.name]);
  }
  expect((p.outputs.kubernetes as unknown as { peelCredentials: unknown }).peelCredentials).toEqual({
    "edge-1": "zester/zester-peel-edge-1",
    "edge-2": "zester/zester-peel-edge-2",
  });
  // The revoked peel's key is in the peels' account of every server's config.
  const configs = ofKind(p, "Secret").find((s) => s.inputs.metadata?.name === "nats-config")?.inputs
    .stringData as Record<string, string>;
  const edge2 = /SU[A-Z2-7]{56}/.exec(secrets["zester-peel-edge-2"]?.["peel.creds"] ?? "")?.[0] ?? "";
  expect(revokedKeys(configs["core-0.conf"] ?? "")).toEqual([publicKeyOf(edge2)]);
  for (const r of [
    core,
    ...deployments,
    ...Object.keys(secrets).map((n) => ofKind(p, "Secret").find((s) => s.inputs.metadata?.name === n)),
  ])
    if (r !== undefined)
      expect(() => {
        validate(r);
      }).not.toThrow();
});

test("an issued peel's id must name a Secret, and a revoked one must be issued or a public key: refused before anything is made", () => {
  const refused = runPlan("dev", [...k8sSets(2_000, { peelCredentials: ["Peel_1"], revokedPeels: ["nobody"] })]);
  expect(refused.status).toBe(2);
  expect(refused.stderr).toMatch(/zester:kubernetes\.peelCredentials\[0\].*"Peel_1" cannot name a Kubernetes Secret/);
  expect(refused.stderr).toMatch(
    /zester:kubernetes\.revokedPeels\[0\].*"nobody" is no peel this stack issued credentials to/,
  );
});

/** The public keys the peels' account's JWT (in a rendered config) revokes. */
function revokedKeys(conf: string): string[] {
  const jwts = [...conf.matchAll(/"(eyJ[^"]+)"/g)].map((m) => m[1] ?? "");
  const claims = jwts.map(
    (j) =>
      JSON.parse(Buffer.from(j.split(".")[1] ?? "", "base64url").toString()) as {
        name: string;
        nats: { revocations?: Record<string, number> };
      },
  );
  return Object.keys(claims.find((c) => c.name === "ZESTER_PEELS")?.nats.revocations ?? {});
}

test("a peel config per site: the core's client Service, a leaf site's own then the core's", () => {
  const configs = (
    planJson(60_000, { ...NVME }, 'leafSites=[{"name":"dmz"},{"name":"branch"}]').outputs.kubernetes as unknown as {
      peelConfigs: Record<string, string>;
    }
  ).peelConfigs;
  const servers = (key: string) => (parse(configs[key] ?? "") as { nats: { servers: string[] } }).nats.servers;
  expect(Object.keys(configs).sort()).toEqual(["branch", "core", "dmz"]);
  expect(servers("core")).toEqual(["nats://core-clients.zester.svc.cluster.local:4222"]);
  expect(servers("dmz")).toEqual([
    "nats://leaf-dmz-clients.zester-leaf.svc.cluster.local:4222",
    "nats://core-clients.zester.svc.cluster.local:4222",
  ]);
});

describe("safe to change on Kubernetes", () => {
  const hash = (p: PlanJson) =>
    (ofKind(p, "StatefulSet")[0]?.inputs.spec as StatefulSetSpec).template.metadata.annotations[
      "zester.io/config-hash"
    ];

  test("a peel-count change inside the tier rolls no pod (the reloader applies it); a tier change does", () => {
    expect(hash(planJson(9_000))).toBe(hash(planned(2_000)));
    expect(hash(planned(20_000))).not.toBe(hash(planned(2_000)));
  });

  test("JetStream claims are kept when dropped from the program (retainOnDelete)", () => {
    for (const c of ofKind(planned(2_000), "PersistentVolumeClaim"))
      expect(c.options).toMatchObject({ retainOnDelete: true });
  });

  test("the hub's leafnode LoadBalancer is internal on EKS, GKE and AKS, admits only the given ranges and keeps source addresses", () => {
    const lb = ofKind(planned(150_000), "Service").find((x) => x.inputs.metadata?.name === "core-leafnodes");
    const meta = lb?.inputs.metadata as { annotations: Record<string, string> };
    expect(meta.annotations).toEqual({
      "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal",
      "service.beta.kubernetes.io/aws-load-balancer-internal": "true",
      "networking.gke.io/load-balancer-type": "Internal",
      "service.beta.kubernetes.io/azure-load-balancer-internal": "true",
    });
    expect(lb?.inputs.spec).toMatchObject({
      type: "LoadBalancer",
      externalTrafficPolicy: "Local",
      loadBalancerSourceRanges: ["10.43.0.0/16"],
    });
  });

  interface Rule {
    ports: { port: number }[];
    from?: Record<string, unknown>[];
  }
  const rules = (p: PlanJson, set: string): Rule[] =>
    (ofKind(p, "NetworkPolicy").find((x) => x.inputs.metadata?.name === set)?.inputs.spec as { ingress: Rule[] })
      .ingress;
  const byPort = (list: Rule[]) =>
    Object.fromEntries(list.map((r) => [r.ports.map((x) => x.port).join("+"), r.from ?? "anyone"]));

  test("NetworkPolicies: 6222 only between a cluster's pods, 7422 only from leaf pods, 8222 only from monitoring, 4222 from peels", () => {
    const leafTier = planned(60_000);
    const leafPods = {
      namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "zester-leaf" } },
      podSelector: { matchExpressions: [{ key: "zester.io/set", operator: "In", values: ["leaf-edge"] }] },
    };
    const monitoring = [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "monitoring" } } }];
    expect(byPort(rules(leafTier, "core"))).toEqual({
      "4222": "anyone",
      "6222": [
        {
          podSelector: {
            matchLabels: {
              "app.kubernetes.io/name": "nats",
              "app.kubernetes.io/part-of": "zester",
              "zester.io/set": "core",
            },
          },
        },
      ],
      "7422": [leafPods],
      "8222+7777": monitoring,
    });
    expect(byPort(rules(leafTier, "leaf-edge"))).toEqual({ "4222": "anyone", "8222+7777": monitoring });
    // A single server has no routes to admit.
    expect(byPort(rules(planned(50), "core"))).toEqual({ "4222": "anyone", "8222+7777": monitoring });
    // The hub of a supercluster admits the other regions' ranges on 7422 too.
    expect(byPort(rules(planned(150_000), "core"))["7422"]).toEqual([
      expect.objectContaining({ namespaceSelector: expect.any(Object) as unknown }),
      { ipBlock: { cidr: "10.43.0.0/16" } },
    ]);
    // Peels from given ranges only, when given; the namespace's reconcile and peel pods always.
    const ranged = planJson(2_000, { peelSourceRanges: ["10.8.0.0/16"] });
    expect(byPort(rules(ranged, "core"))["4222"]).toEqual([
      { ipBlock: { cidr: "10.8.0.0/16" } },
      {
        podSelector: {
          matchExpressions: [
            { key: "app.kubernetes.io/name", operator: "In", values: ["zester-kv-reconcile", "zester-peel"] },
          ],
        },
      },
    ]);
  });
});
