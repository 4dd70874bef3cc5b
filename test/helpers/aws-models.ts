/**
 * AWS's published API models (botocore's service JSON: the shapes every AWS SDK and the CLI are
 * generated from), fetched from Debian sid's python3-botocore (sid follows botocore's releases;
 * bookworm's is years old) and kept in `.cache/aws-api-models/`: one file per service holding
 * only what the checks read (operations' input shapes; each shape's type, members, `pattern`,
 * `min`, `max`, `enum`), so the cache stays small. global-setup.cjs fetches them before the tests.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { gunzipSync } from "node:zlib";
import { z } from "zod";
import { fetchDebianTree } from "../../local/debian-archive";
import { ROOT } from "./run";

const ref = z.object({ shape: z.string() });
const bounds = { min: z.number().optional(), max: z.number().optional() };

export const ShapeSchema = z.discriminatedUnion("type", [
  z.object({
    type: z.literal("structure"),
    members: z.record(ref),
    required: z.array(z.string()).optional(),
  }),
  z.object({ type: z.literal("list"), member: ref, ...bounds }),
  z.object({ type: z.literal("map"), key: ref, value: ref, ...bounds }),
  z.object({
    type: z.literal("string"),
    pattern: z.string().optional(),
    enum: z.array(z.string()).optional(),
    ...bounds,
  }),
  z.object({ type: z.enum(["integer", "long", "float", "double"]), ...bounds }),
  z.object({ type: z.enum(["boolean", "blob", "timestamp"]), ...bounds }),
]);
export type Shape = z.infer<typeof ShapeSchema>;

export const ServiceModelSchema = z.object({
  metadata: z.object({ apiVersion: z.string(), protocol: z.string() }),
  operations: z.record(z.object({ input: ref.optional() })),
  shapes: z.record(ShapeSchema),
});
export type ServiceModel = z.infer<typeof ServiceModelSchema>;

const ManifestSchema = z.strictObject({
  /** botocore's own version (`botocore.__version__`), e.g. "1.43.117". */
  botocore: z.string(),
  /** Where it came from, e.g. "python3-botocore, Debian sid". */
  debianPackage: z.string(),
  /** Service → the API version kept (botocore's loader, too, takes the newest). */
  services: z.record(z.string()),
});
export type AwsModelsManifest = z.infer<typeof ManifestSchema>;

export const AWS_MODELS_CACHE = path.join(ROOT, ".cache", "aws-api-models");
const MANIFEST = "manifest.json";

function readManifest(dir: string): AwsModelsManifest | undefined {
  const file = path.join(dir, MANIFEST);
  if (!existsSync(file)) return undefined;
  return ManifestSchema.parse(JSON.parse(readFileSync(file, "utf8")));
}

/** botocore ships each model as service-2.json, or gzipped (service-2.json.gz) in newer wheels. */
function readServiceJson(dir: string): unknown {
  const plain = path.join(dir, "service-2.json");
  if (existsSync(plain)) return JSON.parse(readFileSync(plain, "utf8"));
  const gz = `${plain}.gz`;
  if (existsSync(gz)) return JSON.parse(gunzipSync(readFileSync(gz)).toString("utf8"));
  throw new Error(`no service-2.json(.gz) in ${dir}`);
}

function botocoreVersion(pkgDir: string): string {
  const init = readFileSync(path.join(pkgDir, "__init__.py"), "utf8");
  const version = /^__version__ = ['"]([^'"]+)['"]/m.exec(init)?.[1];
  if (version === undefined) throw new Error(`no __version__ in ${pkgDir}/__init__.py`);
  return version;
}

/**
 * Makes sure the models of `services` are in the cache (fetching python3-botocore from Debian sid
 * when one is missing) and returns the manifest.
 */
export function fetchAwsModels(services: readonly string[], cache = AWS_MODELS_CACHE): AwsModelsManifest {
  const kept = readManifest(cache);
  if (kept !== undefined && services.every((s) => s in kept.services)) return kept;
  // Beside the cache, not in it: the cache is replaced whole once the new models are staged.
  const work = `${cache}.debian`;
  const staged = `${cache}.staged`;
  try {
    const unpacked = fetchDebianTree(["python3-botocore"], "sid", work);
    const pkgDir = path.join(unpacked, "usr", "lib", "python3", "dist-packages", "botocore");
    const debianPackage = "python3-botocore, Debian sid";
    const wanted = [...new Set([...services, ...Object.keys(kept?.services ?? {})])].sort();
    rmSync(staged, { recursive: true, force: true });
    mkdirSync(staged, { recursive: true });
    const versions: Record<string, string> = {};
    for (const service of wanted) {
      const serviceDir = path.join(pkgDir, "data", service);
      if (!existsSync(serviceDir)) throw new Error(`botocore ${botocoreVersion(pkgDir)} has no service "${service}"`);
      const apiVersion = readdirSync(serviceDir).sort().at(-1);
      if (apiVersion === undefined) throw new Error(`botocore's ${service} holds no API version`);
      // Parsing drops what the checks never read (documentation, examples): ec2 alone is 4 MB with it.
      const model = ServiceModelSchema.parse(readServiceJson(path.join(serviceDir, apiVersion)));
      writeFileSync(path.join(staged, `${service}.json`), JSON.stringify(model));
      versions[service] = apiVersion;
    }
    const manifest: AwsModelsManifest = { botocore: botocoreVersion(pkgDir), debianPackage, services: versions };
    writeFileSync(path.join(staged, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
    rmSync(cache, { recursive: true, force: true });
    renameSync(staged, cache);
    return manifest;
  } finally {
    rmSync(work, { recursive: true, force: true });
    rmSync(staged, { recursive: true, force: true });
  }
}

export interface AwsModels {
  manifest: AwsModelsManifest;
  service(name: string): ServiceModel;
}

/** The cached models of `services` (fetched first if missing), each parsed once. */
export function loadAwsModels(services: readonly string[], cache = AWS_MODELS_CACHE): AwsModels {
  const manifest = fetchAwsModels(services, cache);
  const parsed = new Map<string, ServiceModel>();
  return {
    manifest,
    service(name) {
      const kept = parsed.get(name);
      if (kept !== undefined) return kept;
      if (!(name in manifest.services)) throw new Error(`the AWS model cache has no service "${name}"`);
      const model = ServiceModelSchema.parse(JSON.parse(readFileSync(path.join(cache, `${name}.json`), "utf8")));
      parsed.set(name, model);
      return model;
    },
  };
}
