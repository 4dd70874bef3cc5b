/**
 * Runs the Pulumi program under `pulumi.runtime.setMocks`, recording every resource it
 * registers. Pulumi's mocks hand `newResource` no parent, so the mock monitor's
 * `registerResource` is wrapped to read it from the request itself.
 */
import * as pulumi from "@pulumi/pulumi";
import * as rpc from "@pulumi/pulumi/runtime/rpc";
import type { StackOutputs } from "../stacks/program";

export interface PlannedResource {
  /** The Pulumi type token, e.g. `aws:ec2/instance:Instance`. */
  type: string;
  name: string;
  /** The parent's logical name; absent for a resource at the top of the stack. */
  parent?: string;
  /** Properties Pulumi is told to leave alone on updates (`ignoreChanges`), when any. */
  ignoreChanges?: string[];
  inputs: Record<string, unknown>;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getIgnorechangesList(): string[];
}

interface WrappableMonitor {
  registerResource(req: RegisterRequest, ...rest: unknown[]): unknown;
}

function isWrappable(monitor: unknown): monitor is WrappableMonitor {
  return (
    typeof monitor === "object" && monitor !== null && typeof Reflect.get(monitor, "registerResource") === "function"
  );
}

/**
 * Outputs only the provider knows at deploy time, given a recognisable placeholder so what is
 * rendered from them (user data, URLs) stays readable in the plan.
 */
function deployTimeState(args: { type: string; name: string }): Record<string, unknown> {
  if (args.type === "random:index/randomPassword:RandomPassword") return { result: `${args.name}-generated-at-deploy` };
  if (args.type === "aws:ec2/instance:Instance") return { privateIp: `${args.name}-private-ip` };
  if (args.type === "aws:lb/loadBalancer:LoadBalancer") return { dnsName: `${args.name}-nlb-dns-name` };
  if (args.type === "aws:route53/zone:Zone") return { zoneId: `${args.name}-zone-id` };
  return {};
}

/** Secret values reach the mocks wrapped in Pulumi's signature object; the plan shows the value. */
function unwrapSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  if (record[rpc.specialSigKey] === rpc.specialSecretSig) return unwrapSecrets(record.value);
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, unwrapSecrets(v)]));
}

/** A URN's last segment is the resource's logical name. */
const nameOfUrn = (urn: string): string => urn.slice(urn.lastIndexOf("::") + 2);

function resolved<T>(value: T): Promise<pulumi.Unwrap<T>> {
  return new Promise((resolve) => {
    pulumi.output(value).apply((v) => {
      resolve(v);
      return v;
    });
  });
}

/** `run` defaults to the stack's program; tests hand in their own to check the recording. */
export async function runProgramWithMocks<T = StackOutputs>(
  project: string,
  stack: string,
  config: Record<string, string>,
  run?: (config: Record<string, string>) => T,
): Promise<{ outputs: pulumi.Unwrap<T>; resources: PlannedResource[] }> {
  const resources: PlannedResource[] = [];
  const parents = new Map<string, string>();
  const ignored = new Map<string, string[]>();
  pulumi.runtime.setAllConfig(config);
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => {
        const parent = parents.get(`${args.type}::${args.name}`);
        const ignoreChanges = ignored.get(`${args.type}::${args.name}`);
        resources.push({
          type: args.type,
          name: args.name,
          ...(parent === undefined ? {} : { parent }),
          ...(ignoreChanges === undefined ? {} : { ignoreChanges }),
          inputs: unwrapSecrets(args.inputs) as Record<string, unknown>,
        });
        return {
          id: `${args.name}-id`,
          state: { ...(args.inputs as Record<string, unknown>), ...deployTimeState(args) },
        };
      },
      // A lookup (e.g. the newest AMI) is answered at deploy time; the plan says so instead of guessing.
      call: (args) => ({ ...(args.inputs as Record<string, unknown>), id: `(${args.token}, looked up at deploy)` }),
    },
    project,
    stack,
    false,
  );
  const monitor: unknown = pulumi.runtime.getMonitor();
  if (!isWrappable(monitor)) throw new Error("Pulumi's mock monitor has no registerResource to wrap");
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, ...rest) => {
    const parent = req.getParent();
    if (parent !== "") parents.set(`${req.getType()}::${req.getName()}`, nameOfUrn(parent));
    const ignore = req.getIgnorechangesList();
    if (ignore.length > 0) ignored.set(`${req.getType()}::${req.getName()}`, ignore);
    return register(req, ...rest);
  };

  // Loaded only now, so the program sees the mocks and this config.
  const program = run ?? (require("../stacks/program") as typeof import("../stacks/program")).program;
  const outputs = await resolved(program(pulumi.runtime.allConfig()) as T);
  // Registrations are asynchronous: wait until every one has reached the mocks.
  await pulumi.runtime.disconnect();
  return { outputs, resources };
}
