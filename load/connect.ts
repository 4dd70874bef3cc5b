/**
 * nats.js's Node transport with its types: its declarations re-export `@nats-io/nats-core/internal`,
 * a subpath this project's module resolution does not follow, so `connect` would be untyped.
 */
import type { ConnectionOptions, NatsConnection } from "@nats-io/nats-core";
import { connect } from "@nats-io/transport-node";

export function connectNode(options: ConnectionOptions): Promise<NatsConnection> {
  return connect(options);
}
