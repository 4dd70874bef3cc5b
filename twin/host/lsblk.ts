/**
 * `lsblk` as util-linux prints it (lsblk(8)), over the block devices the twin attached to a host:
 * the options our scripts and an operator use (`-d -p -n -b -J -l -r -o COLUMNS`, devices as
 * arguments), columns NAME, KNAME, PATH, MAJ:MIN, RM, RO, SIZE, TYPE, MODEL, SERIAL, PKNAME,
 * FSTYPE, UUID, MOUNTPOINT, MOUNTPOINTS. Pure: the devices and the arguments in, the output out.
 * An option it does not carry out is refused, naming it.
 */
import { ToolError, type Reply } from "./host-calls";

export interface BlockDevice {
  /** The kernel name (`nvme1n1`). */
  name: string;
  type: "disk" | "part" | "raid0";
  sizeBytes: number;
  /** `259:1`. */
  majMin: string;
  model?: string;
  serial?: string;
  fstype?: string;
  uuid?: string;
  mountpoints: string[];
  children?: BlockDevice[];
}

const COLUMNS = [
  "NAME",
  "KNAME",
  "PATH",
  "MAJ:MIN",
  "RM",
  "RO",
  "SIZE",
  "TYPE",
  "MODEL",
  "SERIAL",
  "PKNAME",
  "FSTYPE",
  "UUID",
  "MOUNTPOINT",
  "MOUNTPOINTS",
] as const;
type Column = (typeof COLUMNS)[number];
/** Columns lsblk aligns to the right (numbers). */
const RIGHT = new Set<Column>(["MAJ:MIN", "RM", "RO", "SIZE"]);
const DEFAULT_COLUMNS: Column[] = ["NAME", "MAJ:MIN", "RM", "SIZE", "RO", "TYPE", "MOUNTPOINTS"];

interface Options {
  nodeps: boolean;
  paths: boolean;
  noheadings: boolean;
  bytes: boolean;
  json: boolean;
  flat: boolean;
  raw: boolean;
  columns: Column[];
  devices: string[];
}

const SHORT: Record<string, keyof Options> = {
  d: "nodeps",
  p: "paths",
  n: "noheadings",
  b: "bytes",
  J: "json",
  l: "flat",
  r: "raw",
};
const LONG: Record<string, keyof Options> = {
  "--nodeps": "nodeps",
  "--paths": "paths",
  "--noheadings": "noheadings",
  "--bytes": "bytes",
  "--json": "json",
  "--list": "flat",
  "--raw": "raw",
};

function columnsOf(list: string): Column[] {
  return list.split(",").map((c) => {
    const upper = c.trim().toUpperCase();
    if (!(COLUMNS as readonly string[]).includes(upper))
      throw new ToolError(`lsblk: unknown column: ${c} (the twin's lsblk prints ${COLUMNS.join(", ")})`);
    return upper as Column;
  });
}

/** lsblk's arguments (bundled short options as `-dpno NAME,MODEL`). */
export function parseLsblkArgs(args: readonly string[]): Options {
  const options: Options = {
    nodeps: false,
    paths: false,
    noheadings: false,
    bytes: false,
    json: false,
    flat: false,
    raw: false,
    columns: DEFAULT_COLUMNS,
    devices: [],
  };
  const flag = (key: keyof Options) => ((options as unknown as Record<string, boolean>)[key] = true);
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] ?? "";
    if (arg.startsWith("--output=")) options.columns = columnsOf(arg.slice(9));
    else if (arg === "--output") options.columns = columnsOf(args[++i] ?? "");
    else if (arg.startsWith("--")) {
      const key = LONG[arg];
      if (key === undefined) throw new ToolError(`lsblk: the twin's lsblk does not carry out ${arg}`);
      flag(key);
    } else if (arg.startsWith("-") && arg.length > 1) {
      const letters = arg.slice(1);
      for (let j = 0; j < letters.length; j++) {
        const letter = letters[j] ?? "";
        if (letter === "o") {
          const rest = letters.slice(j + 1);
          options.columns = columnsOf(rest === "" ? (args[++i] ?? "") : rest);
          break;
        }
        const key = SHORT[letter];
        if (key === undefined) throw new ToolError(`lsblk: the twin's lsblk does not carry out -${letter}`);
        flag(key);
      }
    } else options.devices.push(arg);
  }
  return options;
}

/** lsblk's human size: powers of 1024, one decimal below 10 of a unit, as util-linux rounds. */
export function humanSize(bytes: number): string {
  const units = ["B", "K", "M", "G", "T", "P", "E"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (unit === 0) return `${String(bytes)}B`;
  const rounded = Math.round(value * 10) / 10;
  return `${Number.isInteger(rounded) ? String(rounded) : rounded.toFixed(1)}${units[unit] ?? ""}`;
}

interface Row {
  device: BlockDevice;
  parent?: BlockDevice;
  depth: number;
  last: boolean;
}

function value(row: Row, column: Column, options: Options, prefix: string): string {
  const { device, parent } = row;
  switch (column) {
    case "NAME":
      return prefix + (options.paths ? `/dev/${device.name}` : device.name);
    case "KNAME":
      return device.name;
    case "PATH":
      return `/dev/${device.name}`;
    case "MAJ:MIN":
      return device.majMin;
    case "RM":
    case "RO":
      return "0";
    case "SIZE":
      return options.bytes ? String(device.sizeBytes) : humanSize(device.sizeBytes);
    case "TYPE":
      return device.type;
    case "MODEL":
      return device.model ?? "";
    case "SERIAL":
      return device.serial ?? "";
    case "PKNAME":
      return parent === undefined ? "" : options.paths ? `/dev/${parent.name}` : parent.name;
    case "FSTYPE":
      return device.fstype ?? "";
    case "UUID":
      return device.uuid ?? "";
    case "MOUNTPOINT":
      return device.mountpoints[0] ?? "";
    case "MOUNTPOINTS":
      return device.mountpoints.join("\n");
  }
}

/** The devices `options` select, as rows in lsblk's order (a disk, then its children). */
function rowsOf(devices: readonly BlockDevice[], options: Options): { rows: Row[]; missing: string[] } {
  const rows: Row[] = [];
  const add = (device: BlockDevice, parent: BlockDevice | undefined, depth: number, last: boolean) => {
    rows.push({ device, depth, last, ...(parent === undefined ? {} : { parent }) });
    if (options.nodeps) return;
    const children = device.children ?? [];
    children.forEach((child, i) => {
      add(child, device, depth + 1, i === children.length - 1);
    });
  };
  if (options.devices.length === 0) {
    for (const d of devices) add(d, undefined, 0, true);
    return { rows, missing: [] };
  }
  const missing: string[] = [];
  for (const wanted of options.devices) {
    const name = wanted.replace(/^\/dev\//, "");
    const disk = devices.find((d) => d.name === name);
    const parent = devices.find((d) => d.children?.some((c) => c.name === name));
    const part = parent?.children?.find((c) => c.name === name);
    if (disk !== undefined) add(disk, undefined, 0, true);
    else if (part !== undefined && parent !== undefined) add(part, parent, 0, true);
    else missing.push(wanted);
  }
  return { rows, missing };
}

/** What `lsblk args` prints over `devices`. */
export function lsblk(devices: readonly BlockDevice[], args: readonly string[]): Reply {
  const options = parseLsblkArgs(args);
  const { rows, missing } = rowsOf(devices, options);
  const stderr = missing.map((m) => `lsblk: ${m}: not a block device\n`).join("");
  // lsblk(8): 32 when none of the devices asked for was found, 64 when some were.
  const status = missing.length === 0 ? 0 : missing.length === options.devices.length ? 32 : 64;
  if (options.json) {
    const key = (c: Column) => c.toLowerCase();
    const objects = rows.map((row) =>
      Object.fromEntries(
        options.columns.map((c) => [
          key(c),
          c === "MOUNTPOINTS"
            ? row.device.mountpoints
            : value(row, c, options, "") === ""
              ? null
              : value(row, c, options, ""),
        ]),
      ),
    );
    return { stdout: `${JSON.stringify({ blockdevices: objects }, null, 3)}\n`, stderr, status };
  }
  const tree = !options.flat && !options.raw && !options.nodeps;
  const cells = rows.map((row) =>
    options.columns.map((c) => {
      const prefix = tree && row.depth > 0 ? (row.last ? "└─" : "├─") : "";
      const text = value(row, c, options, prefix).replaceAll("\n", options.raw ? "\\x0a" : " ");
      return options.raw ? text.replaceAll(" ", "\\x20") : text;
    }),
  );
  const header = options.noheadings ? [] : [options.columns.map((c) => c)];
  const all = [...header, ...cells];
  const widths = options.columns.map((_, i) => Math.max(...all.map((r) => Array.from(r[i] ?? "").length)));
  const lines = all.map((r) =>
    options.raw
      ? r.join(" ")
      : r
          .map((cell, i) => {
            const pad = " ".repeat((widths[i] ?? 0) - Array.from(cell).length);
            if (RIGHT.has(options.columns[i] ?? "NAME")) return pad + cell;
            return i === r.length - 1 ? cell : cell + pad;
          })
          .join(" ")
          .trimEnd(),
  );
  return { stdout: lines.length === 0 ? "" : `${lines.join("\n")}\n`, stderr, status };
}
