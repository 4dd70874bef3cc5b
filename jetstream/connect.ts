/** A client connection for provisioning work (not a peel's): fails fast, never retries for ever. */
import { connect } from "@nats-io/transport-node";
import { nkeyAuthenticator, type ConnectionOptions, type NatsConnection } from "@nats-io/nats-core";
import type { ClientAuth } from "../topology/auth";

/** nats.js options for an identity: its NKey, and the CA the servers' certificates are verified by. */
export function clientAuthOptions(auth: ClientAuth): Pick<ConnectionOptions, "authenticator" | "tls"> {
  return { authenticator: nkeyAuthenticator(new TextEncoder().encode(auth.seed)), tls: { ca: auth.ca } };
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
