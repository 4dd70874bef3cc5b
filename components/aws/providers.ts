/**
 * The AWS provider of each region. A provider the caller gives wins (the component's own
 * `provider`/`providers` option for the first region, `regionProviders` for the others); any other
 * is created from `providerDefaults` (the stack passes its `aws:*` config: profile, assumeRoles,
 * allowedAccountIds, defaultTags …, which an explicit provider would otherwise ignore) and the
 * region's name.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { Children } from "../children";
import type { AwsLayout } from "./layout";

export interface ProviderChoice {
  /** The component's own provider for `aws`, from its options. */
  given: pulumi.ProviderResource | undefined;
  regionProviders: Record<string, pulumi.ProviderResource> | undefined;
  providerDefaults: Omit<aws.ProviderArgs, "region"> | undefined;
}

export function regionProviders(
  children: Children,
  layout: AwsLayout,
  choice: ProviderChoice,
): Map<string, pulumi.ProviderResource> {
  const providers = new Map<string, pulumi.ProviderResource>();
  layout.regions.forEach((r, index) => {
    const given = index === 0 ? choice.given : choice.regionProviders?.[r.name];
    if (given !== undefined) {
      providers.set(r.name, given);
      return;
    }
    const { name, opts } = children.named(`aws-${r.name}`);
    providers.set(
      r.name,
      new aws.Provider(name, { ...choice.providerDefaults, region: r.awsRegion as aws.Region }, opts),
    );
  });
  return providers;
}
