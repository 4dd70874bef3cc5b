/**
 * The credentials the stack issues to peels (`zester:aws.peelCredentials`), each a SecureString
 * parameter of its own in the first region's parameter store: whoever sets up that peel's host
 * reads that one parameter (or hands its IAM role that one), and nothing of any other peel.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { AwsScope } from "./scope";

/** Where a peel's credentials are: `/zester/<stackId>/<component>/peels/<id>`. */
export const peelParameterName = (scope: Pick<AwsScope, "parameterPath">, peel: string): string =>
  scope.parameterPath(`peels/${peel}`).replace(/\/$/, "");

/** Declares each issued peel's parameter; returns the parameters' names by peel id. */
export function peelCredentialParameters(
  scope: AwsScope,
  creds: pulumi.Output<Record<string, string>>,
): Record<string, string> {
  const { children, settings } = scope;
  const first = scope.layout.regions[0];
  if (first === undefined) throw new Error("a layout has at least one region");
  const names: Record<string, string> = {};
  for (const peel of settings.peelCredentials) {
    const name = peelParameterName(scope, peel);
    names[peel] = name;
    children.make(`peel-${peel}-credentials`, scope.inRegion(first), (resourceName, opts) => {
      return new aws.ssm.Parameter(
        resourceName,
        {
          name,
          type: "SecureString",
          value: pulumi.secret(creds.apply((all) => all[peel] ?? "")),
          ...children.tagged({ "zester:stack": scope.stackId, "zester:peel": peel }),
        },
        opts,
      );
    });
  }
  return names;
}
