/** A client connection for provisioning work (not a peel's): fails fast, never retries for ever. */
import { connect } from "@nats-io/transport-node";
import { credsAuthenticator, type ConnectionOptions, type NatsConnection } from "@nats-io/nats-core";
import type { ClientAuth } from "../topology/auth";

/**
 * nats.js options for an identity: its credentials, the CA the servers' certificates are
 * verified by, and its inbox prefix (its permissions allow no other inbox).
 */
export function clientAuthOptions(auth: ClientAuth): Pick<ConnectionOptions, "authenticator" | "tls" | "inboxPrefix"> {
  return {
    authenticator: credsAuthenticator(new TextEncoder().encode(auth.creds)),
    tls: { ca: auth.ca },
    inboxPrefix: auth.inboxPrefix,
  };
}

export function connectAdmin(servers: string[], auth: ClientAuth): Promise<NatsConnection> {
  return connect({
    servers,
    ...clientAuthOptions(auth),
    name: "zester-infra",
    maxReconnectAttempts: 10,
    reconnectTimeWait: 500,
    timeout: 5_000,
  });
}
