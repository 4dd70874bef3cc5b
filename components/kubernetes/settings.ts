/**
 * `zester:kubernetes`: the Kubernetes target's settings, validated with zod at the stack-config
 * edge. Every field documents its default; unknown keys are refused.
 */
import { z } from "zod";
import { dnsLabel, wholeNumber } from "../../sizing/spec";
import { cidr } from "../cidr";
import { natsServerVersion } from "../../topology/render/version";
import { PeelCredentialsSchema, revokedProblems, RevokedPeelsSchema } from "../peels";

const message = (m: string) => ({ message: m });

/** An image reference, with what a setting says when it is not one (also checked once an output's value is known). */
export const IMAGE = {
  pattern: /^[a-z0-9][a-z0-9._/:@-]*$/,
  message: "must be an image reference, e.g. nats:2.14.6-alpine",
} as const;
const image = z.string({ invalid_type_error: "must be a string" }).regex(IMAGE.pattern, message(IMAGE.message));

const className = z
  .string({ invalid_type_error: "must be a string" })
  .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, message("must be a StorageClass name (a DNS subdomain)"));

const host = z
  .string({ invalid_type_error: "must be a string" })
  .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/, message("must be a host name, e.g. leaf.eu.example.com"));

export const KubernetesSettingsSchema = z
  .strictObject({
    /** The namespace of the core cluster. @default "zester" */
    namespace: dnsLabel.default("zester"),
    /** The namespace leaf servers run in (a DMZ). @default "zester-leaf" */
    leafNamespace: dnsLabel.default("zester-leaf"),
    /** kubeconfig context of the only (or the first) region. @default the current context */
    context: z.string().min(1).optional(),
    /** Supercluster: the kubeconfig context of every region but the first. */
    regions: z.record(dnsLabel, z.strictObject({ context: z.string().min(1) })).optional(),
    /**
     * Supercluster: the host other regions reach the first region's leafnode port (7422) at, e.g.
     * the DNS name of its `leafnodes` LoadBalancer Service.
     */
    hubLeafHost: host.optional(),
    /** StorageClass of JetStream volumes on SSD tiers. @default the cluster's default class */
    storageClass: className.optional(),
    /** StorageClass of JetStream volumes on NVMe tiers (10,000+ peels). No default: required there. */
    nvmeStorageClass: className.optional(),
    /** @default nats-server 2.14.6 (the official `nats` image); the config is rendered for `version` */
    natsServer: z
      .strictObject({
        image,
        version: natsServerVersion,
      })
      .default({ image: "nats:2.14.6-alpine", version: "2.14.6" }),
    /** The NATS Prometheus exporter sidecar. @default natsio/prometheus-nats-exporter:0.17.3 */
    exporterImage: image.default("natsio/prometheus-nats-exporter:0.17.3"),
    /**
     * The sidecar that reloads nats-server (SIGHUP) when its config changes, as the NATS Helm chart
     * runs it, so a change only a reload needs never rolls the pods. @default natsio/nats-server-config-reloader:0.23.0
     */
    reloaderImage: image.default("natsio/nats-server-config-reloader:0.23.0"),
    /** The Zester master image, run next to every core server. @default none: no master container */
    zesterMasterImage: image.optional(),
    /**
     * The Zester peel image, run as one pod per `peelCredentials` id, each with its own identity
     * (a DaemonSet's pods are identical, so they could not each hold one). @default none
     */
    zesterPeelImage: image.optional(),
    /**
     * Peels the stack issues credentials to itself, by id: each its own key, its `.creds` in a
     * Secret `zester-peel-<id>` (output `peelCredentials`); lower-case letters, digits and "-", as a
     * Secret's name takes them. Peels enrolled by the masters get theirs from them. @default none
     */
    peelCredentials: PeelCredentialsSchema.superRefine((ids, ctx) => {
      for (const [i, id] of ids.entries())
        if (!/^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(id))
          ctx.addIssue({
            code: "custom",
            path: [i],
            message: `"${id}" cannot name a Kubernetes Secret: use lower-case letters, digits and "-", starting and ending with a letter or digit`,
          });
    }),
    /**
     * Revoked peels: an id of `peelCredentials`, or any peel's public key (`U…`). The servers
     * reload and drop its connections; its credentials are refused for good. @default none
     */
    revokedPeels: RevokedPeelsSchema,
    /** The image the KV reconcile Job and CronJob run the bundled reconcile with. @default node:22-alpine */
    reconcileImage: image.default("node:22-alpine"),
    /** How often the KV reconcile CronJob corrects drift, in minutes. @default 5 */
    reconcileEveryMinutes: wholeNumber(1, 59).default(5),
    /**
     * The plan's namespaced "unsafe" sysctls (somaxconn, tcp_max_syn_backlog, tcp_tw_reuse) through
     * a privileged init container. @default false: only the safe ip_local_port_range is set
     */
    privilegedSysctlInit: z.boolean().default(false),
    /** A privileged DaemonSet setting the node-wide sysctls (netdev_max_backlog, file-max). @default false */
    nodeTuningDaemonSet: z.boolean().default(false),
    /**
     * Prometheus Operator objects (PodMonitor, PrometheusRule); without it, scrape annotations on the
     * pods and the alert rules in a ConfigMap. @default false
     */
    prometheusOperator: z.boolean().default(false),
    /**
     * How hard servers spread over zones: `DoNotSchedule` keeps a pod pending rather than put two
     * voters of a 3-server cluster in one zone. @default "DoNotSchedule"
     */
    zoneSpread: z
      .enum(["DoNotSchedule", "ScheduleAnyway"], {
        errorMap: () => message('must be "DoNotSchedule" or "ScheduleAnyway"'),
      })
      .default("DoNotSchedule"),
    /**
     * Supercluster: the CIDRs the other regions' leaf connections come from. The hub's leafnode
     * LoadBalancer is internal (each cloud's annotation) and admits only these. Required there.
     */
    leafnodeSourceRanges: z.array(cidr).min(1, message("must list at least one CIDR")).optional(),
    /** CIDRs peels connect from (4222); the NetworkPolicies admit them. @default anywhere */
    peelSourceRanges: z.array(cidr).min(1, message("must list at least one CIDR")).optional(),
    /** The namespace Prometheus scrapes from: only it reaches 8222 and the exporter. @default "monitoring" */
    monitoringNamespace: dnsLabel.default("monitoring"),
    /** Resources of the Zester master container (requests = limits: the pod stays Guaranteed). */
    zesterMasterResources: z
      .strictObject({
        cpu: z.string().regex(/^\d+m?$/, message('must be a CPU quantity, e.g. "500m" or "1"')),
        memory: z.string().regex(/^\d+(Mi|Gi)$/, message('must be a memory quantity, e.g. "512Mi"')),
      })
      .default({ cpu: "500m", memory: "512Mi" }),
  })
  .superRefine((s, ctx) => {
    for (const p of revokedProblems(s.peelCredentials, s.revokedPeels))
      ctx.addIssue({ code: "custom", path: ["revokedPeels", p.index], message: p.message });
  });
export type KubernetesSettings = z.output<typeof KubernetesSettingsSchema>;
export type KubernetesSettingsInput = z.input<typeof KubernetesSettingsSchema>;
