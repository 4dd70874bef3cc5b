/**
 * Runs the Pulumi program under `pulumi.runtime.setMocks`, recording every resource it
 * registers. Pulumi's mocks hand `newResource` no parent, so the mock monitor's
 * `registerResource` is wrapped to read it from the request itself.
 */
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import * as rpc from "@pulumi/pulumi/runtime/rpc";
import type { StackOutputs } from "../stacks/program";

/** The resource options that decide what an update may do to a resource. */
export interface PlannedOptions {
  protect: boolean;
  retainOnDelete: boolean;
  /** Properties Pulumi is told to leave alone on updates. */
  ignoreChanges: string[];
  /** Logical names of the resources named in `dependsOn` that no input already depends on. */
  dependsOn: string[];
  /** The old resource is deleted before its replacement is created (else created first). */
  deleteBeforeReplace: boolean;
  /** Properties whose change replaces the resource, whatever its provider says. */
  replaceOnChanges: string[];
}

export interface PlannedResource {
  /** The Pulumi type token, e.g. `aws:ec2/instance:Instance`. */
  type: string;
  name: string;
  /** The resource's URN in this stack (what `pulumi up` matches old and new resources by). */
  urn: string;
  /** The parent's logical name; absent for a resource at the top of the stack. */
  parent?: string;
  /** URNs the resource was known by before (its `aliases`): an update, not a replacement. */
  aliases: string[];
  /** A provider's resource (false: a component, which only groups its children). */
  custom: boolean;
  /** The URN of the explicit provider resource that manages it; absent: the default provider. */
  provider?: string;
  /** Only for a resource the program reads by its id (`get`, a stack reference): read, never created. */
  readId?: string;
  /**
   * The URNs of every resource it depends on: those its inputs were computed from and those named
   * in `dependsOn` (the order an update must respect).
   */
  dependencies: string[];
  options: PlannedOptions;
  inputs: Record<string, unknown>;
}

interface AliasSpec {
  getName(): string;
  getType(): string;
  getParenturn(): string;
  getNoparent(): boolean;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  hasProtect(): boolean;
  getProtect(): boolean;
  hasRetainondelete(): boolean;
  getRetainondelete(): boolean;
  getIgnorechangesList(): string[];
  getCustom(): boolean;
  getProvider(): string;
  getDeletebeforereplace(): boolean;
  getReplaceonchangesList(): string[];
  getDependenciesList(): string[];
  getPropertydependenciesMap(): { forEach(f: (deps: { getUrnsList(): string[] }) => void): void };
  getAliasesList(): { getUrn(): string; getSpec(): AliasSpec | undefined }[];
}

/** What the mock monitor records of a registration, keyed by type and name. */
interface Registration {
  urn: string;
  parent?: string;
  aliases: string[];
  custom: boolean;
  provider?: string;
  dependencies: string[];
  options: PlannedOptions;
}

interface WrappableMonitor {
  registerResource(req: RegisterRequest, ...rest: unknown[]): unknown;
}

function isWrappable(monitor: unknown): monitor is WrappableMonitor {
  return (
    typeof monitor === "object" && monitor !== null && typeof Reflect.get(monitor, "registerResource") === "function"
  );
}

/** The expiry the mocks give every certificate (the TLS provider's `validityEndTime`). */
export const MOCK_VALIDITY_END = "2028-03-20T00:00:00Z";

/**
 * Outputs only the provider knows at deploy time, given a recognisable placeholder so what is
 * rendered from them (user data, URLs) stays readable in the plan.
 */
function deployTimeState(args: { type: string; name: string }): Record<string, unknown> {
  if (args.type === "random:index/randomPassword:RandomPassword") return { result: `${args.name}-generated-at-deploy` };
  // 32 bytes that stand for the random ones (an NKey seed is made of them), the same every run.
  if (args.type === "random:index/randomBytes:RandomBytes")
    return { base64: createHash("sha256").update(args.name).digest("base64") };
  if (args.type === "tls:index/privateKey:PrivateKey")
    return {
      privateKeyPem: `-----BEGIN PRIVATE KEY-----\n${args.name}-generated-at-deploy\n-----END PRIVATE KEY-----\n`,
    };
  if (
    args.type === "tls:index/selfSignedCert:SelfSignedCert" ||
    args.type === "tls:index/locallySignedCert:LocallySignedCert"
  )
    return {
      certPem: `-----BEGIN CERTIFICATE-----\n${args.name}-signed-at-deploy\n-----END CERTIFICATE-----\n`,
      // When the provider says it expires: a fixed time, so plans are the same every run.
      validityEndTime: MOCK_VALIDITY_END,
    };
  if (args.type === "tls:index/certRequest:CertRequest") return { certRequestPem: `${args.name}-request` };
  if (args.type === "aws:ec2/instance:Instance") return { privateIp: `${args.name}-private-ip` };
  if (args.type === "aws:lb/loadBalancer:LoadBalancer") return { dnsName: `${args.name}-nlb-dns-name` };
  if (args.type === "aws:route53/zone:Zone") return { zoneId: `${args.name}-zone-id` };
  return {};
}

/** Secret values reach the mocks wrapped in Pulumi's signature object; the plan shows the value. */
/** Assets and archives with their content read (their fields are promises, which JSON drops). */
async function withAssets(value: unknown): Promise<unknown> {
  if (value instanceof pulumi.asset.AssetArchive) {
    const entries = Object.entries(await value.assets);
    return {
      __pulumiArchive: true,
      assets: Object.fromEntries(await Promise.all(entries.map(async ([k, a]) => [k, await withAssets(a)] as const))),
    };
  }
  if (value instanceof pulumi.asset.StringAsset) return { __pulumiAsset: true, text: await value.text };
  if (value instanceof pulumi.asset.FileAsset) return { __pulumiAsset: true, path: await value.path };
  if (Array.isArray(value)) return Promise.all(value.map(withAssets));
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>);
  return Object.fromEntries(await Promise.all(entries.map(async ([k, v]) => [k, await withAssets(v)] as const)));
}

function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  if (record[rpc.specialSigKey] === rpc.specialSecretSig) return unwrapSecrets(record.value);
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
}

/** A URN's last segment is the resource's logical name. */
const nameOfUrn = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);

/** The URN the engine gives a resource: the parent's type chain, then its own type and name. */
function urnOf(parentUrn: string, type: string, name: string): string {
  const chain = parentUrn === "" ? type : `${parentUrn.split("::")[2] ?? ""}$${type}`;
  return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${chain}::${name}`;
}

/** The URN Pulumi's mock monitor answers a registration with (what later requests name it by). */
function monitorUrnOf(req: RegisterRequest): string {
  const parent = req.getParent();
  const type =
    parent === "" ? req.getType() : `${(parent.split("::")[2] ?? "").split("$").pop() ?? ""}$${req.getType()}`;
  return `urn:pulumi:${pulumi.getStack()}::${pulumi.getProject()}::${type}::${req.getName()}`;
}

/** `urns` maps the mock monitor's URNs (which requests carry) to the plan's. */
function registration(req: RegisterRequest, urns: ReadonlyMap<string, string>): Registration {
  const parent = req.getParent();
  const type = req.getType();
  const implied = new Set<string>();
  req.getPropertydependenciesMap().forEach((deps) => {
    for (const urn of deps.getUrnsList()) implied.add(urn);
  });
  const aliases = req.getAliasesList().map((alias) => {
    const spec = alias.getSpec();
    if (alias.getUrn() !== "" || spec === undefined) return alias.getUrn();
    const aliasParent = spec.getNoparent() ? "" : spec.getParenturn() || parent;
    return urnOf(aliasParent, spec.getType() || type, spec.getName() || req.getName());
  });
  const planUrn = (urn: string) => urns.get(urn) ?? urn;
  // A provider reference is `URN::ID`; none for the default provider.
  const provider = req.getProvider().split("::").slice(0, -1).join("::");
  return {
    urn: urnOf(parent, type, req.getName()),
    ...(parent === "" ? {} : { parent: nameOfUrn(parent) }),
    aliases,
    custom: req.getCustom(),
    ...(provider === "" ? {} : { provider: planUrn(provider) }),
    dependencies: [...new Set([...req.getDependenciesList(), ...implied])].map(planUrn),
    options: {
      protect: req.hasProtect() && req.getProtect(),
      retainOnDelete: req.hasRetainondelete() && req.getRetainondelete(),
      ignoreChanges: req.getIgnorechangesList(),
      dependsOn: req
        .getDependenciesList()
        .filter((urn) => !implied.has(urn))
        .map(nameOfUrn),
      deleteBeforeReplace: req.getDeletebeforereplace(),
      replaceOnChanges: req.getReplaceonchangesList(),
    },
  };
}

/** What a read (`get`, a stack reference) is recorded with: it has no options of its own. */
function unregistered(type: string, name: string): Registration {
  return {
    urn: urnOf("", type, name),
    aliases: [],
    custom: true,
    dependencies: [],
    options: {
      protect: false,
      retainOnDelete: false,
      ignoreChanges: [],
      dependsOn: [],
      deleteBeforeReplace: false,
      replaceOnChanges: [],
    },
  };
}

function resolved<T>(value: T): Promise<pulumi.Unwrap<T>> {
  return new Promise((resolve) => {
    pulumi.output(value).apply((v) => {
      resolve(v);
      return v;
    });
  });
}

export interface MockOptions<T> {
  /** The program to run. @default the stack's (tests hand in their own to check the recording) */
  run?: (config: Record<string, string>) => T;
  /**
   * The stack's outputs from its last update, which a StackReference to the stack itself reads
   * (an earlier `plan --json`'s outputs). @default none: the stack has never been deployed
   */
  previousOutputs?: Record<string, unknown>;
  /**
   * What a registered resource's id and outputs are, in place of the placeholders: the twins answer
   * with what their providers make (real keys and certificates, allocated addresses), given the
   * resource as the plan records it. @default the inputs echoed, with placeholders for what only a
   * provider knows at deploy time
   */
  answer?: (resource: PlannedResource) => Promise<{ id: string; state: Record<string, unknown> }>;
  /**
   * Keep the content of assets and archives in the inputs the answer sees (a Lambda function's code:
   * `{ __pulumiArchive, assets: { "index.js": { __pulumiAsset, text } } }`), as the engine uploads
   * them, for a twin that runs the code. `plan --json` leaves them out (`assets: {}`): its plans
   * stay small and byte-for-byte what they were. @default false
   */
  keepAssets?: boolean;
  /**
   * The reconcile job's tier transition report (its JSON text), as the stack reads it back: the
   * SSM parameter's value on AWS, the ConfigMap's `report` key on Kubernetes. @default none written
   */
  transitionReport?: string;
}

/** What the program reads the job's report with (stacks/transition-report.ts). */
const SSM_GET_PARAMETER = "aws:ssm/getParameter:getParameter";
const CONFIG_MAP = "kubernetes:core/v1:ConfigMap";

/** Pulumi's organization as a self-managed backend names it (the only one it accepts). */
const ORGANIZATION = "organization";

/** A registration as the plan records it. */
function plannedRecord(args: pulumi.runtime.MockResourceArgs, registered: Registration): PlannedResource {
  return {
    type: args.type,
    name: args.name,
    urn: registered.urn,
    ...(registered.parent === undefined ? {} : { parent: registered.parent }),
    aliases: registered.aliases,
    custom: registered.custom,
    ...(registered.provider === undefined ? {} : { provider: registered.provider }),
    ...(args.id === undefined || args.id === "" ? {} : { readId: args.id }),
    dependencies: registered.dependencies,
    options: registered.options,
    inputs: unwrapSecrets(args.inputs) as Record<string, unknown>,
  };
}

export async function runProgramWithMocks<T = StackOutputs>(
  project: string,
  stack: string,
  config: Record<string, string>,
  options: MockOptions<T> = {},
): Promise<{ outputs: pulumi.Unwrap<T>; resources: PlannedResource[] }> {
  const resources: PlannedResource[] = [];
  const registrations = new Map<string, Registration>();
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const registered = registrations.get(`${args.type}::${args.name}`) ?? unregistered(args.type, args.name);
        const record = plannedRecord(args, registered);
        resources.push(record);
        if (args.type === "pulumi:pulumi:StackReference")
          return {
            id: args.id ?? args.name,
            state: {
              name: (args.inputs as Record<string, unknown>).name,
              outputs: options.previousOutputs ?? {},
              secretOutputNames: [],
            },
          };
        // A read of an object that exists (`get`): the report ConfigMap holds what the job wrote.
        if (args.id !== undefined && args.id !== "" && args.type === CONFIG_MAP)
          return {
            id: args.id,
            state: {
              data: options.transitionReport === undefined ? {} : { report: options.transitionReport },
            },
          };
        if (options.answer !== undefined && args.type !== "pulumi:pulumi:StackReference") {
          const answer = options.answer;
          if (options.keepAssets !== true) return answer(record);
          return withAssets(args.inputs).then((inputs) => {
            record.inputs = unwrapSecrets(inputs) as Record<string, unknown>;
            return answer(record);
          });
        }
        return {
          id: `${args.name}-id`,
          // A name left to Pulumi (autonaming adds a random suffix at deploy) reads as the logical name.
          state: { name: args.name, ...(args.inputs as Record<string, unknown>), ...deployTimeState(args) },
        };
      },
      // A lookup (e.g. the newest AMI) is answered at deploy time; the plan says so instead of guessing.
      call: (args) => {
        // No report written yet: a parameter without a value (AWS answers ParameterNotFound, which
        // the program reads as none; Pulumi's mocks cannot carry an error's message).
        if (args.token === SSM_GET_PARAMETER)
          return {
            ...(args.inputs as Record<string, unknown>),
            ...(options.transitionReport === undefined ? {} : { value: options.transitionReport }),
          };
        return { ...(args.inputs as Record<string, unknown>), id: `(${args.token}, looked up at deploy)` };
      },
    },
    project,
    stack,
    false,
    ORGANIZATION,
  );
  const monitor: unknown = pulumi.runtime.getMonitor();
  if (!isWrappable(monitor)) throw new Error("Pulumi's mock monitor has no registerResource to wrap");
  const register = monitor.registerResource.bind(monitor);
  const planUrns = new Map<string, string>();
  monitor.registerResource = (req, ...rest) => {
    const recorded = registration(req, planUrns);
    planUrns.set(monitorUrnOf(req), recorded.urn);
    registrations.set(`${req.getType()}::${req.getName()}`, recorded);
    return register(req, ...rest);
  };

  // Loaded only now, so the program sees the mocks and this config.
  const program = options.run ?? (require("../stacks/program") as typeof import("../stacks/program")).program;
  // The program may be async (it reads the last deployment first): its refusal must reach the caller.
  let outputs: pulumi.Unwrap<T>;
  try {
    outputs = await resolved(await Promise.resolve(program(pulumi.runtime.allConfig()) as T));
  } finally {
    // Registrations are asynchronous: wait until every one has reached these mocks, a refused
    // program's too (left in flight, they reached the next run's mocks in the same process and
    // failed it: "unknown resource urn:…").
    await pulumi.runtime.disconnect();
  }
  return { outputs, resources };
}
