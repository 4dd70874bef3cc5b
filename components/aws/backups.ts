/** Data Lifecycle Manager snapshots of a region's EBS JetStream volumes, selected by tag. */
import * as aws from "@pulumi/aws";
import type { Children } from "../children";
import type { RegionScope } from "./scope";
import type { AwsSettings } from "./settings";

export interface SnapshotArgs {
  role: aws.iam.Role;
  backups: AwsSettings["backups"];
  /** The `zester:backup` tag the region's volumes carry. */
  stackId: string;
}

export function snapshotPolicy(children: Children, region: RegionScope, args: SnapshotArgs): void {
  const { role, backups, stackId } = args;
  const { r, o } = region;
  if (!r.servers.some((x) => x.hardware.storage.kind === "ebs")) return;
  children.make(`${r.prefix}backups`, o, (name, opts) => {
    return new aws.dlm.LifecyclePolicy(
      name,
      {
        // AWS takes only [0-9A-Za-z _-] here (its API model); a stack name may hold dots.
        description: `Zester JetStream volumes of ${stackId.replace(/[^0-9A-Za-z _-]/g, "-")}`,
        executionRoleArn: role.arn,
        state: "ENABLED",
        policyDetails: {
          resourceTypes: ["VOLUME"],
          targetTags: { "zester:backup": stackId },
          schedules: [
            {
              name: `every ${String(backups.everyHours)} h`,
              createRule: { interval: backups.everyHours, intervalUnit: "HOURS" },
              retainRule: { count: backups.keep },
              copyTags: true,
            },
          ],
        },
        ...children.tagged({ "zester:stack": stackId }),
      },
      opts,
    );
  });
}
