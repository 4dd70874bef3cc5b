/** The four passwords of a topology, generated once and kept in the stack's state. */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Secrets } from "../topology/auth";

export function generatedSecrets(parent: pulumi.Resource): pulumi.Output<Secrets> {
  const password = (user: keyof Secrets) =>
    new random.RandomPassword(`${user}-password`, { length: 32, special: false }, { parent }).result;
  return pulumi
    .all([password("system"), password("app"), password("leaf"), password("route")])
    .apply(([system, app, leaf, route]) => ({ system, app, leaf, route }));
}
