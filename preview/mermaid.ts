/**
 * A topology as a Mermaid flowchart: regions hold core clusters and leaf sites, which hold their
 * servers; leaf sites link to their region's core, other regions to the first (the hub), both
 * by leaf connections (docs/topology.md). Servers the change adds, removes or restarts are marked.
 */
import type { DeployedServer } from "../change/deployment";
import type { PlanJson } from "./plan-json";

export interface Marks {
  added?: ReadonlySet<string>;
  removed?: ReadonlySet<string>;
  restarted?: ReadonlySet<string>;
}

/** Mermaid ids: letters, digits and underscores only (a `-` could read as an edge). */
const id = (prefix: string, name: string) => `${prefix}_${name.replace(/[^A-Za-z0-9]/g, "_")}`;

/** Labels are quoted; a quote inside one is written as Mermaid's entity. */
const label = (text: string) => `"${text.replace(/"/g, "#quot;")}"`;

const CLASSES: Record<keyof Marks, string> = {
  added: "fill:#e6ffed,stroke:#22863a,stroke-width:2px",
  removed: "fill:#ffeef0,stroke:#cb2431,stroke-width:2px,stroke-dasharray:4 2",
  restarted: "fill:#fff5b1,stroke:#b08800,stroke-width:2px",
};

export function topologyDiagram(plan: PlanJson, marks: Marks = {}): string {
  const servers = plan.outputs.deployment?.servers ?? [];
  const regions = plan.outputs.sizing.regions.map((r) => r.name);
  const lines = ["flowchart LR"];
  for (const region of regions) lines.push(...regionBlock(region, servers));
  lines.push(...links(regions, servers));
  for (const [mark, style] of Object.entries(CLASSES) as [keyof Marks, string][]) {
    const members = servers.filter((s) => marks[mark]?.has(s.name) === true).map((s) => id("s", s.name));
    if (members.length > 0) lines.push(`  classDef ${mark} ${style}`, `  class ${members.join(",")} ${mark}`);
  }
  return `${lines.join("\n")}\n`;
}

const clusterId = (s: DeployedServer) => id("cluster", `${s.region}_${s.cluster ?? "core"}`);
const siteId = (site: string) => id("site", site);

function regionBlock(region: string, servers: readonly DeployedServer[]): string[] {
  const here = servers.filter((s) => s.region === region);
  const lines = [`  subgraph ${id("region", region)}[${label(`region ${region}`)}]`];
  const groups = new Map<string, { title: string; members: DeployedServer[] }>();
  for (const s of here) {
    const [key, title] =
      s.role === "leaf"
        ? [siteId(s.site ?? "?"), `leaf site ${s.site ?? "?"}`]
        : [clusterId(s), `core cluster ${s.cluster ?? "?"}`];
    const group = groups.get(key) ?? { title, members: [] };
    group.members.push(s);
    groups.set(key, group);
  }
  for (const [key, { title, members }] of groups) {
    lines.push(
      `    subgraph ${key}[${label(`${title}: ${String(members.length)} server${members.length === 1 ? "" : "s"}`)}]`,
    );
    for (const s of members) lines.push(`      ${id("s", s.name)}[${label(`${s.name} · ${s.host}`)}]`);
    lines.push("    end");
  }
  if (here.length === 0) lines.push(`    ${id("empty", region)}[${label("no servers")}]`);
  lines.push("  end");
  return lines;
}

function links(regions: string[], servers: readonly DeployedServer[]): string[] {
  const lines: string[] = [];
  const coreOf = (region: string) => servers.find((s) => s.region === region && s.role === "core");
  const sites = new Map(servers.filter((s) => s.role === "leaf").map((s) => [s.site ?? "?", s.region]));
  for (const [site, region] of sites) {
    const core = coreOf(region);
    if (core !== undefined) lines.push(`  ${siteId(site)} -->|${label("leaf connections :7422")}| ${clusterId(core)}`);
  }
  const hub = regions[0] === undefined ? undefined : coreOf(regions[0]);
  for (const region of regions.slice(1)) {
    const core = coreOf(region);
    if (core !== undefined && hub !== undefined)
      lines.push(`  ${clusterId(core)} -->|${label("region link: leaf connections :7422")}| ${clusterId(hub)}`);
  }
  return lines;
}
