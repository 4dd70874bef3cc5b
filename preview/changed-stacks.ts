/** Which stacks a change previews: those whose file changed, all of them when plan code changed. */
/**
 * What the plans come from: a change here may change any stack's plan. The pull request workflow
 * (.github/workflows/preview.yml) runs on exactly these paths (a test holds the two equal).
 */
export const PLAN_SOURCES = [
  "stacks/**",
  "sizing/**",
  "topology/**",
  "components/**",
  "jetstream/**",
  "preview/**",
  "scripts/plan.ts",
  "scripts/plan-mocks.ts",
  "scripts/stack-file.ts",
  "scripts/preview.ts",
  "scripts/preview-base.ts",
  "index.ts",
  "Pulumi.yaml",
  "package.json",
  "package-lock.json",
] as const;

export const STACK_FILE = /^stacks\/Pulumi\.([A-Za-z0-9_.-]+)\.yaml$/;

const matches = (file: string, pattern: string) =>
  pattern.endsWith("/**") ? file.startsWith(pattern.slice(0, -2)) : file === pattern;

/** The stacks to preview, of those that exist now, for the files a change touches. */
export function stacksToPreview(changed: readonly string[], stacks: readonly string[]): string[] {
  const code = changed.some((f) => !STACK_FILE.test(f) && PLAN_SOURCES.some((p) => matches(f, p)));
  if (code) return [...stacks].sort();
  const named = changed.map((f) => STACK_FILE.exec(f)?.[1]).filter((s): s is string => s !== undefined);
  return [...new Set(named)].filter((s) => stacks.includes(s)).sort();
}
