/** The preview as GitHub-flavoured Markdown: what a pull request comment shows. */
import { fmt } from "../sizing/format";
import type { NewlyDue, Preview, PreviewChange, ServerView, Side } from "./preview";
import { tierEdge } from "./preview";

export interface MarkdownOptions {
  /** Rows listed per kind of resource; the rest are counted. @default all */
  maxRowsPerKind?: number;
  /** The servers' changes counted per action rather than listed. @default false */
  countServers?: boolean;
  /** Leave the Mermaid diagrams out (saying so). @default false */
  withoutDiagrams?: boolean;
}

/** GitHub refuses a comment longer than this (characters). */
export const COMMENT_LIMIT = 65_536;

export function renderMarkdown(preview: Preview, options: MarkdownOptions = {}): string {
  const sections = [
    header(preview),
    refusal(preview),
    serverTable(preview.before, preview.after),
    serverChanges(preview, options.countServers === true),
    resources(preview.changes, options.maxRowsPerKind),
    transition(preview),
    checklist(preview.checklist),
    options.withoutDiagrams === true
      ? "### Topology\n\nThe diagrams are left out: the comment would be too long (`npm run -s preview` prints them)."
      : topology(preview),
  ];
  return `${sections.filter((s) => s !== "").join("\n\n")}\n`;
}

/** Ever shorter renderings: fewer resource rows, then servers counted, then no diagrams. */
const SHORTER: MarkdownOptions[] = [
  {},
  { maxRowsPerKind: 20 },
  { maxRowsPerKind: 5 },
  { maxRowsPerKind: 0 },
  { maxRowsPerKind: 0, countServers: true },
  { maxRowsPerKind: 0, countServers: true, withoutDiagrams: true },
];

/** The fullest rendering that fits a comment (the last one regardless: the comment step cuts it). */
export function renderForComment(preview: Preview, limit = COMMENT_LIMIT - 1_024): string {
  let text = "";
  for (const options of SHORTER) {
    text = renderMarkdown(preview, options);
    if (text.length <= limit) return text;
  }
  return text;
}

const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
const row = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
const table = (head: string[], rows: string[][]) =>
  [row(head), row(head.map(() => "---")), ...rows.map(row)].join("\n");
const code = (text: string) => `\`${text}\``;
const risks = (list: readonly string[]) => (list.length === 0 ? "—" : list.map(code).join(" "));
function header(p: Preview): string {
  const b = p.before;
  return [
    `## Zester preview: stack \`${p.stack}\` (${p.target})`,
    "",
    table(
      ["", "before", "after"],
      [
        ["peels", b === null ? "(new stack)" : fmt(b.peels), fmt(p.after.peels)],
        [
          "tier",
          b === null ? "—" : code(b.tier),
          b?.tier === p.after.tier ? code(p.after.tier) : `**${code(p.after.tier)}**`,
        ],
        ["servers", b === null ? "—" : String(b.servers.length), String(p.after.servers.length)],
      ],
    ),
    "",
    `Compared with ${p.base}, both through the offline plan (Pulumi's mocks).`,
  ].join("\n");
}

function refusal(p: Preview): string {
  if (p.refused === null) return "**Nothing is refused.**";
  const lines = p.refusals.map((r) => `- ${code(r.risk)} ${r.reason}`);
  return [
    "### Refused",
    "",
    "`pulumi up` refuses this change before it creates or changes anything:",
    "",
    ...(lines.length > 0 ? lines : ["```", p.refused, "```"]),
  ].join("\n");
}

type Size = Pick<ServerView, "cpuSteadyCores" | "cpuBurstCores" | "memoryMiB" | "diskGiB" | "diskIops" | "storage">;

const describeSize = {
  CPU: (s: Size) => `${String(s.cpuSteadyCores)} steady / ${String(s.cpuBurstCores)} burst cores`,
  RAM: (s: Size) => `${fmt(s.memoryMiB / 1024)} GiB`,
  disk: (s: Size) =>
    s.diskGiB === 0 ? "none (no JetStream)" : `${fmt(s.diskGiB)} GiB ${s.storage === "nvme" ? "NVMe" : "SSD"}`,
  IOPS: (s: Size) => (s.diskIops === 0 ? "—" : fmt(s.diskIops)),
};

const distinct = (values: (string | undefined)[]) =>
  [...new Set(values.filter((v): v is string => v !== undefined))].join(", ") || "—";

function serverTable(before: Side | null, after: Side): string {
  const rows: string[][] = [];
  for (const role of ["core", "leaf"] as const) {
    const [was, now] = [
      before?.servers.filter((s) => s.role === role) ?? [],
      after.servers.filter((s) => s.role === role),
    ];
    if (was.length === 0 && now.length === 0) continue;
    const [w, n] = [was[0], now[0]];
    const pair = (describe: (s: ServerView) => string) => [
      w === undefined ? "—" : describe(w),
      n === undefined ? "—" : describe(n),
    ];
    rows.push([`**${role}**`, "servers", String(was.length), String(now.length)]);
    rows.push(["", "runs on", distinct(was.map((s) => s.host)), distinct(now.map((s) => s.host))]);
    for (const [what, describe] of Object.entries(describeSize)) rows.push(["", what, ...pair(describe)]);
    if (role === "core")
      rows.push(["", "JetStream data", distinct(was.map((s) => s.data)), distinct(now.map((s) => s.data))]);
  }
  return [
    "### Per server",
    "",
    "CPU, RAM, disk and IOPS are the tier's plan; what runs each server and where its JetStream data lives are the target's.",
    "",
    table(["", "", "before", "after"], rows),
  ].join("\n");
}

function serverChanges(p: Preview, counted: boolean): string {
  if (p.servers.length === 0) return "### The servers\n\nNo server is created, changed, restarted or removed.";
  const actions = [...new Set(p.servers.map((c) => c.action))];
  const lines = [
    "### The servers",
    "",
    counted
      ? table(
          ["what happens", "servers", "risks"],
          actions.map((a) => {
            const these = p.servers.filter((c) => c.action === a);
            return [a, String(these.length), risks([...new Set(these.flatMap((c) => c.risks))])];
          }),
        )
      : table(
          ["server", "what happens", "risks", "why"],
          p.servers.map((c) => [c.server, c.action, risks(c.risks), c.why.join("; ")]),
        ),
  ];
  if (p.restarts.length > 0) {
    lines.push("", "Restarts, one server at a time:", "");
    for (const r of p.restarts) lines.push(`- ${r.group}: ${r.servers.join(" → ")} (${r.how})`);
  }
  return lines.join("\n");
}

const ACTIONS = ["create", "update", "replace", "delete"] as const;

function resources(changes: PreviewChange[], maxRows: number | undefined): string {
  if (changes.length === 0) return "### Resources\n\nNo resource changes.";
  const kinds = new Map<string, PreviewChange[]>();
  for (const c of changes) kinds.set(c.type, [...(kinds.get(c.type) ?? []), c]);
  const count = (list: PreviewChange[], action: string) => {
    const n = list.filter((c) => c.action === action).length;
    return n === 0 ? "" : String(n);
  };
  const summary = table(
    ["kind", ...ACTIONS, "risks"],
    [...kinds].map(([type, list]) => [code(type), ...ACTIONS.map((a) => count(list, a)), risks(unionRisks(list))]),
  );
  const details = [...kinds].map(([type, list]) => kindDetails(type, list, maxRows));
  return ["### Resources", "", summary, "", ...details].join("\n");
}

const unionRisks = (list: PreviewChange[]) => [...new Set(list.flatMap((c) => c.risks))];

function kindDetails(type: string, list: PreviewChange[], maxRows: number | undefined): string {
  const shown = maxRows === undefined ? list : list.slice(0, maxRows);
  const counts = ACTIONS.map((a) => [a, list.filter((c) => c.action === a).length] as const)
    .filter(([, n]) => n > 0)
    .map(([a, n]) => `${String(n)} ${a}`)
    .join(", ");
  const rows = shown.map((c) => [
    c.action,
    c.name,
    risks(c.risks),
    [c.replacedBy.length > 0 ? `replaced: ${c.replacedBy.join(", ")} changes` : c.properties.join(", "), ...c.notes]
      .filter((t) => t !== "")
      .join("; "),
  ]);
  const more = list.length - shown.length;
  return [
    `<details><summary><code>${type}</code>: ${counts}</summary>`,
    "",
    ...(shown.length > 0 ? [table(["action", "name", "risks", "what changes"], rows)] : []),
    ...(more > 0 ? ["", `… and ${String(more)} more (the whole list: \`preview --format json\`).`] : []),
    "",
    "</details>",
  ].join("\n");
}

function transition(p: Preview): string {
  const t = p.transition;
  if (t === null) return "";
  return [
    `### Transition: ${code(t.from.tier)} (${fmt(t.from.peels)} peels) → ${code(t.to.tier)} (${fmt(t.to.peels)} peels)`,
    "",
    `${t.phase === null ? "Every step in one go" : `Phase \`${t.phase}\` (${String(t.phases.indexOf(t.phase) + 1)} of ${String(t.phases.length)}: ${t.phases.join(" → ")}), one per \`pulumi up\``}${t.waitingFor === null ? "" : `; the next waits for: ${t.waitingFor}`}.`,
    "",
    table(
      ["phase", "step", "kind", "servers", "waits for", "risks", "what"],
      t.steps.map((s) => [
        s.phase,
        s.id,
        s.kind,
        s.servers.join(", ") || "—",
        s.waitsFor,
        risks(s.risks),
        s.description,
      ]),
    ),
  ].join("\n");
}

const STATUS: Record<NonNullable<NewlyDue["status"]>, string> = {
  done: "done by this stack",
  operator: "yours to do",
  zester: "Zester's own job",
};

function checklist(items: NewlyDue[]): string {
  if (items.length === 0) return "";
  const bySince = new Map<string, NewlyDue[]>();
  for (const i of items) bySince.set(i.since, [...(bySince.get(i.since) ?? []), i]);
  return [...bySince]
    .map(([since, list]) =>
      [
        `### Moving to ${fmt(tierEdge(list[0]?.since ?? "single-small"))}+ peels (${code(since)}): the scaling guide's checklist`,
        "",
        table(
          ["item", "status", "how"],
          list.map((i) => [i.item, i.status === undefined ? "—" : STATUS[i.status], i.how ?? "—"]),
        ),
      ].join("\n"),
    )
    .join("\n\n");
}

function topology(p: Preview): string {
  const block = (title: string, text: string) => [`**${title}**`, "", "```mermaid", text.trimEnd(), "```"].join("\n");
  return [
    "### Topology",
    "",
    ...(p.mermaid.before === null ? [] : [block("Before", p.mermaid.before), ""]),
    block("After (new servers green, restarting yellow)", p.mermaid.after),
  ].join("\n");
}
