/** Zester `ClientConfig` for masters and peels (guide §6). */
import { CLIENT, THRESHOLDS } from "./guide";
import {
  CLIENT_ACK_TIMEOUT_SECONDS,
  CLIENT_PUBLISH_ATTEMPTS,
  CLIENT_RECONNECT_JITTER_SECONDS,
  LARGE_RECONNECT_BUF_BYTES,
  SINGLE_TIER_RECONNECT,
} from "./policy";
import { applyOverrides } from "./server";
import type { Overrides } from "./spec";
import type { ClientSettings, ClientTuning, Provenance } from "./types";

/** What every client gets beyond the guide's §6 (policy.ts says why). */
const BEYOND_GUIDE = {
  reconnectJitterSeconds: CLIENT_RECONNECT_JITTER_SECONDS,
  ackTimeoutSeconds: CLIENT_ACK_TIMEOUT_SECONDS,
  publishAttempts: CLIENT_PUBLISH_ATTEMPTS,
} as const;

export function clientTuning(
  peels: number,
  overrides: Overrides,
  applied: string[],
  singleServer = false,
): ClientTuning {
  const provenance: Record<string, Provenance> = {};
  for (const key of Object.keys(CLIENT.defaults)) {
    provenance[key] = { source: "guide", why: "§6 default" };
  }
  provenance.reconnectJitterSeconds = {
    source: "derived",
    why: "NATS's own jitter for TLS clients; the guide names jitter, no figure",
  };
  provenance.ackTimeoutSeconds = {
    source: "derived",
    why: "the guide gives none; 0.25 s doubling per retry keeps a member's restart under 0.5 s of gap (docs/sizing.md)",
  };
  provenance.publishAttempts = {
    source: "derived",
    why: "the guide gives none; retries carry the write's Nats-Msg-Id so none is stored twice (docs/sizing.md)",
  };
  const base: ClientSettings = { ...CLIENT.defaults, ...BEYOND_GUIDE };
  if (singleServer) {
    base.reconnectWaitSeconds = SINGLE_TIER_RECONNECT.waitSeconds;
    base.reconnectJitterSeconds = SINGLE_TIER_RECONNECT.jitterSeconds;
    const why =
      "a single server's restart is a wait for it: 0.5 s plus 0.25 s jitter instead of the guide's 2 s plus NATS's 1 s (docs/sizing.md)";
    provenance.reconnectWaitSeconds = { source: "derived", why };
    provenance.reconnectJitterSeconds = { source: "derived", why };
  }
  const peel: ClientSettings = { ...base };
  if (peels >= THRESHOLDS.slowReconnect) {
    peel.reconnectWaitSeconds = CLIENT.slowReconnectWaitSeconds;
    provenance.reconnectWaitSeconds = {
      source: "guide",
      why: "§6, §9: 5 s on peels at 50k+ against a thundering herd; masters keep 2 s",
    };
  }
  if (peels >= THRESHOLDS.largeReconnectBuffer) {
    peel.reconnectBufSizeBytes = LARGE_RECONNECT_BUF_BYTES;
    provenance.reconnectBufSizeBytes = {
      source: "derived",
      why: "§6, §9: larger on peels at 100k+; the guide gives no figure, twice the default",
    };
  }
  const masterProvenance: Record<string, Provenance> = {};
  const peelProvenance: Record<string, Provenance> = {};
  const master = applyOverrides<ClientSettings>(
    { ...base },
    overrides.client?.master,
    ["overrides", "client", "master"],
    masterProvenance,
    applied,
  );
  const tunedPeel = applyOverrides(
    peel,
    overrides.client?.peel,
    ["overrides", "client", "peel"],
    peelProvenance,
    applied,
  );
  for (const [key, p] of Object.entries(masterProvenance)) provenance[`master.${key}`] = p;
  for (const [key, p] of Object.entries(peelProvenance)) provenance[`peel.${key}`] = p;
  return { master, peel: tunedPeel, provenance };
}
