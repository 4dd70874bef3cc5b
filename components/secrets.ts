/** The passwords of a topology's users, generated once and kept in the stack's state. */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { Secrets } from "../topology/auth";
import type { Children } from "./children";

export function generatedSecrets(children: Children): pulumi.Output<Secrets> {
  const password = (user: keyof Secrets) =>
    children.make(`${user}-password`, {}, (name, opts) => {
      return new random.RandomPassword(name, { length: 32, special: false }, opts);
    }).result;
  return pulumi
    .all([password("system"), password("app"), password("leaf"), password("route")])
    .apply(([system, app, leaf, route]) => ({ system, app, leaf, route }));
}
