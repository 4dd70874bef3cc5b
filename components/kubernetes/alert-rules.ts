/**
 * Monitoring objects of a region: the alert rules on the NATS exporter's metrics, as a
 * PrometheusRule (with the Prometheus Operator) or a rule file in a ConfigMap, and a PodMonitor.
 */
import type { Topology } from "../../topology/types";
import { rulesYaml, type AlertRules } from "../certificate-alerts";
import { labelsOf, setOf, type K8sObject, type Namespaces } from "./objects";
import type { KubernetesSettings } from "./settings";

export function monitoringObjects(
  t: Topology,
  s: KubernetesSettings,
  region: string,
  namespaces: Namespaces,
  coreSet: string,
): K8sObject[] {
  const ns = namespaces.core;
  const rules = alertRules(t, region, namespaces);
  if (!s.prometheusOperator)
    return [
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "zester-alert-rules", namespace: ns, labels: labelsOf(coreSet) },
        data: { "zester.rules.yaml": rulesYaml(rules) },
      },
    ];
  return [
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PodMonitor",
      metadata: { name: "nats", namespace: ns, labels: { "app.kubernetes.io/part-of": "zester" } },
      spec: {
        selector: { matchLabels: { "app.kubernetes.io/name": "nats", "app.kubernetes.io/part-of": "zester" } },
        namespaceSelector: { matchNames: [s.namespace, s.leafNamespace] },
        podMetricsEndpoints: [{ port: "metrics" }],
      },
    },
    {
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: "zester", namespace: ns, labels: { "app.kubernetes.io/part-of": "zester" } },
      spec: rules,
    },
  ];
}

/**
 * The failure modes that matter, on the NATS exporter's metric names (`gnatsd_varz_*`):
 * servers missing from the meta group, JetStream storage nearly full, leaf connections (leaf
 * sites and, on the hub, other regions) down, connections near max_connections.
 */
export function alertRules(t: Topology, region: string, ns: Namespaces): AlertRules {
  const cluster = t.clusters.find((c) => c.region === region);
  const size = cluster?.servers.length ?? 1;
  const sel = `namespace="${ns.core}",pod=~"${setOf(cluster?.servers[0] ?? "core")}-[0-9]+"`;
  const all = `namespace=~"${ns.core}|${ns.leaf}"`;
  // One leaf connection per leaf server of the region's sites, and one per server of every
  // region linked to this one as its hub.
  const leafLinks =
    t.servers.filter((x) => x.role === "leaf" && x.region === region).length +
    t.regionLinks
      .filter((l) => l.hub === region)
      .reduce((n, l) => n + (t.clusters.find((c) => c.region === l.region)?.servers.length ?? 0), 0);
  const rule = (alert: string, expr: string, wait: string, severity: string, summary: string) => ({
    alert,
    expr,
    for: wait,
    labels: { severity, zester_region: region },
    annotations: { summary },
  });
  return {
    groups: [
      {
        name: `zester-${region}`,
        rules: [
          rule(
            "ZesterNatsServerMissing",
            // `count` of nothing is nothing, not 0: when every exporter is gone, `absent` fires instead.
            `count(gnatsd_varz_jetstream_meta_cluster_size{${sel}}) < ${String(size)} or absent(gnatsd_varz_jetstream_meta_cluster_size{${sel}})`,
            "2m",
            "critical",
            `Fewer than the ${String(size)} planned NATS servers of region ${region} report metrics: the JetStream meta group is missing a member`,
          ),
          rule(
            "ZesterMetaGroupSmall",
            `min(gnatsd_varz_jetstream_meta_cluster_size{${sel}}) < ${String(size)}`,
            "5m",
            "warning",
            `A NATS server of region ${region} sees a JetStream meta group smaller than ${String(size)}`,
          ),
          rule(
            "ZesterJetStreamStorageNearlyFull",
            `max(gnatsd_varz_jetstream_stats_storage{${sel}} / gnatsd_varz_jetstream_config_max_storage{${sel}}) > 0.85`,
            "10m",
            "warning",
            "JetStream file storage is above 85% of max_file_store on a server",
          ),
          rule(
            "ZesterConnectionsNearMax",
            `max(gnatsd_varz_connections{${all}} / gnatsd_varz_max_connections{${all}}) > 0.8`,
            "5m",
            "warning",
            "A NATS server holds more than 80% of its max_connections",
          ),
          ...(leafLinks > 0
            ? [
                rule(
                  "ZesterLeafConnectionsDown",
                  `sum(gnatsd_varz_leafnodes{${sel}}) < ${String(leafLinks)}`,
                  "5m",
                  "critical",
                  `Fewer than the ${String(leafLinks)} planned leaf connections (leaf sites and other regions) reach region ${region}'s servers`,
                ),
              ]
            : []),
        ],
      },
    ],
  };
}
