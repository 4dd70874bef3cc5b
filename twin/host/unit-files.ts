/**
 * A host's unit files as systemd loads them (systemd.unit(5)): from /etc/systemd/system, then
 * /run/systemd/system and the generators' /run/systemd/generator.early, then
 * /usr/lib/systemd/system (the first holding a unit wins; drop-ins `<unit>.d/*.conf` from any of
 * them apply on top); `.wants/` and `.requires/` folders add Wants= and Requires=; a unit linked
 * to /dev/null is masked. Then the dependencies systemd adds by itself: the default ones of
 * services, timers and targets (systemd.service(5), systemd.timer(5), systemd.target(5)), and
 * the standard targets of systemd.special(7) where the image has none of its own. Pure: the
 * files in, the units out.
 */
import { parseUnit, type UnitSections } from "./units";

export type UnitType = "service" | "timer" | "target" | "other";

export interface UnitFile {
  /** Where it is (`/etc/systemd/system/nats-server.service`, or a `.wants/` link). */
  path: string;
  /** Where a symbolic link points, if it is one. */
  link?: string;
  text: string;
}

export interface LoadedUnit {
  name: string;
  type: UnitType;
  /** not-found: named by a dependency only; masked: linked to /dev/null; error: a setting the twin refuses (`loadError`). */
  load: "loaded" | "not-found" | "masked" | "error";
  loadError?: string;
  fragmentPath?: string;
  sections: UnitSections;
  description: string;
  wants: Set<string>;
  requires: Set<string>;
  after: Set<string>;
  before: Set<string>;
  /** Units whose stop (or restart) stops (or restarts) this one: Requires=, BindsTo=, PartOf=. */
  stopsWith: Set<string>;
  defaultDependencies: boolean;
  install: { wantedBy: string[]; requiredBy: string[]; also: string[]; alias: string[] };
  /** The `.wants/` and `.requires/` folders that link it (`multi-user.target.wants`): it is enabled. */
  enabledBy: Set<string>;
  /** ConditionPathExists= and the like: checked on the host before the unit starts. */
  conditions: { key: string; path: string; negate: boolean }[];
}

/** Where units are read from, highest precedence first. */
export const UNIT_DIRS = [
  "/etc/systemd/system",
  "/run/systemd/system",
  "/run/systemd/generator.early",
  "/usr/lib/systemd/system",
] as const;

/** The standard targets (systemd.special(7), systemd's own unit files), used where the image has none. */
const STANDARD_TARGETS: Record<string, string> = {
  "multi-user.target": "[Unit]\nDescription=Multi-User System\nRequires=basic.target\nAfter=basic.target\n",
  "basic.target":
    "[Unit]\nDescription=Basic System\nRequires=sysinit.target\nWants=sockets.target timers.target paths.target slices.target\nAfter=sysinit.target sockets.target paths.target slices.target\n",
  "sysinit.target": "[Unit]\nDescription=System Initialization\nWants=local-fs.target\nAfter=local-fs.target\n",
  "local-fs.target": "[Unit]\nDescription=Local File Systems\nDefaultDependencies=no\nAfter=local-fs-pre.target\n",
  "local-fs-pre.target": "[Unit]\nDescription=Preparation for Local File Systems\nDefaultDependencies=no\n",
  "network-pre.target": "[Unit]\nDescription=Preparation for Network\n",
  "network.target": "[Unit]\nDescription=Network\nAfter=network-pre.target\n",
  "network-online.target": "[Unit]\nDescription=Network is Online\nAfter=network.target\n",
  "timers.target": "[Unit]\nDescription=Timer Units\nDefaultDependencies=no\n",
  "sockets.target": "[Unit]\nDescription=Socket Units\n",
  "paths.target": "[Unit]\nDescription=Path Units\n",
  "slices.target": "[Unit]\nDescription=Slice Units\n",
  "time-set.target": "[Unit]\nDescription=System Time Set\nDefaultDependencies=no\n",
  "time-sync.target": "[Unit]\nDescription=System Time Synchronized\nDefaultDependencies=no\nAfter=time-set.target\n",
  "shutdown.target": "[Unit]\nDescription=System Shutdown\nDefaultDependencies=no\n",
};

/**
 * [Unit] keys carried out (or, for documentation and start limits, without effect on the twin);
 * any other is refused, naming it, rather than ignored.
 */
const UNIT_KEYS = new Set([
  "Description",
  "Documentation",
  "After",
  "Before",
  "Wants",
  "Requires",
  "Requisite",
  "BindsTo",
  "PartOf",
  "Conflicts",
  "DefaultDependencies",
  "RequiresMountsFor",
  "ConditionPathExists",
  "ConditionPathIsDirectory",
  "ConditionFileNotEmpty",
  "StartLimitIntervalSec",
  "StartLimitBurst",
  "AllowIsolate",
  "IgnoreOnIsolate",
]);

export const unitType = (name: string): UnitType => {
  const suffix = name.slice(name.lastIndexOf(".") + 1);
  return suffix === "service" || suffix === "timer" || suffix === "target" ? suffix : "other";
};

const words = (values: string[] | undefined): string[] => (values ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean);

function emptyUnit(name: string, load: LoadedUnit["load"]): LoadedUnit {
  return {
    name,
    type: unitType(name),
    load,
    sections: {},
    description: name,
    wants: new Set(),
    requires: new Set(),
    after: new Set(),
    before: new Set(),
    stopsWith: new Set(),
    enabledBy: new Set(),
    defaultDependencies: true,
    install: { wantedBy: [], requiredBy: [], also: [], alias: [] },
    conditions: [],
  };
}

/** One unit from its text (and its drop-ins'); a [Unit] key systemd has and the twin does not carry out is an error. */
export function loadUnit(name: string, text: string, fragmentPath: string | undefined): LoadedUnit {
  const sections = parseUnit(text);
  const unit = emptyUnit(name, "loaded");
  const section = sections.Unit ?? {};
  const refused = Object.keys(section).filter((k) => !UNIT_KEYS.has(k));
  if (refused.length > 0) throw new Error(`${name}: the twin does not carry out [Unit] ${refused.join(", ")}`);
  // Conflicts=shutdown.target is what a shutdown does anyway; any other conflict is not carried out.
  const conflicts = words(section.Conflicts).filter((c) => c !== "shutdown.target");
  if (conflicts.length > 0) throw new Error(`${name}: the twin does not carry out Conflicts=${conflicts.join(" ")}`);
  unit.sections = sections;
  if (fragmentPath !== undefined) unit.fragmentPath = fragmentPath;
  unit.description = section.Description?.at(-1) ?? name;
  for (const w of [...words(section.Wants)]) unit.wants.add(w);
  for (const w of [...words(section.Requires), ...words(section.Requisite), ...words(section.BindsTo)])
    unit.requires.add(w);
  for (const w of [...words(section.Requires), ...words(section.BindsTo), ...words(section.PartOf)])
    unit.stopsWith.add(w);
  for (const w of words(section.After)) unit.after.add(w);
  for (const w of words(section.Before)) unit.before.add(w);
  // A unit that needs a path mounted is ordered after the local file systems.
  if (section.RequiresMountsFor !== undefined) unit.after.add("local-fs.target");
  unit.defaultDependencies = !/^(no|false|0|off)$/.test(section.DefaultDependencies?.at(-1) ?? "yes");
  for (const key of ["ConditionPathExists", "ConditionPathIsDirectory", "ConditionFileNotEmpty"])
    for (const value of section[key] ?? [])
      unit.conditions.push({ key, path: value.replace(/^!/, ""), negate: value.startsWith("!") });
  const install = sections.Install ?? {};
  unit.install = {
    wantedBy: words(install.WantedBy),
    requiredBy: words(install.RequiredBy),
    also: words(install.Also),
    alias: words(install.Alias),
  };
  return unit;
}

/**
 * The host's units from its unit files (as `readUnitFilesScript` lists them): precedence,
 * drop-ins, `.wants/` and `.requires/` links, masks, the standard targets, default dependencies.
 */
export function loadUnits(files: readonly UnitFile[]): Map<string, LoadedUnit> {
  const byName = new Map<string, { file: UnitFile; dropIns: UnitFile[] }>();
  const links: { unit: string; kind: "wants" | "requires"; target: string }[] = [];
  const dropIns: UnitFile[] = [];
  for (const file of files) {
    const parts = file.path.split("/");
    const base = parts.at(-1) ?? "";
    const parent = parts.at(-2) ?? "";
    if (parent.endsWith(".wants") || parent.endsWith(".requires")) {
      const kind = parent.endsWith(".wants") ? "wants" : "requires";
      links.push({ unit: parent.slice(0, parent.lastIndexOf(".")), kind, target: base });
    } else if (parent.endsWith(".d") && base.endsWith(".conf")) dropIns.push(file);
    else if (!byName.has(base)) byName.set(base, { file, dropIns: [] });
  }
  for (const dropIn of dropIns) {
    const parent = dropIn.path.split("/").at(-2) ?? "";
    byName.get(parent.slice(0, -2))?.dropIns.push(dropIn);
  }
  const units = new Map<string, LoadedUnit>();
  for (const [name, { file, dropIns: own }] of byName) {
    if (file.link === "/dev/null") {
      units.set(name, { ...emptyUnit(name, "masked"), fragmentPath: file.path });
      continue;
    }
    const text = [file.text, ...own.sort((a, b) => a.path.localeCompare(b.path)).map((d) => d.text)].join("\n");
    try {
      units.set(name, loadUnit(name, text, file.path));
    } catch (error) {
      // One unit the twin cannot carry out fails on its own, as systemd's "bad-setting" does.
      const loadError = error instanceof Error ? error.message : String(error);
      units.set(name, { ...emptyUnit(name, "error"), fragmentPath: file.path, loadError });
    }
  }
  for (const [name, text] of Object.entries(STANDARD_TARGETS))
    if (!units.has(name)) units.set(name, loadUnit(name, text, undefined));
  for (const link of links) {
    const unit = units.get(link.unit);
    if (unit === undefined) continue;
    unit[link.kind].add(link.target);
    if (link.kind === "requires") unit.stopsWith.add(link.target);
  }
  for (const unit of [...units.values()])
    for (const dep of [...unit.wants, ...unit.requires, ...unit.after, ...unit.before])
      if (!units.has(dep)) units.set(dep, emptyUnit(dep, "not-found"));
  for (const link of links) units.get(link.target)?.enabledBy.add(`${link.unit}.${link.kind}`);
  addDefaultDependencies(units);
  return units;
}

/** The unit a timer starts: its Unit=, else the service of its own name (systemd.timer(5)). */
export function triggeredBy(timer: LoadedUnit): string {
  return timer.sections.Timer?.Unit?.at(-1) ?? timer.name.replace(/\.timer$/, ".service");
}

/** systemd's default dependencies, in its order: the units' own, then the targets' implicit After=. */
function addDefaultDependencies(units: Map<string, LoadedUnit>): void {
  for (const unit of units.values()) {
    // Implicit, whatever DefaultDependencies says: a timer is ordered before what it starts.
    if (unit.type === "timer" && unit.load === "loaded") unit.before.add(triggeredBy(unit));
    if (unit.load !== "loaded" || !unit.defaultDependencies) continue;
    if (unit.type === "service") {
      unit.requires.add("sysinit.target");
      for (const t of ["sysinit.target", "basic.target"]) unit.after.add(t);
      unit.before.add("shutdown.target");
    } else if (unit.type === "timer") {
      unit.requires.add("sysinit.target");
      for (const t of ["sysinit.target", "time-set.target", "time-sync.target"]) unit.after.add(t);
      unit.before.add("timers.target");
    } else if (unit.type === "target") unit.before.add("shutdown.target");
  }
  for (const target of units.values()) {
    if (target.type !== "target" || target.load !== "loaded" || !target.defaultDependencies) continue;
    for (const name of [...target.wants, ...target.requires]) {
      const wanted = units.get(name);
      // systemd's unit_add_default_target_dependency(): both loaded, both with default
      // dependencies, and no loop (the target ordered before the unit already).
      if (wanted?.load !== "loaded" || !wanted.defaultDependencies) continue;
      if (orderedAfter(units, wanted.name).has(target.name)) continue;
      target.after.add(wanted.name);
    }
  }
}

/** The units `name` is ordered after (its After=, and every unit that is Before= it). */
export function orderedAfter(units: ReadonlyMap<string, LoadedUnit>, name: string): Set<string> {
  const after = new Set(units.get(name)?.after ?? []);
  for (const other of units.values()) if (other.before.has(name)) after.add(other.name);
  return after;
}

/** The unit a name means: `foo` is `foo.service`, as systemctl reads it. */
export const unitName = (name: string): string => (/\.[a-z]+$/.test(name) ? name : `${name}.service`);

/** A shell script that prints every unit file, drop-in and link a host has, for `parseUnitFiles`. */
export function readUnitFilesScript(): string {
  return [
    `for dir in ${UNIT_DIRS.join(" ")}; do`,
    '  [ -d "$dir" ] || continue',
    '  for f in "$dir"/* "$dir"/*.d/*.conf "$dir"/*.wants/* "$dir"/*.requires/*; do',
    '    if [ ! -e "$f" ] && [ ! -L "$f" ]; then continue; fi',
    '    if [ -d "$f" ] && [ ! -L "$f" ]; then continue; fi',
    '    printf \'\\036%s\\037%s\\037\' "$f" "$(readlink "$f" 2>/dev/null || true)"',
    '    case "$f" in *.wants/*|*.requires/*) ;; *) cat "$f" 2>/dev/null || true ;; esac',
    "  done",
    "done",
  ].join("\n");
}

/** The files `readUnitFilesScript` printed. */
export function parseUnitFiles(output: string): UnitFile[] {
  return output
    .split("\u001e")
    .filter((record) => record !== "")
    .map((record) => {
      const [file = "", link = "", text = ""] = record.split("\u001f");
      return { path: file, ...(link === "" ? {} : { link }), text };
    });
}
