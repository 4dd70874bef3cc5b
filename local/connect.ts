/**
 * How a client connects to a running local topology as the Zester app (the master's identity):
 * its URLs and credentials, a `nats` CLI context file, and the command that uses it. Written
 * under the state directory at every `up`, read by `status`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { USERS } from "../topology/auth";
import { clientUrl, type Topology } from "../topology/types";
import type { LocalState } from "./state";

/** The `nats` CLI's context name; its file is `<connect dir>/nats/context/<name>.json`. */
export const CONTEXT_NAME = "zester-local";
/** Under the state directory: what a client needs, readable by this user only. */
export const CONNECT_DIR = "connect";

export interface ConnectInfo {
  /** Client URLs of the hub region's core servers (where the Zester masters connect). */
  servers: string[];
  user: string;
  password: string;
}

export interface ConnectFiles {
  /** The `nats` CLI context (servers and credentials), for `XDG_CONFIG_HOME=<configHome>`. */
  context: string;
  /** What to point `XDG_CONFIG_HOME` at so `nats --context zester-local` finds the context. */
  configHome: string;
}

export function connectInfo(t: Topology, state: Pick<LocalState, "secrets">): ConnectInfo {
  const hub = t.clusters[0];
  if (hub === undefined) throw new Error("a topology has at least one cluster");
  return {
    servers: t.servers.filter((s) => s.cluster === hub.name).map(clientUrl),
    user: USERS.app,
    password: state.secrets.app,
  };
}

export function connectFiles(stateDir: string): ConnectFiles {
  const configHome = path.join(stateDir, CONNECT_DIR);
  return { configHome, context: path.join(configHome, "nats", "context", `${CONTEXT_NAME}.json`) };
}

/** Writes the context file (mode 0600): the nats CLI's own format (url, user, password). */
export function writeConnectFiles(stateDir: string, info: ConnectInfo): ConnectFiles {
  const files = connectFiles(stateDir);
  mkdirSync(path.dirname(files.context), { recursive: true, mode: 0o700 });
  const context = {
    description: "the local Zester topology, as the Zester app (zester-infra)",
    url: info.servers.join(","),
    user: info.user,
    password: info.password,
  };
  writeFileSync(files.context, `${JSON.stringify(context, null, 2)}\n`, { mode: 0o600 });
  return files;
}

/** What `up` and `status` print: where to connect and how, never the password itself. */
export function connectLines(info: ConnectInfo, files: ConnectFiles): string[] {
  return [
    "Connect a client (the Zester app's identity):",
    `  servers:  ${info.servers.join(",")}`,
    `  user:     ${info.user} (password in the context file, or \`status --json\`'s connect.password)`,
    `  context:  ${files.context}`,
    `  nats CLI: XDG_CONFIG_HOME=${files.configHome} nats --context ${CONTEXT_NAME} kv ls`,
  ];
}
