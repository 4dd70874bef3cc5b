/** Guide §3 as a model whose fact-sync interval is a parameter (60 s reproduces its table). */
import { BANDWIDTH } from "./guide";
import type { Bandwidth } from "./types";

export function bandwidth(peels: number, factIntervalSeconds: number): Bandwidth {
  return {
    factIntervalSeconds,
    peels,
    heartbeatBytesPerSecond: peels * BANDWIDTH.heartbeatBytesPerSecond,
    factSyncBytesPerSecond: (peels * BANDWIDTH.factSyncBytesPerEvent) / factIntervalSeconds,
    stateApplyBytesPerJob: peels * BANDWIDTH.stateApplyBytesPerJob,
    settingsPushBytesTotal: peels * BANDWIDTH.settingsPushBytes,
    perPeel: {
      heartbeatBytesPerSecond: BANDWIDTH.heartbeatBytesPerSecond,
      factSyncBytesPerEvent: BANDWIDTH.factSyncBytesPerEvent,
      stateApplyBytesPerJob: BANDWIDTH.stateApplyBytesPerJob,
      settingsPushBytes: BANDWIDTH.settingsPushBytes,
    },
  };
}
