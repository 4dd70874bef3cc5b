/** Zester `ClientConfig` for masters and peels (guide §6). */
import { CLIENT, THRESHOLDS } from "./guide";
import { LARGE_RECONNECT_BUF_BYTES } from "./policy";
import { applyOverrides } from "./server";
import type { Overrides } from "./spec";
import type { ClientSettings, ClientTuning, Provenance } from "./types";

export function clientTuning(peels: number, overrides: Overrides, applied: string[]): ClientTuning {
  const provenance: Record<string, Provenance> = {};
  for (const key of Object.keys(CLIENT.defaults)) {
    provenance[key] = { source: "guide", why: "§6 default" };
  }
  const peel: ClientSettings = { ...CLIENT.defaults };
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
    { ...CLIENT.defaults },
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
