/**
 * Which identity each kind of simulated client connects with, in one place: each peel as its
 * own (issued at its start, as enrollment issues a real one), the simulated master as the
 * master's, the load tools' own looks (streams, reading writes back, a filling stream) as the
 * master's too, since they do what a master may. Each over TLS, verifying the servers by the
 * state directory's CA.
 */
import type { ConnectionOptions } from "@nats-io/nats-core";
import { clientAuthOptions } from "../jetstream/connect";
import { clientAuth, simulatedPeelAuth } from "../local/identities";
import type { LocalState } from "../local/state";

/** The part of nats.js's connection options that says who connects. */
export type ClientIdentity = Pick<
  ConnectionOptions,
  "user" | "pass" | "token" | "authenticator" | "tls" | "inboxPrefix"
>;

/** What simulated peel `id` connects with: an identity of its own, issued now. */
export function peelIdentity(state: LocalState, id: string): ClientIdentity {
  return clientAuthOptions(simulatedPeelAuth(state, id, Math.floor(Date.now() / 1000)));
}

/** What the simulated master (job dispatch, heartbeat listener) connects with. */
export function masterIdentity(state: LocalState): ClientIdentity {
  return clientAuthOptions(clientAuth(state, "master"));
}

/** What the load tools themselves use to look at streams and read writes back. */
export function operatorIdentity(state: LocalState): ClientIdentity {
  return clientAuthOptions(clientAuth(state, "master"));
}
