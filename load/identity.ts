/**
 * Which credentials each kind of simulated client connects with, in one place. Today every
 * client of a topology is the app user (`USERS.app` with the state's `secrets.app`); when peels
 * and masters get identities of their own, these functions are what changes, and every
 * simulated peel and master follows.
 */
import type { ConnectionOptions } from "@nats-io/nats-core";
import type { LocalState } from "../local/state";
import { USERS } from "../topology/auth";

/** The part of nats.js's connection options that says who connects. */
export type ClientIdentity = Pick<ConnectionOptions, "user" | "pass" | "token" | "authenticator" | "tls">;

/** What a simulated peel connects with. */
export function peelIdentity(state: LocalState): ClientIdentity {
  return { user: USERS.app, pass: state.secrets.app };
}

/** What the simulated master (job dispatch, heartbeat listener) connects with. */
export function masterIdentity(state: LocalState): ClientIdentity {
  return { user: USERS.app, pass: state.secrets.app };
}

/** What the load tools themselves use to look at streams and read writes back. */
export function operatorIdentity(state: LocalState): ClientIdentity {
  return { user: USERS.app, pass: state.secrets.app };
}
