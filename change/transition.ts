/**
 * A tier transition as data: from what runs to what is wanted, the ordered steps that get there
 * without losing an acknowledged write, each with the servers it touches, what it risks and what
 * it waits for. Pure; the local target carries the steps out, the cloud targets apply them as
 * the phases of successive updates, the preview prints them. A change no safe order of steps
 * reaches is refused (ChangeRefused), naming why. This file holds the data; plan-transition.ts
 * plans it (steps from transition-steps.ts, checked against transition-check.ts's invariants).
 */
import type { TierId } from "../sizing/types";
import { z } from "zod";
import type { Refusal, Risk } from "./change";
import type { Deployment } from "./deployment";
import type { Topology } from "../topology/types";

/**
 * The phases a cloud target applies as successive updates, each safe on its own: `expand` only
 * adds (servers, listeners, regions), `move` moves data (copies, replica moves, cut-overs) and
 * `contract` only removes what no longer holds the only current copy of anything.
 */
export const PHASES = ["expand", "move", "contract"] as const;
export const PhaseSchema = z.enum(PHASES);
export type Phase = z.infer<typeof PhaseSchema>;

export const STEP_KINDS = [
  /** SIGHUP: the server takes the new config without stopping. */
  "reload",
  /** One server stops (lame duck), starts with its new config, and is waited for until caught up. */
  "restart",
  /** New members of a cluster that keeps running, or new servers of a leaf site. */
  "add-servers",
  /** The members of a cluster that replaces a single server, all but the one that keeps its name. */
  "add-cluster",
  "add-leaf-site",
  /** A supercluster region: its own cluster, domain and meta group, linked to the hub region. */
  "add-region",
  /** A new region's KV buckets, at its planned replicas. */
  "create-buckets",
  /** Writes stopped on the old stores, every stream copied into the new ones and verified. */
  "copy-data",
  /** The server that keeps its name changes over: the old one stops, the new one starts in its place. */
  "cut-over",
  /** Every stream raised (or lowered) to the replicas the wanted tier plans. */
  "set-replicas",
  /**
   * Every stream's limits (max_bytes: its share of the store) set to the wanted tier's: before the
   * servers' stores shrink, after they grow (a server refuses a stream a limit its store cannot hold).
   */
  "set-limits",
  /** A member that leaves: stopped, its peer removed, its streams' replicas placed on the rest. */
  "move-replicas",
  /** Servers that hold no JetStream data (leaf servers), or a retired cluster's, stopped for good. */
  "remove-servers",
  /** A data volume or directory that no longer holds the only current copy of anything. */
  "delete-data",
] as const;
export const StepKindSchema = z.enum(STEP_KINDS);
export type StepKind = z.infer<typeof StepKindSchema>;

export interface TransitionStep {
  /** `01-add-cluster`, …: its place and kind; stable for the same two topologies. */
  id: string;
  phase: Phase;
  kind: StepKind;
  /** The servers it acts on, by name. */
  servers: string[];
  /** What must be true before the next step starts. */
  waitsFor: string;
  risks: Risk[];
  description: string;
  /** The region it acts in (the wanted topology's name for it, or the current one's when removed). */
  region: string;
  /** The cluster it acts on, by name (clusters keep their names across tiers). */
  cluster?: string;
  site?: string;
  /** copy-data: the servers whose stores the data is copied out of. */
  source?: string[];
}

export interface TierPoint {
  tier: TierId;
  peels: number;
}

export interface Transition {
  from: TierPoint;
  to: TierPoint;
  /** The phases that have steps, in order. */
  phases: Phase[];
  steps: TransitionStep[];
  /** Why no safe order of steps exists; the steps are empty then. */
  refused: Refusal[];
}

export interface TransitionInput {
  /** What runs, and what it was built from. */
  from: Topology;
  /** What is wanted (built with the same addressing for the servers both have). */
  to: Topology;
  /** Per server, how each target describes what runs it, where its data lives, its config keys. */
  deployed: Deployment;
  wanted: Deployment;
}
