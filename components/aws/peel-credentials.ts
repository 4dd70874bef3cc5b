/**
 * The credentials the stack issues to peels (`zester:aws.peelCredentials`), each a SecureString
 * parameter of its own in the first region's parameter store: whoever sets up that peel's host
 * reads that one parameter (or hands its IAM role that one), and nothing of any other peel.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackIds } from "../../change/target";
import type { Children } from "../children";
import { parameterPath } from "./target";

/** Where a peel's credentials are: `/zester/<stackId>/<component>/peels/<id>`. */
export const peelParameterName = (ids: StackIds, peel: string): string =>
  parameterPath(ids, `peels/${peel}`).replace(/\/$/, "");

export interface PeelCredentialArgs {
  ids: StackIds;
  /** The peels the stack issues credentials to (`settings.peelCredentials`). */
  peels: readonly string[];
  /** Each issued peel's `.creds`, by id. Secret. */
  creds: pulumi.Output<Record<string, string>>;
  /** Options of a resource in the first region: its provider. */
  opts: pulumi.CustomResourceOptions;
}

/** Declares each issued peel's parameter; returns the parameters' names by peel id. */
export function peelCredentialParameters(children: Children, args: PeelCredentialArgs): Record<string, string> {
  const names: Record<string, string> = {};
  for (const peel of args.peels) {
    const name = peelParameterName(args.ids, peel);
    names[peel] = name;
    children.make(`peel-${peel}-credentials`, args.opts, (resourceName, opts) => {
      return new aws.ssm.Parameter(
        resourceName,
        {
          name,
          type: "SecureString",
          value: pulumi.secret(args.creds.apply((all) => all[peel] ?? missingCreds(peel))),
          ...children.tagged({ "zester:stack": args.ids.stackId, "zester:peel": peel }),
        },
        opts,
      );
    });
  }
  return names;
}

function missingCreds(peel: string): never {
  throw new Error(`the stack issued no credentials to peel ${peel}`);
}
