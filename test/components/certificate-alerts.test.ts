/**
 * Certificate expiry alerts on both cloud targets: the rules every certificate of the stack gets
 * (the CA, each server's, each link's), accepted by `promtool check rules`, and firing when they
 * should by `promtool test rules`: the renewal warning once a third of a certificate's validity
 * is left, the critical alert 30 days before it expires, neither before.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { certificateAlertRules, CRITICAL_DAYS, RENEW_DAYS, rulesYaml } from "../../components/certificate-alerts";
import { MOCK_VALIDITY_END } from "../../scripts/plan-mocks";
import { planOf } from "../helpers/plans";
import { promtool } from "../helpers/tools";

interface Planned {
  outputs: { aws?: { certificateAlertRules?: string } };
  resources: {
    type: string;
    inputs: { metadata?: { name?: string }; data?: Record<string, string>; spec?: unknown };
  }[];
}

/** Runs promtool with `files` written in a directory of its own. */
function promtoolIn(files: Record<string, string>, args: string[]): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), "zester-cert-rules-"));
  try {
    for (const [name, content] of Object.entries(files)) writeFileSync(path.join(dir, name), content);
    const out = spawnSync(promtool(), args, { cwd: dir, encoding: "utf8" });
    const said = `${out.stdout}${out.stderr}`;
    expect({ status: out.status, said }).toEqual({ status: 0, said });
    return said;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const certsOf = (yaml: string): string[] => [
  ...new Set(
    (JSON.parse(yaml) as { groups: { rules: { labels: { zester_certificate: string } }[] }[] }).groups.flatMap((g) =>
      g.rules.map((r) => r.labels.zester_certificate),
    ),
  ),
];

describe("certificate expiry alerts", () => {
  test("fire a renewal warning once a third of the validity is left, critical 30 days before, and not earlier (`promtool test rules`)", () => {
    const day = 86_400_000;
    // A server certificate expiring 300 days after Prometheus's time 0; the CA 200 days after.
    const rules = certificateAlertRules(
      [
        { name: "ca", notAfter: new Date(200 * day).toISOString() },
        { name: "core-0", notAfter: new Date(300 * day).toISOString() },
      ],
      "zester-certificates",
    );
    const summary = (name: string, certificate: string) =>
      rules.groups[0]?.rules.find((r) => r.alert === name && r.labels.zester_certificate === certificate)?.annotations;
    const alert = (name: string, at: string, firing: { certificate: string; severity: string }[]) => ({
      eval_time: at,
      alertname: name,
      exp_alerts: firing.map((f) => ({
        exp_labels: { zester_certificate: f.certificate, severity: f.severity },
        exp_annotations: summary(name, f.certificate),
      })),
    });
    const renewAt = 300 - RENEW_DAYS;
    const criticalAt = 300 - CRITICAL_DAYS;
    const tests = {
      rule_files: ["rules.yaml"],
      evaluation_interval: "1h",
      tests: [
        {
          interval: "1h",
          input_series: [],
          alert_rule_test: [
            alert("ZesterCertificateRenewDue", `${String(renewAt - 1)}d`, []),
            alert("ZesterCertificateRenewDue", `${String(renewAt)}d2h`, [
              { certificate: "core-0", severity: "warning" },
            ]),
            alert("ZesterCaRotationDue", "19d", []),
            alert("ZesterCaRotationDue", "20d2h", [{ certificate: "ca", severity: "warning" }]),
            alert("ZesterCertificateExpiresSoon", `${String(criticalAt - 1)}d`, [
              { certificate: "ca", severity: "critical" },
            ]),
            alert("ZesterCertificateExpiresSoon", `${String(criticalAt)}d2h`, [
              { certificate: "ca", severity: "critical" },
              { certificate: "core-0", severity: "critical" },
            ]),
          ],
        },
      ],
    };
    const out = promtoolIn({ "rules.yaml": rulesYaml(rules), "tests.yaml": JSON.stringify(tests) }, [
      "test",
      "rules",
      "tests.yaml",
    ]);
    expect(out).toMatch(/SUCCESS/);
  });

  test("a time that is not one is refused, naming the certificate", () => {
    expect(() => certificateAlertRules([{ name: "core-9", notAfter: "soon" }], "g")).toThrow(
      /certificate core-9: "soon" is no RFC 3339 time/,
    );
  });

  test("on AWS: a rule file for every certificate of a leaf tier (CA, servers, link), which promtool accepts", () => {
    const p = planOf("staging", ["peels=60000"]) as Planned;
    const yaml = p.outputs.aws?.certificateAlertRules ?? "";
    expect(yaml).toContain(String(Math.floor(Date.parse(MOCK_VALIDITY_END) / 1000)));
    const certs = certsOf(yaml);
    expect(certs).toEqual(expect.arrayContaining(["ca", "core-0", "core-4", "leaf-edge-0", "leaf-link"]));
    expect(promtoolIn({ "rules.yaml": yaml }, ["check", "rules", "rules.yaml"])).toMatch(
      new RegExp(`SUCCESS: ${String(certs.length * 2)} rules found`),
    );
  });

  test.each([false, true])(
    "on Kubernetes (Prometheus Operator %s): every certificate of a supercluster, in the first region, which promtool accepts",
    (operator) => {
      const k8s = {
        nvmeStorageClass: "local-nvme",
        regions: { "region-1": { context: "eu" } },
        hubLeafHost: "leaf.hub.example.com",
        leafnodeSourceRanges: ["10.43.0.0/16"],
        prometheusOperator: operator,
      };
      const p = planOf("dev", ["peels=150000", `kubernetes=${JSON.stringify(k8s)}`]) as Planned;
      const objects = p.resources.filter((r) => r.inputs.metadata?.name === "zester-certificates");
      expect(objects.map((r) => r.type)).toEqual([
        operator ? "kubernetes:monitoring.coreos.com/v1:PrometheusRule" : "kubernetes:core/v1:ConfigMap",
      ]);
      const yaml = operator
        ? rulesYaml(objects[0]?.inputs.spec as Parameters<typeof rulesYaml>[0])
        : (objects[0]?.inputs.data?.["zester-certificates.rules.yaml"] ?? "");
      const certs = certsOf(yaml);
      // Both regions' servers, the leaf sites', and the region link's.
      expect(certs).toEqual(expect.arrayContaining(["ca", "core-0", "region-1-core-0", "region-link"]));
      expect(promtoolIn({ "rules.yaml": yaml }, ["check", "rules", "rules.yaml"])).toMatch(
        new RegExp(`SUCCESS: ${String(certs.length * 2)} rules found`),
      );
    },
  );
});
