/** Identities and TLS files for tests that render or boot configs outside the local target. */
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ensureCertificates, localTlsFiles } from "../../local/certificates";
import { completeSeeds } from "../../local/identities";
import { LOCAL } from "../../local/target";
import {
  inboxPrefix,
  type ClientAuth,
  type ClientRole,
  type Seeds,
  type ServerAuth,
  type ServerIdentities,
} from "../../topology/auth";
import { roleCreds, serverIdentities } from "../../topology/identities";
import { linkOf, tlsFilesIn } from "../../topology/tls";
import type { Topology } from "../../topology/types";

/** Stand-ins for the JWTs in renderer tests (snapshots): short, never used to connect. */
export const TEST_IDENTITIES: ServerIdentities = {
  operator: "OPERATOR-JWT",
  accounts: {
    system: { key: "ASYSTEMTESTKEY", jwt: "SYSTEM-ACCOUNT-JWT" },
    app: { key: "AAPPTESTKEY", jwt: "APP-ACCOUNT-JWT" },
    peels: { key: "APEELSTESTKEY", jwt: "PEELS-ACCOUNT-JWT" },
  },
};

/** A server's auth as the cloud targets lay out its TLS files, with the test JWTs. */
export function cloudAuth(t: Topology, server: string): ServerAuth {
  const s = t.servers.find((x) => x.name === server);
  if (s === undefined) throw new Error(`no server ${server}`);
  return { identities: TEST_IDENTITIES, tls: tlsFilesIn("/etc/nats/tls", t, s) };
}

export interface TestAuth {
  seeds: Seeds;
  ca: string;
  server(name: string): ServerAuth;
  client(role: ClientRole): ClientAuth;
}

/** Real identities and certificates under `dir` (the links' credentials too), for a topology booted by hand. */
export async function realAuth(dir: string, t: Topology): Promise<TestAuth> {
  const seeds = completeSeeds();
  const ca = await ensureCertificates(dir, t, LOCAL.reachedBy());
  mkdirSync(dir, { recursive: true });
  const links = { "leaf-link": "leafLink", "region-link": "regionLink" } as const;
  return {
    seeds,
    ca,
    server: (name) => {
      const s = t.servers.find((x) => x.name === name);
      if (s === undefined) throw new Error(`no server ${name}`);
      const link = linkOf(t, s);
      const linkCredsFile = link === undefined ? undefined : path.join(dir, `${link}.creds`);
      if (link !== undefined && linkCredsFile !== undefined)
        writeFileSync(linkCredsFile, roleCreds(seeds, links[link]), { mode: 0o600 });
      return {
        identities: serverIdentities(seeds, t),
        tls: { ...localTlsFiles(dir, t, s), ...(linkCredsFile === undefined ? {} : { linkCredsFile }) },
      };
    },
    client: (role) => ({ creds: roleCreds(seeds, role), ca, inboxPrefix: inboxPrefix(role) }),
  };
}
