/**
 * Who may reach which port of the servers, per set: 4222 from peels (and, in the namespace, the
 * KV reconcile and peel pods), 6222 only between a cluster's own pods, 7422 on a hub only from
 * leaf pods and the other regions' ranges, 8222 and the exporter only from the monitoring
 * namespace. Kubelet probes come from the node, which NetworkPolicies do not block.
 */
import { STANDARD_PORTS } from "../../topology/build";
import type { Topology } from "../../topology/types";
import { EXPORTER_PORT, labelsOf, setOf, type K8sObject, type Namespaces } from "./objects";
import type { KubernetesSettings } from "./settings";

interface PolicyInput {
  region: string;
  isHub: boolean;
  namespaces: Namespaces;
}

const inNamespace = (ns: string) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": ns } } });

export function networkPolicies(t: Topology, s: KubernetesSettings, input: PolicyInput): K8sObject[] {
  const { region, namespaces: ns } = input;
  const core = t.clusters.find((c) => c.region === region)?.servers ?? [];
  const sites = t.leafSites.filter((x) => x.region === region);
  const hasLeafPort = t.servers.some((x) => x.region === region && x.role === "core" && x.ports.leafnode !== undefined);
  const leafPods = {
    ...inNamespace(ns.leaf),
    podSelector: {
      matchExpressions: [{ key: "zester.io/set", operator: "In", values: sites.map((x) => setOf(x.servers[0] ?? "")) }],
    },
  };
  const remoteRegions =
    input.isHub && t.regionLinks.length > 0
      ? (s.leafnodeSourceRanges ?? []).map((cidr) => ({ ipBlock: { cidr } }))
      : [];
  const coreSet = setOf(core[0] ?? "core");
  return [
    policy(s, coreSet, ns.core, [
      ...(core.length > 1
        ? [{ ports: [tcp(STANDARD_PORTS.cluster)], from: [{ podSelector: { matchLabels: labelsOf(coreSet) } }] }]
        : []),
      ...(hasLeafPort && (sites.length > 0 || remoteRegions.length > 0)
        ? [{ ports: [tcp(STANDARD_PORTS.leafnode)], from: [...(sites.length > 0 ? [leafPods] : []), ...remoteRegions] }]
        : []),
    ]),
    ...sites.map((site) => policy(s, setOf(site.servers[0] ?? `leaf-${site.name}`), ns.leaf, [])),
  ];
}

const tcp = (port: number) => ({ protocol: "TCP", port });

/** A set's policy: clients and monitoring for every set, plus `own` (routes, leaf connections). */
function policy(s: KubernetesSettings, set: string, namespace: string, own: Record<string, unknown>[]): K8sObject {
  const peels =
    s.peelSourceRanges === undefined
      ? {}
      : {
          from: [
            ...s.peelSourceRanges.map((cidr) => ({ ipBlock: { cidr } })),
            // In the namespace: the KV reconcile and the peel DaemonSet.
            {
              podSelector: {
                matchExpressions: [
                  { key: "app.kubernetes.io/name", operator: "In", values: ["zester-kv-reconcile", "zester-peel"] },
                ],
              },
            },
          ],
        };
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: set, namespace, labels: labelsOf(set) },
    spec: {
      podSelector: { matchLabels: labelsOf(set) },
      policyTypes: ["Ingress"],
      ingress: [
        { ports: [tcp(STANDARD_PORTS.client)], ...peels },
        ...own,
        { ports: [tcp(STANDARD_PORTS.monitor), tcp(EXPORTER_PORT)], from: [inNamespace(s.monitoringNamespace)] },
      ],
    },
  };
}
