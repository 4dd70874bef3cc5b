/** A client connection for provisioning work (not a peel's): fails fast, never retries for ever. */
import { connect } from "@nats-io/transport-node";
import type { NatsConnection } from "@nats-io/nats-core";

export function connectAdmin(servers: string[], user: string, pass: string): Promise<NatsConnection> {
  return connect({
    servers,
    user,
    pass,
    name: "zester-infra",
    maxReconnectAttempts: 10,
    reconnectTimeWait: 500,
    timeout: 5_000,
  });
}
