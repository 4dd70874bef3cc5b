/**
 * When a stream is whole: a leader and every replica current. One reading for the transition's
 * waits (local/transition-health.ts) and a raft group made again (regroup.ts).
 */
import type { StreamInfo } from "@nats-io/jetstream";

/** Why a stream is not whole (a leader and every replica current, none on `without`). */
export function streamProblem(info: StreamInfo, without?: string): string | undefined {
  const replicas = info.cluster?.replicas ?? [];
  const peers = [info.cluster?.leader ?? "", ...replicas.map((r) => r.name)];
  if (without !== undefined && peers.includes(without)) return `${info.config.name} still has a replica on ${without}`;
  if (info.config.num_replicas <= 1) return undefined;
  if ((info.cluster?.leader ?? "") === "") return `${info.config.name} has no leader`;
  if (replicas.length !== info.config.num_replicas - 1 || !replicas.every((r) => r.current && !r.offline))
    return `${info.config.name} has ${String(replicas.filter((r) => r.current && !r.offline).length + 1)} of ${String(info.config.num_replicas)} replicas current`;
  return undefined;
}

/**
 * Whether `info` is whole at exactly `replicas`. At one replica, also that the followers it had
 * are gone: nats-server lists them until the group they formed is removed.
 */
export function whole(info: StreamInfo, replicas: number): boolean {
  if (info.config.num_replicas !== replicas || streamProblem(info) !== undefined) return false;
  return replicas > 1 || (info.cluster?.replicas ?? []).length === 0;
}
