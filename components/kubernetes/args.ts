/**
 * What `ZesterKubernetes` takes: the Kubernetes settings as the stack config has them, where the
 * images (often built in the same program) may be `pulumi.Input`s. Validated here with the same
 * schema the stack config uses.
 */
import type * as pulumi from "@pulumi/pulumi";
import { problemsOf, SpecError } from "../../sizing/spec";
import type { Deferred } from "../deferred";
import { IMAGE, KubernetesSettingsSchema, type KubernetesSettings, type KubernetesSettingsInput } from "./settings";

const IMAGE_KEYS = ["exporterImage", "zesterMasterImage", "zesterPeelImage", "reconcileImage"] as const;
type ImageKey = (typeof IMAGE_KEYS)[number];

export type KubernetesSettingsArgs = Omit<KubernetesSettingsInput, ImageKey> & {
  [K in ImageKey]?: pulumi.Input<string>;
};

export function resolveKubernetesSettings(settings: KubernetesSettingsArgs, deferred: Deferred): KubernetesSettings {
  const plain: Record<string, unknown> = { ...settings };
  for (const key of IMAGE_KEYS) {
    const value = settings[key];
    if (value !== undefined)
      plain[key] = deferred.plain(
        value,
        `zester:kubernetes.${key}`,
        (n) => `deferred-${String(n)}.invalid/image:stand-in`,
        (v) => (IMAGE.pattern.test(v) ? undefined : IMAGE.message),
      );
  }
  const parsed = KubernetesSettingsSchema.safeParse(plain);
  if (!parsed.success)
    throw new SpecError(problemsOf(parsed.error).map((p) => ({ ...p, path: ["kubernetes", ...p.path] })));
  return parsed.data;
}
