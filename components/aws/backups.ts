/** Data Lifecycle Manager snapshots of a region's EBS JetStream volumes, selected by tag. */
import * as aws from "@pulumi/aws";
import type { AwsScope, RegionScope } from "./scope";

export function snapshotPolicy(scope: AwsScope, region: RegionScope, role: aws.iam.Role): void {
  const { children, settings: s } = scope;
  const { r, o } = region;
  if (!r.servers.some((x) => x.hardware.storage.kind === "ebs")) return;
  children.make(`${r.prefix}backups`, o, (name, opts) => {
    return new aws.dlm.LifecyclePolicy(
      name,
      {
        // AWS takes only [0-9A-Za-z _-] here (its API model); a stack name may hold dots.
        description: `Zester JetStream volumes of ${scope.stackId.replace(/[^0-9A-Za-z _-]/g, "-")}`,
        executionRoleArn: role.arn,
        state: "ENABLED",
        policyDetails: {
          resourceTypes: ["VOLUME"],
          targetTags: { "zester:backup": scope.stackId },
          schedules: [
            {
              name: `every ${String(s.backups.everyHours)} h`,
              createRule: { interval: s.backups.everyHours, intervalUnit: "HOURS" },
              retainRule: { count: s.backups.keep },
              copyTags: true,
            },
          ],
        },
        ...children.tagged({ "zester:stack": scope.stackId }),
      },
      opts,
    );
  });
}
