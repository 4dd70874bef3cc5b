/**
 * What a provider twin (AWS, Kubernetes) plugs into the daemon: the commands the CLI forwards,
 * and where an `exec` client joins the network. The daemon owns the Twin (twin.ts) and hands it
 * to the factory once; the provider keeps whatever it needs (its stack state, its API twins) and
 * answers each command, printing through `io` as `pulumi up` prints.
 */
import type { PlannedResource } from "../../plan-json/resource";
import type { Twin } from "./twin";

export interface TargetIo {
  out(text: string): void;
  err(text: string): void;
}

export interface UpRequest {
  /** The stack's name (stacks/Pulumi.<stack>.yaml). */
  stack: string;
  /** Config overrides, `key=value`, as `plan --set` takes them. */
  set: string[];
}

export interface TwinTarget {
  /** One `pulumi up`; the exit status `pulumi up` would have. */
  up(request: UpRequest, io: TargetIo): Promise<number>;
  /** The reconcile job the last `up` deployed, run once. */
  runJob(io: TargetIo): Promise<number>;
  /** `status --json`'s value. */
  status(): Promise<unknown>;
  /** `status` without --json. @default the JSON, indented */
  statusText?(): Promise<string>;
  /**
   * The subnet (CIDR) an `exec` client of `site` joins: a site's peel subnet (AWS) or a pod
   * network (Kubernetes). `site` undefined: the target's default (the hub's peels). An unknown
   * site is an Error naming the ones there are.
   */
  execSubnet(site: string | undefined): Promise<string>;
  /** Before the twin goes down. @default nothing */
  close?(): Promise<void>;
}

type Json = Record<string, unknown>;

/** One run of the stack's program, as `pulumi up` runs it before its engine acts. */
export interface PlanRequest {
  stack: string;
  set: string[];
  /** What each resource reads back once registered: the twin's plan-time answer (twin/engine/plan-time.ts). */
  answer: (resource: PlannedResource) => Promise<{ id: string; state: Json }>;
  /** The outputs of the last `up` that finished (the program reads its deployment record from them). */
  previousOutputs?: Json;
  /** The reconcile job's transition report, as the program reads it back. @default none written */
  transitionReport?: string;
}

/**
 * Runs the stack's program. The twins never load the program themselves (they read only what a
 * plan declares): the command line that starts the daemon hands this in (scripts/twin-plan.ts).
 */
export type StackPlanner = (request: PlanRequest) => Promise<{ outputs: Json; resources: PlannedResource[] }>;

/** What the daemon hands a target beside the twin. */
export interface TargetServices {
  plan: StackPlanner;
}

/** Makes the target of a running twin (a module's `createTarget`). */
export type TargetFactory = (twin: Twin, services: TargetServices) => TwinTarget | Promise<TwinTarget>;
