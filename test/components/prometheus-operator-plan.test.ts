/**
 * The Prometheus Operator objects of the Kubernetes plan (`prometheusOperator: true`), validated
 * against the operator's published CRD schemas: @kubernetes-models/prometheus-operator ships
 * validators generated from them (its 4.x line, the one that shares kubernetes-models 4.5.1's
 * runtime and runs on Node 20, is generated from prometheus-operator v0.65.1's CRDs).
 */
import { PodMonitor, PrometheusRule } from "@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1";
import { once, planOf } from "../helpers/plans";

interface Resource {
  type: string;
  name: string;
  inputs: Record<string, unknown>;
}

const NVME = { nvmeStorageClass: "local-nvme" };
const SUPER = {
  ...NVME,
  regions: { "region-1": { context: "eu" } },
  hubLeafHost: "leaf.hub.example.com",
  leafnodeSourceRanges: ["10.43.0.0/16"],
};

/** [tier, peels, zester:kubernetes] — the settings each tier needs (see kubernetes-plan.test.ts). */
const TIERS: [string, number, Record<string, unknown>][] = [
  ["cluster-3", 2_000, {}],
  ["leaf", 60_000, NVME],
  ["supercluster", 150_000, SUPER],
];

const planned = once(
  (peels: number): Resource[] =>
    (
      planOf("dev", [
        `peels=${String(peels)}`,
        `kubernetes=${JSON.stringify({ ...TIERS.find(([, p]) => p === peels)?.[2], prometheusOperator: true })}`,
      ]) as { resources: Resource[] }
    ).resources,
);

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  "kubernetes:monitoring.coreos.com/v1:PodMonitor": PodMonitor,
  "kubernetes:monitoring.coreos.com/v1:PrometheusRule": PrometheusRule,
};

function validate(r: Resource): void {
  const Model = MODELS[r.type];
  if (Model === undefined) throw new Error(`no CRD schema for ${r.type}`);
  new Model(r.inputs as never).validate();
}

beforeAll(() => {
  for (const [, peels] of TIERS) planned(peels);
});

test.each(TIERS)("%s (%i peels): every PodMonitor and PrometheusRule validates against the CRD schema", (_t, peels) => {
  const objects = planned(peels).filter((r) => r.type.startsWith("kubernetes:monitoring.coreos.com/"));
  expect(new Set(objects.map((r) => r.type))).toEqual(new Set(Object.keys(MODELS)));
  for (const r of objects)
    expect(() => {
      validate(r);
    }).not.toThrow();
});

test("the schema refuses a rule whose `for` is not a Prometheus duration, naming the field", () => {
  const rule = planned(2_000).find((r) => r.type === "kubernetes:monitoring.coreos.com/v1:PrometheusRule");
  const spec = rule?.inputs.spec as { groups: { rules: { for?: string }[] }[] };
  const bad = structuredClone(spec);
  const first = bad.groups[0]?.rules[0];
  if (first === undefined) throw new Error("the plan's PrometheusRule has no rule");
  first.for = "2 minutes";
  expect(() => {
    validate({ type: String(rule?.type), name: "bad", inputs: { ...rule?.inputs, spec: bad } });
  }).toThrow(/spec\/groups\/0\/rules\/0\/for must match pattern/);
});
