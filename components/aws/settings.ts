/**
 * `zester:aws`: the AWS target's settings, validated with zod at the stack-config edge. Every
 * field documents its default; unknown keys are refused.
 */
import { z } from "zod";
import { dnsLabel, wholeNumber } from "../../sizing/spec";
import { natsServerVersion } from "../../topology/render/version";
import { cidr, parseCidr } from "../cidr";
import { PeelCredentialsSchema, revokedProblems, RevokedPeelsSchema } from "../peels";
import { ARCHES } from "./catalog";

const message = (m: string) => ({ message: m });

const awsRegion = z
  .string({ invalid_type_error: "must be a string" })
  .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, message("must be an AWS region name, e.g. us-east-1"));

const availabilityZone = z
  .string({ invalid_type_error: "must be a string" })
  .regex(/^[a-z]{2}(-[a-z]+)+-\d[a-z]$/, message("must be an availability zone name, e.g. us-east-1a"));

const https = z
  .string({ invalid_type_error: "must be a string" })
  .regex(/^https:\/\/\S+$/, message("must be an https:// URL"));
const sha256 = z
  .string({ invalid_type_error: "must be a string" })
  .regex(/^[0-9a-f]{64}$/, message("must be the file's SHA-256: 64 lowercase hex digits"));

export const PinSchema = z.strictObject({ url: https, sha256 });
export type Pin = z.infer<typeof PinSchema>;

export const NatsServerPinSchema = z.strictObject({
  version: natsServerVersion,
  /** A `nats-server-vX-linux-ARCH.tar.gz` release tarball for the instances' architecture. */
  url: https,
  sha256,
});
export type NatsServerPin = z.infer<typeof NatsServerPinSchema>;

/** The intervals Data Lifecycle Manager's schedules accept. */
const EVERY_HOURS = [1, 2, 3, 4, 6, 8, 12, 24];
const EVERY_HOURS_MESSAGE = "must be one of 1, 2, 3, 4, 6, 8, 12 or 24 (what Data Lifecycle Manager accepts)";

/** AWS's id formats, with what a setting says when it is not one (also checked once an output's value is known). */
export const IDS = {
  vpc: { pattern: /^vpc-[0-9a-f]{8,17}$/, message: "must be a VPC id, e.g. vpc-0123456789abcdef0" },
  subnet: { pattern: /^subnet-[0-9a-f]{8,17}$/, message: "must be a subnet id, e.g. subnet-0123456789abcdef0" },
  ami: { pattern: /^ami-[0-9a-f]{8,17}$/, message: "must be an AMI id, e.g. ami-0123456789abcdef0" },
} as const;
const id = (kind: keyof typeof IDS) => z.string().regex(IDS[kind].pattern, message(IDS[kind].message));

const SubnetSchema = z.strictObject({
  id: id("subnet"),
  /** Given, not looked up: placement is decided before anything is created. */
  az: availabilityZone,
});
export type Subnet = z.infer<typeof SubnetSchema>;

export const NetworkSchema = z
  .strictObject({
    /** The operator's VPC. @default a new VPC */
    vpcId: id("vpc").optional(),
    /** With `vpcId`: the private subnets servers go to, each with its AZ. */
    subnets: z.array(SubnetSchema).min(1, message("must list at least one subnet")).optional(),
    /** New VPC only. @default 10.42.0.0/16 for the first region, 10.43.0.0/16 for the next … */
    vpcCidr: cidr
      .refine((s) => {
        const p = parseCidr(s)?.prefix ?? 0;
        return p >= 16 && p <= 22;
      }, message("must be a /16 to /22 CIDR (three /20-or-smaller server subnets and leaf-site subnets are carved from it)"))
      .optional(),
    /** New VPC only. @default the region's zones a, b and c */
    availabilityZones: z
      .array(availabilityZone)
      .length(3, message("must list exactly 3 availability zones"))
      .refine((a) => new Set(a).size === 3, message("must list 3 different availability zones"))
      .optional(),
    /**
     * New VPC only: one NAT gateway (and the public subnet it needs) so servers can download
     * their pinned binaries. @default true
     */
    natGateway: z.boolean().optional(),
    /** @default the newest official Debian 12 AMI for the architecture, looked up once (never replaces a running server) */
    ami: id("ami").optional(),
  })
  .superRefine((n, ctx) => {
    if ((n.vpcId === undefined) !== (n.subnets === undefined))
      ctx.addIssue({
        code: "custom",
        path: [n.vpcId === undefined ? "vpcId" : "subnets"],
        message: "vpcId and subnets go together: the operator's VPC, and the subnets (with their AZs) in it",
      });
    if (n.vpcId !== undefined)
      for (const key of ["vpcCidr", "availabilityZones", "natGateway"] as const)
        if (n[key] !== undefined)
          ctx.addIssue({
            code: "custom",
            path: [key],
            message: "applies only to a VPC this project creates (no vpcId)",
          });
  });
export type Network = z.infer<typeof NetworkSchema>;
export type NetworkInput = z.input<typeof NetworkSchema>;

export const AwsSettingsSchema = z
  .strictObject({
    /** The AWS region of the only (or, in a supercluster, the first) Zester region. @default `aws:region` */
    region: awsRegion.optional(),
    /** @default "x86" (c6i/c6id/t3); "arm64" is Graviton (c7g/c7gd/t4g) */
    arch: z.enum(ARCHES, { errorMap: () => message(`must be one of: ${ARCHES.join(", ")}`) }).default("x86"),
    /** Core servers' instance family. @default by tier: t3, c6i, or c6id where the plan asks for NVMe */
    instanceFamily: z.string().optional(),
    /** Leaf servers' instance family. @default c6i / c7g */
    leafInstanceFamily: z.string().optional(),
    /** @default a new VPC */
    network: NetworkSchema.optional(),
    /** Supercluster: the AWS region (and network) of every Zester region but the first. */
    regions: z.record(dnsLabel, z.strictObject({ region: awsRegion, network: NetworkSchema.optional() })).optional(),
    /** Subnets of declared leaf sites (DMZ, edge). @default a subnet per site and AZ in a new VPC */
    leafSites: z
      .record(
        dnsLabel,
        z.strictObject({ subnets: z.array(SubnetSchema).min(1, message("must list at least one subnet")) }),
      )
      .optional(),
    /** Who may connect to 4222. @default the VPC's CIDR (required with the operator's VPC) */
    peelCidrs: z.array(cidr).min(1, message("must list at least one CIDR")).optional(),
    /** Who may read 8222 (monitoring). @default nobody */
    monitoringCidrs: z.array(cidr).default([]),
    /** The second "yes" a 0.0.0.0/0 in peelCidrs or monitoringCidrs needs. @default false */
    openToTheWorld: z.boolean().default(false),
    /** The Route 53 private zone servers are named in. @default "zester.internal" */
    dnsZone: z
      .string()
      .regex(/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,}$/, message("must be a domain name, e.g. zester.internal"))
      .default("zester.internal"),
    /** @default nats-server 2.14.6 from the NATS GitHub release for the architecture */
    natsServer: NatsServerPinSchema.optional(),
    /** The Zester master binary run next to every core server. @default none: masters are not installed */
    zesterMaster: PinSchema.optional(),
    /** The Zester peel binary for the peel bootstrap and canaries. @default none */
    zesterPeel: PinSchema.optional(),
    /**
     * The Amazon SSM Agent package (`amazon-ssm-agent.deb` for the architecture, from AWS's
     * regional download bucket), pinned like the binaries: Session Manager then reaches the servers
     * without SSH. Debian's images do not ship the agent. @default none: no Session Manager
     */
    ssmAgent: PinSchema.optional(),
    /** Peel hosts launched in an Auto Scaling group, for canaries and load tests. @default 0 */
    peelCanaries: wholeNumber(0, 1_000).default(0),
    /**
     * Peels the stack issues credentials to itself, by id: each its own key, its `.creds` in a
     * SecureString parameter `/zester/<stackId>/<name>/peels/<id>` (output `peelCredentials`).
     * Peels enrolled by the masters get theirs from them instead. @default none
     */
    peelCredentials: PeelCredentialsSchema,
    /**
     * Revoked peels: an id of `peelCredentials`, or any peel's public key (`U…`). The servers
     * reload and drop its connections; its credentials are refused for good. @default none
     */
    revokedPeels: RevokedPeelsSchema,
    /** EBS snapshots of JetStream volumes by Data Lifecycle Manager. */
    backups: z
      .strictObject({
        /** @default 24 */
        everyHours: z
          .number({ invalid_type_error: EVERY_HOURS_MESSAGE })
          .refine((h) => EVERY_HOURS.includes(h), message(EVERY_HOURS_MESSAGE))
          .default(24),
        /** @default 7 */
        keep: wholeNumber(1, 1_000).default(7),
      })
      .default({}),
    /** How often the KV reconcile corrects drift, in minutes. @default 5 */
    reconcileEveryMinutes: wholeNumber(1, 1_440).default(5),
  })
  .superRefine((s, ctx) => {
    for (const p of revokedProblems(s.peelCredentials, s.revokedPeels))
      ctx.addIssue({ code: "custom", path: ["revokedPeels", p.index], message: p.message });
  });
export type AwsSettings = z.output<typeof AwsSettingsSchema>;
export type AwsSettingsInput = z.input<typeof AwsSettingsSchema>;
/** Settings with the region resolved (from `zester:aws.region` or `aws:region`). */
export type AwsTarget = AwsSettings & { region: string };

/**
 * nats-server 2.14.6 release tarballs; SHA-256 as the NATS Docker images pin them
 * (nats-io/nats-docker, 2.14.6 alpine Dockerfile, the same GitHub release files).
 */
export const DEFAULT_NATS_SERVER: Record<(typeof ARCHES)[number], NatsServerPin> = {
  x86: {
    version: "2.14.6",
    url: "https://github.com/nats-io/nats-server/releases/download/v2.14.6/nats-server-v2.14.6-linux-amd64.tar.gz",
    sha256: "61c3d55f69f61ec616b75782250936445f2819e9e5f2ae6159b10a31abd2200c",
  },
  arm64: {
    version: "2.14.6",
    url: "https://github.com/nats-io/nats-server/releases/download/v2.14.6/nats-server-v2.14.6-linux-arm64.tar.gz",
    sha256: "3ff6e463762db64186a36cf0276dae8320509e995151ad0153ba9c9f67eee3f9",
  },
};
