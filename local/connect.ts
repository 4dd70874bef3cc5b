/**
 * How a client connects to a running local topology: as the Zester app (the master's identity)
 * by default, or as any other role, or as a peel (`creds --peel ID` issues its own). Its URLs,
 * the role's `.creds` file and inbox prefix, the CA file it verifies the servers by, a `nats`
 * CLI context file per role and the command that uses it. Written under the state directory at
 * every `up`, read by `status`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { CLIENT_ROLES, inboxPrefix, type ClientRole } from "../topology/auth";
import { clientUrl, type Topology } from "../topology/types";
import { caFile } from "./certificates";
import { credsFile } from "./identities";

/** The `nats` CLI's context of the Zester app; the other roles' are `zester-local-<role>`. */
export const CONTEXT_NAME = "zester-local";
/** Under the state directory: the CLI's contexts, as `XDG_CONFIG_HOME` lays them out. */
export const CONNECT_DIR = "connect";

export interface ConnectInfo {
  /** Client URLs of the hub region's core servers (where the Zester masters connect). */
  servers: string[];
  /** The Zester app's credentials file (`nats --creds`, nats.js `credsAuthenticator`). */
  credsFile: string;
  /** The Zester app's inbox prefix: the only inbox its permissions allow (`nats --inbox-prefix`). */
  inboxPrefix: string;
  /** The CA the servers' certificates are verified by: they accept TLS only. */
  tls: { caFile: string };
  /** Every role's credentials file and inbox prefix (auth.ts; what each may do: docs/security.md). */
  roles: Record<ClientRole, { credsFile: string; inboxPrefix: string }>;
}

export interface ConnectFiles {
  /** The `nats` CLI context of each role, the app's first. */
  contexts: Record<ClientRole, string>;
  /** What to point `XDG_CONFIG_HOME` at so `nats --context zester-local` finds the contexts. */
  configHome: string;
}

export const contextName = (role: ClientRole): string => (role === "master" ? CONTEXT_NAME : `${CONTEXT_NAME}-${role}`);

export function connectInfo(t: Topology, stateDir: string): ConnectInfo {
  const hub = t.clusters[0];
  if (hub === undefined) throw new Error("a topology has at least one cluster");
  return {
    servers: t.servers.filter((s) => s.cluster === hub.name).map(clientUrl),
    credsFile: credsFile(stateDir, "master"),
    inboxPrefix: inboxPrefix("master"),
    tls: { caFile: caFile(stateDir) },
    roles: Object.fromEntries(
      CLIENT_ROLES.map((role) => [role, { credsFile: credsFile(stateDir, role), inboxPrefix: inboxPrefix(role) }]),
    ) as ConnectInfo["roles"],
  };
}

/** Writes a context per role (mode 0600): the nats CLI's own format (url, creds, ca, inbox prefix); no secret inside. */
export function writeConnectFiles(stateDir: string, info: ConnectInfo): ConnectFiles {
  const configHome = path.join(stateDir, CONNECT_DIR);
  const dir = path.join(configHome, "nats", "context");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const contexts = {} as Record<ClientRole, string>;
  for (const role of CLIENT_ROLES) {
    const file = path.join(dir, `${contextName(role)}.json`);
    const context = {
      description: `the local Zester topology, as ${role} (zester-infra)`,
      url: info.servers.join(","),
      creds: info.roles[role].credsFile,
      ca: info.tls.caFile,
      inbox_prefix: info.roles[role].inboxPrefix,
    };
    writeFileSync(file, `${JSON.stringify(context, null, 2)}\n`, { mode: 0o600 });
    contexts[role] = file;
  }
  return { configHome, contexts };
}

/** What `up` and `status` print: where to connect and with which files, never a seed. */
export function connectLines(info: ConnectInfo, files: ConnectFiles): string[] {
  return [
    "Connect a client (the Zester app's identity; TLS only):",
    `  servers:  ${info.servers.join(",")}`,
    `  creds:    ${info.credsFile} (inbox prefix ${info.inboxPrefix})`,
    `  CA:       ${info.tls.caFile}`,
    `  context:  ${files.contexts.master}`,
    `  nats CLI: XDG_CONFIG_HOME=${files.configHome} nats --context ${CONTEXT_NAME} kv ls`,
    `  other roles: ${CLIENT_ROLES.filter((r) => r !== "master")
      .map(contextName)
      .join(", ")} (e.g. --context ${contextName("system")} server list)`,
    "  a peel:   npm run -s local -- creds --peel ID (its own credentials; inbox prefix _INBOX.<ID>)",
  ];
}
