/**
 * What `ZesterAws` takes: a sizing spec and the AWS settings, where the ids an operator usually
 * has as outputs of other resources (their VPC, subnets, an AMI) may be `pulumi.Input`s. Settings
 * are validated here with the same schema the stack config uses.
 */
import * as pulumi from "@pulumi/pulumi";
import { problemsOf, SpecError } from "../../sizing/spec";
import type { Deferred } from "../deferred";
import { AwsSettingsSchema, IDS, type AwsSettingsInput, type AwsTarget, type NetworkInput } from "./settings";

export interface SubnetArg {
  id: pulumi.Input<string>;
  /** Given, not looked up: placement is decided before anything is created. */
  az: string;
}

export type NetworkArg = Omit<NetworkInput, "vpcId" | "subnets" | "ami"> & {
  vpcId?: pulumi.Input<string>;
  subnets?: SubnetArg[];
  ami?: pulumi.Input<string>;
};

/** `zester:aws` as a component takes it: the region is required, ids may be outputs. */
export type AwsSettingsArgs = Omit<AwsSettingsInput, "region" | "network" | "regions" | "leafSites"> & {
  /** The AWS region of the only (or, in a supercluster, the first) Zester region. */
  region: string;
  network?: NetworkArg;
  regions?: Record<string, { region: string; network?: NetworkArg }>;
  leafSites?: Record<string, { subnets: SubnetArg[] }>;
};

const standIn = (kind: keyof typeof IDS) => (n: number) => `${kind}-d0${n.toString(16).padStart(15, "0")}`;

/** Outputs become stand-ins the layout accepts; the settings are validated; SpecError names the key. */
export function resolveAwsSettings(settings: AwsSettingsArgs, deferred: Deferred): AwsTarget {
  const plainId = (kind: keyof typeof IDS, key: string, value: pulumi.Input<string>): string =>
    deferred.plain(value, key, standIn(kind), (v) => (IDS[kind].pattern.test(v) ? undefined : IDS[kind].message));
  const optionalId = (kind: keyof typeof IDS, key: string, value: pulumi.Input<string> | undefined) =>
    value === undefined ? undefined : plainId(kind, key, value);
  const subnets = (list: SubnetArg[] | undefined, key: string) =>
    list?.map((x, i) => ({ ...x, id: plainId("subnet", `${key}[${String(i)}].id`, x.id) }));
  const network = (n: NetworkArg | undefined, key: string): NetworkInput | undefined =>
    n === undefined
      ? undefined
      : dropUndefined({
          ...n,
          vpcId: optionalId("vpc", `${key}.vpcId`, n.vpcId),
          subnets: subnets(n.subnets, `${key}.subnets`),
          ami: optionalId("ami", `${key}.ami`, n.ami),
        });
  const plain: AwsSettingsInput = dropUndefined({
    ...settings,
    network: network(settings.network, "zester:aws.network"),
    regions:
      settings.regions === undefined
        ? undefined
        : Object.fromEntries(
            Object.entries(settings.regions).map(([name, r]) => [
              name,
              dropUndefined({ ...r, network: network(r.network, `zester:aws.regions.${name}.network`) }),
            ]),
          ),
    leafSites:
      settings.leafSites === undefined
        ? undefined
        : Object.fromEntries(
            Object.entries(settings.leafSites).map(([name, site]) => [
              name,
              { subnets: subnets(site.subnets, `zester:aws.leafSites.${name}.subnets`) ?? [] },
            ]),
          ),
  });
  const parsed = AwsSettingsSchema.safeParse(plain);
  if (!parsed.success) throw new SpecError(problemsOf(parsed.error).map((p) => ({ ...p, path: ["aws", ...p.path] })));
  return { ...parsed.data, region: settings.region };
}

function dropUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
