/**
 * Declares one region's objects on its Kubernetes cluster: the layout's plain objects, the
 * Secrets (configs, TLS keys, credentials, the reconcile job; built here, inside an apply,
 * mounted as files), the JetStream claims, the KV reconcile, and in the first region the peels
 * the stack issues credentials to (a Secret each, and a pod each with the peel image).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { linkOf, serverCertificate } from "../../topology/tls";
import { clusterJob } from "../../jetstream/cluster-job";
import type { ZesterCredentials } from "../../topology/render/zester-config";
import type { StackTls } from "../certificates";
import { certificateAlertRules, rulesYaml } from "../certificate-alerts";
import type { Identities } from "../identities";
import type { ServerIdentities } from "../../topology/auth";
import { roleCreds } from "../../topology/identities";
import { masterConfig, peelConfig } from "../../topology/render/zester-config";
import type { Topology, TopologyServer, ZesterKind } from "../../topology/types";
import type { Children } from "../children";
import type { Deferred } from "../deferred";
import type { ReconcileDuringTransition } from "../../change/cloud-phase";
import { KUBERNETES, TRANSITION_CONFIGMAP } from "./target";
import { renderConf, type KubernetesLayout, type RegionManifests } from "./layout";
import { RECONCILE_SERVICE_ACCOUNT, reconcilePod, type K8sObject } from "./objects";
import type { KubernetesSettings } from "./settings";

export interface K8sScope {
  children: Children;
  deferred: Deferred;
  topology: Topology;
  layout: KubernetesLayout;
  settings: KubernetesSettings;
  identities: Identities;
  /** What every server config holds of them: the operator's and the accounts' JWTs. */
  configIdentities: pulumi.Output<ServerIdentities>;
  /** Each peel the stack issues credentials to (`settings.peelCredentials`), its `.creds`. Secret. */
  peelCreds: pulumi.Output<Record<string, string>>;
  tls: StackTls;
  /** The caller's labels, merged under ours. */
  labels: Record<string, string>;
  reconcileCode: string;
  /** What the KV reconcile job does while a tier transition is under way. */
  reconcile: ReconcileDuringTransition;
}

interface RegionScope extends K8sScope {
  r: RegionManifests;
  /** Prefix of every child's name in a supercluster (one set of objects per region). */
  prefix: string;
  o: pulumi.CustomResourceOptions;
}

export function declareRegion(scope: K8sScope, r: RegionManifests, provider: pulumi.ProviderResource): void {
  const region: RegionScope = {
    ...scope,
    r,
    prefix: scope.layout.regions.length > 1 ? `${r.region}-` : "",
    o: { provider },
  };
  const namespaces = r.objects.filter((x) => x.kind === "Namespace").map((x) => declareObject(region, x, region.o));
  const after = { ...region.o, dependsOn: namespaces };
  const configs = [...configSecrets(region, after), ...tlsSecrets(region, after), ...masterSecret(region, after)];
  const volumes = claims(region, after);
  const workloads = r.objects
    .filter((x) => x.kind !== "Namespace")
    .map((obj) => {
      const statefulSet = obj.kind === "StatefulSet";
      return declareObject(region, obj, {
        ...region.o,
        dependsOn: [...namespaces, ...configs, ...(statefulSet ? volumes : [])],
        // The claim template is immutable; the claims carry the size.
        ...(statefulSet ? { ignoreChanges: ["spec.volumeClaimTemplates"] } : {}),
      });
    });
  reconcile(region, { ...region.o, dependsOn: workloads });
  if (r === scope.layout.regions[0]) peels(region, after);
}

/** Where a Zester process in a pod finds its credentials and the CA: its Secret, mounted at /etc/zester. */
const credentialsIn = (kind: ZesterKind): ZesterCredentials => ({
  credsFile: `/etc/zester/${kind}.creds`,
  caFile: "/etc/zester/ca.pem",
  ...(kind === "master" ? { peelIssuerFile: "/etc/zester/peel-issuer.nk" } : {}),
});

/** Each namespace's `nats-config` Secret: one rendered config per pod. */
function configSecrets(region: RegionScope, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
  const { children, topology: t, settings: s, configIdentities, r, prefix } = region;
  const hubLeafHost = r === region.layout.regions[0] ? undefined : region.layout.hubLeafHost;
  return r.configs.map((c) =>
    children.make(`${prefix}nats-config-${c.namespace}`, opts, (name, o) => {
      return new k8s.core.v1.Secret(
        name,
        {
          metadata: withLabels(region, { name: "nats-config", namespace: c.namespace }),
          stringData: configIdentities.apply((identities) =>
            Object.fromEntries(c.servers.map((n) => [`${n}.conf`, renderConf(t, n, s, identities, hubLeafHost)])),
          ),
        },
        o,
      );
    }),
  );
}

function serverOf(t: Topology, name: string): TopologyServer {
  const x = t.servers.find((y) => y.name === name);
  if (x === undefined) throw new Error(`no server ${name}`);
  return x;
}

/**
 * Each namespace's `nats-tls` Secret: the CA, a certificate and key per pod there, and the link
 * certificate and credentials its servers solicit their hub with. The leaf namespace (a DMZ)
 * holds its own servers' keys and the leaf link's, nothing of the core's.
 */
function tlsSecrets(region: RegionScope, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
  const { children, topology: t, settings: s, layout, tls, identities, r, prefix } = region;
  const reachedBy = KUBERNETES.reachedBy(t, layout, s);
  return r.configs.map((c) => {
    const own = c.servers.map((n) => ({ name: n, ...tls.issue(serverCertificate(serverOf(t, n), reachedBy)) }));
    const links = [
      ...new Set(
        c.servers.flatMap((n) => {
          const x = t.servers.find((y) => y.name === n);
          const link = x === undefined ? undefined : linkOf(t, x);
          return link === undefined ? [] : [link];
        }),
      ),
    ].flatMap((name) => {
      const issued = tls.links.get(name);
      return issued === undefined ? [] : [{ name, ...issued }];
    });
    const all = [...own, ...links];
    const files: [string, pulumi.Output<string>][] = [
      ["ca.pem", tls.ca],
      ...all.flatMap((x): [string, pulumi.Output<string>][] => [
        [`${x.name}.pem`, x.cert],
        [`${x.name}-key.pem`, x.key],
      ]),
      ...links.map((x): [string, pulumi.Output<string>] => [
        `${x.name}.creds`,
        identities.seeds.apply((seeds) => roleCreds(seeds, x.name === "leaf-link" ? "leafLink" : "regionLink")),
      ]),
    ];
    const data = pulumi
      .all(files.map(([, content]) => content))
      .apply((contents) => Object.fromEntries(files.map(([file], i) => [file, contents[i] ?? ""])));
    return children.make(`${prefix}nats-tls-${c.namespace}`, opts, (name, o) => {
      return new k8s.core.v1.Secret(
        name,
        { metadata: withLabels(region, { name: "nats-tls", namespace: c.namespace }), stringData: pulumi.secret(data) },
        o,
      );
    });
  });
}

function masterSecret(region: RegionScope, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
  const { children, topology: t, settings: s, identities, tls, r, prefix } = region;
  const cluster = t.clusters.find((c) => c.region === r.region);
  if (s.zesterMasterImage === undefined || cluster === undefined) return [];
  return [
    children.make(`${prefix}zester-master`, opts, (name, o) => {
      return new k8s.core.v1.Secret(
        name,
        {
          metadata: withLabels(region, { name: "zester-master", namespace: s.namespace }),
          stringData: pulumi.secret(
            pulumi.all([identities.seeds, tls.ca]).apply(([seeds, ca]) => ({
              ...Object.fromEntries(
                cluster.servers.map((n) => [`${n}.yaml`, masterConfig(t, n, credentialsIn("master"))]),
              ),
              "master.creds": roleCreds(seeds, "master"),
              // The peels' issuer: what the master, the enrollment side, signs each peel with.
              "peel-issuer.nk": `${seeds.peelIssuer}\n`,
              "ca.pem": ca,
            })),
          ),
        },
        o,
      );
    }),
  ];
}

/** Volumes first, with the planned size: a StatefulSet's claim template cannot change, a claim can grow. */
function claims(region: RegionScope, opts: pulumi.CustomResourceOptions): pulumi.Resource[] {
  const { children, layout, r, prefix } = region;
  return r.volumes.map((v) =>
    // A class is fixed for a claim's life: survivors keep theirs when the tier moves to NVMe. A
    // claim dropped from the program stays in the cluster: `pulumi up` never deletes JetStream data.
    children.make(
      `${prefix}${v.name}`,
      { ...opts, ignoreChanges: ["spec.storageClassName"], retainOnDelete: true },
      (name, o) => {
        return new k8s.core.v1.PersistentVolumeClaim(
          name,
          {
            metadata: withLabels(region, {
              name: v.name,
              namespace: v.namespace,
              labels: { "app.kubernetes.io/part-of": "zester" },
            }),
            spec: {
              accessModes: ["ReadWriteOnce"],
              resources: { requests: { storage: `${String(v.sizeGiB)}Gi` } },
              ...(layout.storageClass === undefined ? {} : { storageClassName: layout.storageClass }),
            },
          },
          o,
        );
      },
    ),
  );
}

/** The KV reconcile: a Job once the servers exist, and a CronJob correcting drift. */
function reconcile(region: RegionScope, opts: pulumi.CustomResourceOptions): void {
  const { children, settings: s, identities, tls, r, prefix } = region;
  // During a tier transition the job may reconcile to another tier's plan than the servers declared.
  const t = region.reconcile.topology ?? region.topology;
  const cluster = t.clusters.find((c) => c.region === r.region);
  if (cluster === undefined) return;
  const ns = s.namespace;
  const transition = region.reconcile.transition;
  transitionReport(region, opts);
  children.make(`${prefix}kv-reconcile-code`, opts, (name, o) => {
    return new k8s.core.v1.ConfigMap(
      name,
      {
        metadata: withLabels(region, { name: "kv-reconcile-code", namespace: ns }),
        data: { "index.js": region.reconcileCode },
      },
      o,
    );
  });
  children.make(`${prefix}kv-reconcile-job`, opts, (name, o) => {
    return new k8s.core.v1.Secret(
      name,
      {
        metadata: withLabels(region, { name: "kv-reconcile-job", namespace: ns }),
        stringData: pulumi.secret(
          pulumi.all([identities.seeds, tls.ca]).apply(([seeds, ca]) => ({
            job: JSON.stringify({
              ...clusterJob(t, cluster, { ca, credentials: { creds: roleCreds(seeds, "reconcile") } }),
              ...(transition === undefined
                ? {}
                : { transition: { ...transition, report: { configMap: TRANSITION_CONFIGMAP, namespace: ns } } }),
            }),
          })),
        ),
      },
      o,
    );
  });
  const pod = region.deferred.resolve(reconcilePod(s));
  children.make(`${prefix}kv-reconcile`, opts, (name, o) => {
    // No name: Pulumi names it, and a changed template is a new Job, run once more.
    return new k8s.batch.v1.Job(
      name,
      { metadata: withLabels(region, { namespace: ns }), spec: { backoffLimit: 10, template: pod } },
      o,
    );
  });
  children.make(`${prefix}kv-reconcile`, opts, (name, o) => {
    return new k8s.batch.v1.CronJob(
      name,
      {
        metadata: withLabels(region, { name: "kv-reconcile", namespace: ns }),
        spec: {
          schedule: `*/${String(s.reconcileEveryMinutes)} * * * *`,
          concurrencyPolicy: "Forbid",
          jobTemplate: { spec: { backoffLimit: 2, template: pod } },
        },
      },
      o,
    );
  });
}

/**
 * Where the reconcile job reports a tier transition's data moved: a ConfigMap the stack declares
 * (the job only fills in its `report` key, which updates leave alone), and a ServiceAccount whose
 * Role may patch that one ConfigMap and nothing else. The next update reads it back.
 */
function transitionReport(region: RegionScope, opts: pulumi.CustomResourceOptions): void {
  const { children, settings: s, prefix } = region;
  const ns = s.namespace;
  children.make(`${prefix}transition`, { ...opts, ignoreChanges: ["data"] }, (name, o) => {
    return new k8s.core.v1.ConfigMap(
      name,
      { metadata: withLabels(region, { name: TRANSITION_CONFIGMAP, namespace: ns }), data: {} },
      o,
    );
  });
  children.make(`${prefix}kv-reconcile`, opts, (name, o) => {
    return new k8s.core.v1.ServiceAccount(
      name,
      { metadata: withLabels(region, { name: RECONCILE_SERVICE_ACCOUNT, namespace: ns }) },
      o,
    );
  });
  children.make(`${prefix}kv-reconcile-report`, opts, (name, o) => {
    return new k8s.rbac.v1.Role(
      name,
      {
        metadata: withLabels(region, { name: "kv-reconcile-report", namespace: ns }),
        rules: [
          {
            apiGroups: [""],
            resources: ["configmaps"],
            resourceNames: [TRANSITION_CONFIGMAP],
            verbs: ["get", "patch"],
          },
        ],
      },
      o,
    );
  });
  children.make(`${prefix}kv-reconcile-report`, opts, (name, o) => {
    return new k8s.rbac.v1.RoleBinding(
      name,
      {
        metadata: withLabels(region, { name: "kv-reconcile-report", namespace: ns }),
        roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "kv-reconcile-report" },
        subjects: [{ kind: "ServiceAccount", name: RECONCILE_SERVICE_ACCOUNT, namespace: ns }],
      },
      o,
    );
  });
}

/**
 * The peels the stack issues credentials to, in the first region's core namespace: a Secret
 * each (`zester-peel-<id>`: its config, its own credentials, the CA), and with the peel image a
 * pod each (a Deployment of one) mounting its own Secret and nothing of another peel's.
 */
function peels(region: RegionScope, opts: pulumi.CustomResourceOptions): void {
  const { children, topology: t, settings: s, peelCreds, tls, r, prefix } = region;
  const image = s.zesterPeelImage;
  for (const peel of s.peelCredentials) {
    const name = peelSecretName(peel);
    const labels = {
      "app.kubernetes.io/name": "zester-peel",
      "app.kubernetes.io/instance": peel,
      "app.kubernetes.io/part-of": "zester",
    };
    children.make(`${prefix}${name}`, opts, (resourceName, o) => {
      return new k8s.core.v1.Secret(
        resourceName,
        {
          metadata: withLabels(region, { name, namespace: s.namespace }),
          stringData: pulumi.secret(
            pulumi.all([peelCreds, tls.ca]).apply(([creds, ca]) => ({
              "peel.yaml": peelConfig(t, { region: r.region }, credentialsIn("peel"), undefined, peel),
              "peel.creds": creds[peel] ?? "",
              "ca.pem": ca,
            })),
          ),
        },
        o,
      );
    });
    if (image === undefined) continue;
    children.make(`${prefix}${name}`, opts, (resourceName, o) => {
      return new k8s.apps.v1.Deployment(
        resourceName,
        {
          metadata: withLabels(region, { name, namespace: s.namespace, labels }),
          spec: {
            replicas: 1,
            selector: { matchLabels: labels },
            template: {
              metadata: { labels },
              spec: {
                containers: [
                  {
                    name: "peel",
                    image: region.deferred.input(image),
                    args: ["--config", "/etc/zester/peel.yaml"],
                    volumeMounts: [{ name: "config", mountPath: "/etc/zester", readOnly: true }],
                  },
                ],
                volumes: [{ name: "config", secret: { secretName: name } }],
              },
            },
          },
        },
        o,
      );
    });
  }
}

/** The Secret holding a peel's credentials (an id of `peelCredentials`: a valid Secret name once prefixed). */
export const peelSecretName = (peel: string): string => `zester-peel-${peel}`;

/**
 * The expiry alerts of every certificate the stack issued (certificate-alerts.ts), in the first
 * region's core namespace: a PrometheusRule with the Prometheus Operator, else a rule file in a
 * ConfigMap, as the other alert rules are.
 */
export function certificateAlerts(scope: K8sScope, provider: pulumi.ProviderResource): void {
  const { children, settings: s, tls } = scope;
  const rules = tls.expiries().apply((certs) => certificateAlertRules(certs, "zester-certificates"));
  const metadata = withLabels(scope, {
    name: "zester-certificates",
    namespace: s.namespace,
    labels: { "app.kubernetes.io/part-of": "zester" },
  });
  children.make("zester-certificate-alerts", { provider }, (name, o) =>
    s.prometheusOperator
      ? new k8s.apiextensions.CustomResource(
          name,
          { apiVersion: "monitoring.coreos.com/v1", kind: "PrometheusRule", metadata, spec: rules },
          o,
        )
      : new k8s.core.v1.ConfigMap(
          name,
          { metadata, data: { "zester-certificates.rules.yaml": rules.apply(rulesYaml) } },
          o,
        ),
  );
}

/** Metadata with the caller's labels under ours; none added when the caller gave none. */
interface Metadata {
  name?: string;
  namespace?: string;
  labels?: Record<string, string>;
}

function withLabels<M extends Metadata>(region: K8sScope, metadata: M): M {
  if (Object.keys(region.labels).length === 0) return metadata;
  return { ...metadata, labels: { ...region.labels, ...metadata.labels } };
}

/**
 * Declares one plain object. A CustomResource carries any apiVersion/kind with the type token
 * `kubernetes:<apiVersion>:<kind>`, which equals the typed class's for named groups
 * (`kubernetes:apps/v1:StatefulSet`); the core group's classes are `core/v1`, so its kinds are
 * declared with them. The objects are the layout's, checked against the Kubernetes schema in the
 * tests, so the field types are asserted here, not converted.
 */
function declareObject(
  region: RegionScope,
  plain: K8sObject,
  opts: pulumi.CustomResourceOptions,
): pulumi.CustomResource {
  const local = `${region.prefix}${plain.kind.toLowerCase()}-${plain.metadata.namespace ?? "cluster"}-${plain.metadata.name}`;
  const obj: K8sObject = { ...plain, metadata: withLabels(region, plain.metadata) };
  return region.children.make(local, opts, (name, o) => {
    const resolved = region.deferred.resolve(obj) as K8sObject;
    if (obj.apiVersion !== "v1") return new k8s.apiextensions.CustomResource(name, resolved, o);
    const { metadata } = obj;
    switch (obj.kind) {
      case "Namespace":
        return new k8s.core.v1.Namespace(name, { metadata }, o);
      case "Service":
        return new k8s.core.v1.Service(name, { metadata, spec: obj.spec as k8s.types.input.core.v1.ServiceSpec }, o);
      case "ConfigMap":
        return new k8s.core.v1.ConfigMap(name, { metadata, data: obj.data as Record<string, string> }, o);
      default:
        throw new Error(`no declaration for core kind ${obj.kind}`);
    }
  });
}
