/** The calculator's readable output: one table per part of the plan. */
import Table from "cli-table3";
import { bytes, decimalBytes, fmt } from "../sizing/format";
import type { ClientSettings, Provenance, ServerSize, SizingPlan } from "../sizing";

/** The last column ("why", "item") wraps at this width so tables fit a terminal. */
const LAST_COLUMN_WIDTH = 72;

/** `wrapLast`: the last column holds prose ("why", "item") and wraps; short values never do. */
function table(title: string, head: string[], rows: (string | number)[][], wrapLast = true): string {
  const widths = head.map((_, i) => (wrapLast && i === head.length - 1 && head.length > 2 ? LAST_COLUMN_WIDTH : null));
  const t = new Table({ head, style: { head: [], border: [] }, wordWrap: true, colWidths: widths });
  for (const row of rows) t.push(row.map(String));
  return `${title}\n${t.toString()}\n`;
}

const seconds = (s: number): string =>
  s === 0 ? "none" : s % 86_400 === 0 ? `${s / 86_400} d` : s % 60 === 0 && s >= 60 ? `${s / 60} min` : `${s} s`;
const why = (p: Provenance | undefined): string => (p === undefined ? "" : `${p.source}: ${p.why}`);

function serverRow(role: string, s: ServerSize, count: number): (string | number)[] {
  return [
    role,
    count,
    `${s.cpuSteadyCores} / ${s.cpuBurstCores}`,
    bytes(s.memoryMiB * 1024 * 1024),
    s.jetstreamDiskGiB === 0 ? "none (no JetStream)" : `${fmt(s.jetstreamDiskGiB)} GiB ${s.storage.toUpperCase()}`,
    s.diskIops === 0 ? "-" : fmt(s.diskIops),
    `${fmt(s.networkMbps)} Mbps`,
  ];
}

const CLIENT_ROWS: [keyof ClientSettings, string, (v: number) => string][] = [
  ["maxReconnects", "MaxReconnects", (v) => String(v)],
  ["reconnectWaitSeconds", "ReconnectWait", seconds],
  ["reconnectJitterSeconds", "ReconnectJitter", seconds],
  ["reconnectBufSizeBytes", "ReconnectBufSize", bytes],
  ["pingIntervalSeconds", "PingInterval", seconds],
  ["maxPingsOut", "MaxPingsOut", (v) => String(v)],
  ["drainTimeoutSeconds", "DrainTimeout", seconds],
  ["ackTimeoutSeconds", "AckTimeout (first attempt)", seconds],
  ["publishAttempts", "PublishAttempts (same Nats-Msg-Id)", (v) => String(v)],
];

/** Every part of the plan as a table, in the order an operator reads them. */
export function renderPlanTables(plan: SizingPlan): string {
  const parts = [
    tierTable(plan),
    topologyTable(plan),
    resourcesTable(plan),
    serverTuningTable(plan),
    clientTable(plan),
    osTable(plan),
    kvTable(plan),
    bandwidthTable(plan),
    checklistTable(plan),
  ];
  if (plan.overrides.length > 0) parts.push(`Overridden: ${plan.overrides.join(", ")}\n`);
  return parts.join("\n");
}

function tierTable(plan: SizingPlan): string {
  return table(
    "Tier",
    ["tier", "peels", "topology", "servers per cluster", "servers in all", "guide row"],
    [[plan.tier, fmt(plan.peels), plan.topology, plan.serversPerCluster, plan.totalServers, plan.guideRow]],
  );
}

function topologyTable(plan: SizingPlan): string {
  return table(
    "Topology",
    ["region", "peels", "direct to core", "core servers", "JetStream domain", "leaf sites"],
    plan.regions.map((r) => [
      r.name + (r.declared ? "" : " (implied)"),
      fmt(r.peels),
      fmt(r.directPeels),
      r.servers,
      r.jetstreamDomain ?? "-",
      plan.leafSites
        .filter((s) => s.region === r.name)
        .map((s) => `${s.name}${s.declared ? "" : " (implied)"}: ${fmt(s.peels)} peels on ${s.servers} leaf servers`)
        .join("\n") || "-",
    ]),
  );
}

function resourcesTable(plan: SizingPlan): string {
  const leafServers = plan.leafSites.reduce((k, s) => k + s.servers, 0);
  const servers = [serverRow("core (NATS + master)", plan.server, plan.totalServers - leafServers)];
  if (plan.leafNode !== undefined) servers.push(serverRow("leaf node", plan.leafNode.server, leafServers));
  return table(
    "Per-server resources",
    ["role", "count", "CPU steady / burst", "RAM", "JetStream disk", "IOPS", "network"],
    servers,
  );
}

function serverTuningTable(plan: SizingPlan): string {
  const n = plan.natsServer;
  const p = n.provenance;
  const js = n.jetstream;
  const rows: (string | number)[][] = [
    ["max_connections", fmt(n.maxConnections), why(p.maxConnections)],
    ["max_payload", bytes(n.maxPayloadBytes), why(p.maxPayloadBytes)],
    ["write_deadline", seconds(n.writeDeadlineSeconds), why(p.writeDeadlineSeconds)],
    ["jetstream.max_mem_store", bytes(js.maxMemStoreBytes), why(p.maxMemStoreBytes)],
    ["jetstream.max_file_store", bytes(js.maxFileStoreBytes), why(p.maxFileStoreBytes)],
    [
      "jetstream.limits.max_ack_pending",
      js.maxAckPending === undefined ? "not set (no ceiling)" : fmt(js.maxAckPending),
      why(p.maxAckPending) || "the guide sets it above 10,000 peels",
    ],
    [
      "jetstream.limits.duplicate_window",
      js.duplicateWindowSeconds === undefined ? "not set (no ceiling)" : seconds(js.duplicateWindowSeconds),
      why(p.duplicateWindowSeconds) || "the guide sets it above 10,000 peels",
    ],
    ["lame_duck_duration", seconds(n.lameDuckDurationSeconds), why(p.lameDuckDurationSeconds)],
    ["lame_duck_grace_period", seconds(n.lameDuckGracePeriodSeconds), why(p.lameDuckGracePeriodSeconds)],
  ];
  if (plan.leafNode !== undefined)
    rows.push([
      "leaf nodes: max_connections",
      fmt(plan.leafNode.maxConnections),
      why(plan.leafNode.provenance.maxConnections),
    ]);
  return table("nats-server tuning (core servers)", ["setting", "value", "why"], rows);
}

function clientTable(plan: SizingPlan): string {
  const c = plan.client;
  return table(
    "Client tuning (Zester ClientConfig)",
    ["parameter", "masters", "peels", "why"],
    CLIENT_ROWS.map(([key, label, show]) => [
      label,
      show(c.master[key]),
      show(c.peel[key]),
      [c.provenance[key], c.provenance[`master.${key}`], c.provenance[`peel.${key}`]]
        .filter((x): x is Provenance => x !== undefined)
        .map(why)
        .join("\n"),
    ]),
  );
}

function osTable(plan: SizingPlan): string {
  const rows: (string | number)[][] = [
    ["LimitNOFILE (core)", fmt(plan.os.limitNofile), why(plan.os.provenance.limitNofile)],
  ];
  if (plan.leafNode !== undefined)
    rows.push(["LimitNOFILE (leaf nodes)", fmt(plan.leafNode.limitNofile), why(plan.leafNode.provenance.limitNofile)]);
  const sysctl = Object.entries(plan.os.sysctl);
  if (sysctl.length === 0) rows.push(["sysctl", "none", "the guide tunes the kernel from 10,000 peels"]);
  for (const [key, value] of sysctl) rows.push([key, value, why(plan.os.provenance[key])]);
  return table("OS tuning", ["setting", "value", "why"], rows);
}

function kvTable(plan: SizingPlan): string {
  const budget = plan.storageBudget;
  const of = (planned: number, total: number) => `${bytes(planned)} of ${bytes(total)}`;
  return table(
    `KV plan (every stream bounded; planned: ${of(budget.filePlannedBytes, budget.fileStoreBytes)} file store, ${of(budget.memPlannedBytes, budget.memStoreBytes)} memory store per server)`,
    ["bucket", "kind", "stream", "history", "TTL / max age", "replicas", "storage", "max bytes", "when full"],
    plan.kv.map((b) => [
      b.name,
      b.kind,
      b.stream,
      b.history === 0 ? "-" : b.history,
      seconds(b.ttlSeconds),
      b.replicas,
      b.storage,
      bytes(b.maxBytes),
      b.discard === "old" ? "drops oldest" : "refuses writes",
    ]),
    false,
  );
}

function bandwidthTable(plan: SizingPlan): string {
  const bw = plan.bandwidth;
  const per = bw.perPeel;
  return table(
    `Bandwidth (fact sync every ${seconds(bw.factIntervalSeconds)}; the guide's table is reproduced at 60 s)`,
    ["operation", "per peel", `${fmt(bw.peels)} peels`],
    [
      [
        "heartbeat (idle)",
        `${decimalBytes(per.heartbeatBytesPerSecond)}/s`,
        `${decimalBytes(bw.heartbeatBytesPerSecond)}/s`,
      ],
      ["fact sync", `${decimalBytes(per.factSyncBytesPerEvent)}/event`, `${decimalBytes(bw.factSyncBytesPerSecond)}/s`],
      [
        "state apply (one job to all)",
        `${decimalBytes(per.stateApplyBytesPerJob)}/job`,
        `${decimalBytes(bw.stateApplyBytesPerJob)} burst`,
      ],
      ["settings push", decimalBytes(per.settingsPushBytes), `${decimalBytes(bw.settingsPushBytesTotal)} total`],
    ],
  );
}

function checklistTable(plan: SizingPlan): string {
  return plan.checklist.length === 0
    ? "Checklist\n(nothing: the guide's checklist starts at 1,000 peels)\n"
    : table(
        "Checklist (cumulative)",
        ["since", "item"],
        plan.checklist.map((i) => [i.since, i.item]),
      );
}
