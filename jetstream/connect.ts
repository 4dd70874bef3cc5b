/** A client connection for provisioning work (not a peel's): fails fast, never retries for ever. */
import { connect } from "@nats-io/transport-node";
import type { Authenticator, ConnectionOptions, NatsConnection } from "@nats-io/nats-core";
import type { ClientAuth } from "../topology/auth";
import { credsParts } from "../topology/jwt";
import { keyPair } from "../topology/nkeys";

/**
 * Answers the server's challenge with the credentials' JWT and the nonce signed by their key.
 * nats.js's own `credsAuthenticator` signs it with tweetnacl, 20-50 ms a connection on this
 * machine, which dominated the connect of a 10,000-peel fleet; Node's Ed25519 signs it in ~0.1 ms
 * (topology/nkeys.ts). Same JWT, same signature.
 *
 * It names no `nkey`, as nats.go does not for a JWT (the server takes the key from the JWT):
 * nats-server 2.9.10, at every reload of its authorization (a revoked peel), closes each client
 * whose CONNECT named an nkey it has no configured nkey user for (reload.go,
 * `clientHasMovedToDifferentAccount`), so every client nats.js's authenticator connected, not
 * just the revoked one, was cut off and its requests in flight lost.
 */
export function credsAuthenticator(creds: string): Authenticator {
  const { jwt, seed } = credsParts(creds);
  const key = keyPair(seed);
  return (nonce?: string) => ({
    jwt,
    sig: nonce === undefined ? "" : Buffer.from(key.sign(new TextEncoder().encode(nonce))).toString("base64url"),
  });
}

/**
 * nats.js options for an identity: its credentials, the CA the servers' certificates are
 * verified by, and its inbox prefix (its permissions allow no other inbox).
 */
export function clientAuthOptions(auth: ClientAuth): Pick<ConnectionOptions, "authenticator" | "tls" | "inboxPrefix"> {
  return {
    authenticator: credsAuthenticator(auth.creds),
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
