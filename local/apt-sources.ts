/**
 * Which Debian archive this machine's apt fetches from, read from its own sources: the one-line
 * `sources.list` format and deb822 `.sources` files. Whatever mirror the operator configured for
 * apt is the one the project fetches from too; `ZESTER_DEBIAN_MIRROR` overrides it. The parsers
 * are pure (text in, entries out); `machineDebianArchive()` is the one function that reads files.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { z } from "zod";

export type SourceFormat = "one-line" | "deb822";

/** One source entry as apt reads it. */
export interface AptEntry {
  /** "file:line" of the entry, for messages. */
  origin: string;
  format: SourceFormat;
  /** `deb`, `deb-src`. */
  types: string[];
  uris: string[];
  suites: string[];
  components: string[];
  enabled: boolean;
  /**
   * Signed-By exactly as written: keyring paths and fingerprints, or (deb822 only) an inline key
   * block whose continuation lines keep their leading space.
   */
  signedBy?: string;
  trusted: boolean;
}

/** Where Debian packages are fetched from: an archive (or a mirror of it) and how apt checks it. */
export interface DebianArchive {
  uri: string;
  format: SourceFormat;
  signedBy?: string;
  trusted: boolean;
  /** Where it was read ("/etc/apt/sources.list.d/debian.sources:3") or the override's name. */
  origin: string;
}

export const MIRROR_OVERRIDE = "ZESTER_DEBIAN_MIRROR";

/**
 * Suite names of Debian's own archive, codenames and aliases. A third-party repository rarely
 * names its suite like Debian's and serves `main` too; the machine's own codename is preferred.
 */
export const DEBIAN_SUITE_NAMES = [
  "buster",
  "bullseye",
  "bookworm",
  "trixie",
  "forky",
  "duke",
  "sid",
  "oldoldstable",
  "oldstable",
  "stable",
  "testing",
  "unstable",
] as const;

const yes = (value: string | undefined): boolean => value !== undefined && /^(yes|true|1)$/i.test(value.trim());

/** Splits a one-line entry into words; `[...]` groups (options, `cdrom:[label]/`) keep their spaces. */
function words(line: string): string[] {
  const out: string[] = [];
  let word = "";
  let depth = 0;
  for (const char of line) {
    if (char === "[") depth += 1;
    if (char === "]") depth = Math.max(0, depth - 1);
    if (/\s/.test(char) && depth === 0) {
      if (word !== "") out.push(word);
      word = "";
    } else word += char;
  }
  if (word !== "") out.push(word);
  return out;
}

/** `deb [signed-by=/k.gpg arch=amd64] URI SUITE COMPONENT...`; `#` starts a comment anywhere. */
export function parseOneLine(text: string, file: string): AptEntry[] {
  const entries: AptEntry[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.replace(/#.*$/, "").trim();
    if (line === "") return;
    const [type, ...rest] = words(line);
    if (type === undefined) return;
    const options = new Map<string, string>();
    if (rest[0]?.startsWith("[") === true) {
      const group = rest.shift() ?? "";
      for (const option of group.slice(1, -1).trim().split(/\s+/)) {
        const at = option.indexOf("=");
        if (at > 0) options.set(option.slice(0, at).toLowerCase(), option.slice(at + 1));
      }
    }
    const [uri, suite, ...components] = rest;
    if (uri === undefined || suite === undefined) return;
    const signedBy = options.get("signed-by");
    entries.push({
      origin: `${file}:${index + 1}`,
      format: "one-line",
      types: [type],
      uris: [uri],
      suites: [suite],
      components,
      enabled: true,
      ...(signedBy === undefined ? {} : { signedBy }),
      trusted: yes(options.get("trusted")),
    });
  });
  return entries;
}

/** Stanzas of `Field: value` lines, separated by blank lines; `#` lines are comments. */
export function parseDeb822(text: string, file: string): AptEntry[] {
  const entries: AptEntry[] = [];
  let fields = new Map<string, string>();
  let last: string | undefined;
  let start = 0;
  const flush = (): void => {
    const list = (name: string): string[] => (fields.get(name) ?? "").split(/\s+/).filter((w) => w !== "");
    if (fields.size > 0) {
      const signedBy = fields.get("signed-by");
      entries.push({
        origin: `${file}:${start}`,
        format: "deb822",
        types: list("types"),
        uris: list("uris"),
        suites: list("suites"),
        components: list("components"),
        enabled: fields.has("enabled") ? yes(fields.get("enabled")) : true,
        ...(signedBy === undefined ? {} : { signedBy }),
        trusted: yes(fields.get("trusted")),
      });
    }
    fields = new Map();
    last = undefined;
  };
  text.split("\n").forEach((line, index) => {
    if (line.trim() === "") {
      flush();
      return;
    }
    if (line.startsWith("#")) return;
    if (/^\s/.test(line)) {
      // A continuation line (e.g. an inline Signed-By key): kept as written.
      if (last !== undefined) fields.set(last, `${fields.get(last) ?? ""}\n${line}`);
      return;
    }
    const at = line.indexOf(":");
    if (at <= 0) return;
    if (fields.size === 0) start = index + 1;
    last = line.slice(0, at).trim().toLowerCase();
    fields.set(last, line.slice(at + 1).trim());
  });
  flush();
  return entries;
}

/** What `findDebianArchive` looks for, in words, for the message when nothing matches. */
export function lookedFor(codename: string | undefined): string {
  const preferred = codename === undefined ? "" : `${codename} preferred, else `;
  return `an enabled \`deb\` entry with the \`main\` component of a Debian suite (${preferred}one of ${DEBIAN_SUITE_NAMES.join(", ")}; not a cdrom)`;
}

/**
 * The entry that serves Debian's `main` for the machine's own suite (`codename`, from
 * /etc/os-release), else for any Debian suite name; the first in apt's reading order wins.
 * Security, updates and backports suites (`bookworm-security`, …) never match: they are not the
 * archive that carries every package.
 */
export function findDebianArchive(entries: AptEntry[], codename?: string): DebianArchive | undefined {
  const candidates = entries.flatMap((entry) => {
    // A cdrom carries one release's packages, not the archive.
    const uri = entry.uris.find((u) => !u.startsWith("cdrom:"));
    const usable = entry.enabled && entry.types.includes("deb") && entry.components.includes("main");
    return usable && uri !== undefined ? [{ entry, uri }] : [];
  });
  const serving = (suites: readonly string[]) =>
    candidates.find(({ entry }) => entry.suites.some((s) => suites.includes(s)));
  const found = (codename === undefined ? undefined : serving([codename])) ?? serving(DEBIAN_SUITE_NAMES);
  if (found === undefined) return undefined;
  const { entry, uri } = found;
  return {
    uri,
    format: entry.format,
    ...(entry.signedBy === undefined ? {} : { signedBy: entry.signedBy }),
    trusted: entry.trusted,
    origin: entry.origin,
  };
}

/** An apt URI: a scheme (`http`, `https`, `file`, `mirror+file`, …), then no spaces. */
const MirrorSchema = z.string().regex(/^[a-z][a-z0-9+.-]*:\S+$/, {
  message: "must be an apt source URI with no spaces, e.g. http://mirror.example/debian or file:/srv/debian",
});

/** The Debian archive's own keys, which a mirror of it is signed with. */
export const DEBIAN_ARCHIVE_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";

/** `ZESTER_DEBIAN_MIRROR`, when set: a mirror of Debian's archive, checked with Debian's keys. */
export function mirrorOverride(value: string | undefined, keyringExists: boolean): DebianArchive | undefined {
  if (value === undefined || value === "") return undefined;
  const parsed = MirrorSchema.safeParse(value);
  if (!parsed.success)
    throw new Error(`${MIRROR_OVERRIDE}=${value}: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  return {
    uri: parsed.data,
    format: "one-line",
    ...(keyringExists ? { signedBy: DEBIAN_ARCHIVE_KEYRING } : {}),
    trusted: false,
    origin: MIRROR_OVERRIDE,
  };
}

/**
 * A source list naming `archive` for `suite`'s `main`, in the format it was read in (a deb822
 * Signed-By may hold an inline key, which the one-line format cannot carry).
 */
export function sourceListFor(archive: DebianArchive, suite: string): { name: string; text: string } {
  if (archive.format === "deb822") {
    const lines = ["Types: deb", `URIs: ${archive.uri}`, `Suites: ${suite}`, "Components: main"];
    if (archive.signedBy !== undefined) lines.push(`Signed-By: ${archive.signedBy}`);
    if (archive.trusted) lines.push("Trusted: yes");
    return { name: "debian.sources", text: `${lines.join("\n")}\n` };
  }
  const options = [
    ...(archive.signedBy === undefined ? [] : [`signed-by=${archive.signedBy}`]),
    ...(archive.trusted ? ["trusted=yes"] : []),
  ];
  const bracket = options.length === 0 ? "" : `[${options.join(" ")}] `;
  return { name: "sources.list", text: `deb ${bracket}${archive.uri} ${suite} main\n` };
}

/** VERSION_CODENAME of an os-release text. */
export function codenameOf(osRelease: string): string | undefined {
  const match = /^VERSION_CODENAME=["']?([a-z]+)["']?\s*$/m.exec(osRelease);
  return match?.[1];
}

/** The source files apt reads, in its order: sources.list, then sources.list.d's, sorted. */
function sourceFiles(etcApt: string): { file: string; format: SourceFormat }[] {
  const files: { file: string; format: SourceFormat }[] = [];
  const main = path.join(etcApt, "sources.list");
  if (existsSync(main)) files.push({ file: main, format: "one-line" });
  const parts = path.join(etcApt, "sources.list.d");
  if (existsSync(parts))
    for (const name of readdirSync(parts).sort()) {
      if (name.endsWith(".list")) files.push({ file: path.join(parts, name), format: "one-line" });
      if (name.endsWith(".sources")) files.push({ file: path.join(parts, name), format: "deb822" });
    }
  return files;
}

/**
 * The Debian archive to fetch from: `ZESTER_DEBIAN_MIRROR` if set, else the machine's apt
 * sources' entry for Debian's `main`. Throws, saying what was looked for and how to override,
 * when there is neither.
 */
export function machineDebianArchive(env: NodeJS.ProcessEnv = process.env, etc = "/etc"): DebianArchive {
  const override = mirrorOverride(env[MIRROR_OVERRIDE], existsSync(DEBIAN_ARCHIVE_KEYRING));
  if (override !== undefined) return override;
  const etcApt = path.join(etc, "apt");
  const files = sourceFiles(etcApt);
  const entries = files.flatMap(({ file, format }) => {
    const text = readFileSync(file, "utf8");
    return format === "deb822" ? parseDeb822(text, file) : parseOneLine(text, file);
  });
  const osRelease = path.join(etc, "os-release");
  const codename = existsSync(osRelease) ? codenameOf(readFileSync(osRelease, "utf8")) : undefined;
  const found = findDebianArchive(entries, codename);
  if (found !== undefined) return found;
  const read = files.length === 0 ? `no source files in ${etcApt}` : files.map((f) => f.file).join(", ");
  throw new Error(
    `no Debian archive in this machine's apt sources: looked for ${lookedFor(codename)} in ${read}. ` +
      `Set ${MIRROR_OVERRIDE} to a Debian mirror's URI (e.g. ${MIRROR_OVERRIDE}=http://mirror.example/debian) to fetch from it`,
  );
}
