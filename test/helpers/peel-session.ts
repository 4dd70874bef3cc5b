/**
 * Connections to a booted local topology as the master and as peels, each peel with its own
 * credentials (issued the way `creds --peel ID` issues them), its inbox prefix, and its domain
 * when it connects behind a leaf server. Closes everything it opened.
 */
import type { JetStreamOptions } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/nats-core";
import { clientAuthOptions, connectAdmin } from "../../jetstream/connect";
import { clientAuth, ensurePeelCreds, peelAuth } from "../../local/identities";
import { readState, writeState } from "../../local/state";
import { connectNode } from "../../load/connect";
import { inboxPrefix } from "../../topology/auth";
import type { boot } from "./local";

type Booted = Awaited<ReturnType<typeof boot>>;

export interface PeelConnection {
  nc: NatsConnection;
  /** The JetStream domain it reaches JetStream by (behind a leaf server), if any. */
  domain?: string;
  /** Fresh options for nats.js's `jetstream()` (which rewrites the object it is given). */
  js(): JetStreamOptions;
  /** A subject in its own inbox. */
  inbox(suffix: string): string;
  /** Whether a subject is its own: its inbox, its job subject. */
  owns(subject: string): boolean;
}

export interface PeelSession {
  master(): Promise<NatsConnection>;
  /** A connection holding `id`'s credentials (issued at the first ask), to a core or a leaf server. */
  peel(id: string, where: "core" | "leaf", options?: { reconnect?: boolean }): Promise<PeelConnection>;
  close(): Promise<void>;
}

export function peelSession(run: Booted): PeelSession {
  const conns: NatsConnection[] = [];
  const core = run.state.servers.filter((s) => s.role === "core").map((s) => s.clientUrl);
  const leaf = run.state.servers.filter((s) => s.role === "leaf").map((s) => s.clientUrl);
  const domain = run.topology.servers.find((s) => s.role === "core")?.domain;
  return {
    master: async () => {
      const nc = await connectAdmin(core, clientAuth(run.state, "master"));
      conns.push(nc);
      return nc;
    },
    peel: async (id, where, options = {}) => {
      const state = readState(run.stateDir) ?? run.state;
      if (ensurePeelCreds(run.stateDir, state, id).issued) writeState(run.stateDir, state);
      const nc = await connectNode({
        servers: where === "core" ? core : leaf,
        ...clientAuthOptions(peelAuth(run.stateDir, state, id)),
        ...(options.reconnect === true ? { reconnectTimeWait: 200 } : { maxReconnectAttempts: 0 }),
      });
      conns.push(nc);
      const prefix = inboxPrefix(id);
      const behindLeaf = where === "leaf" && domain !== undefined;
      return {
        nc,
        ...(behindLeaf ? { domain } : {}),
        js: () => (behindLeaf ? { domain } : {}),
        inbox: (suffix) => `${prefix}.${suffix}`,
        owns: (subject) => subject.startsWith(`${prefix}.`) || subject === `zester.peel.${id}.job`,
      };
    },
    close: async () => {
      await Promise.all(conns.map((c) => c.close().catch(() => undefined)));
    },
  };
}
