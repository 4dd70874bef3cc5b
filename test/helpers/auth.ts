/** Identities and TLS files for tests that render or boot configs outside the local target. */
import { ensureCertificates, localTlsFiles } from "../../local/certificates";
import { newSeeds, publicKeys } from "../../local/identities";
import { LOCAL } from "../../local/target";
import type { ClientAuth, ClientRole, PublicKeys, ServerAuth, Seeds } from "../../topology/auth";
import { tlsFilesIn } from "../../topology/tls";
import type { Topology } from "../../topology/types";

/** Fixed-looking public keys for renderer tests (snapshots), never used to connect. */
export const TEST_KEYS: PublicKeys = {
  master: "UMASTERTESTKEY",
  peel: "UPEELTESTKEY",
  reconcile: "URECONCILETESTKEY",
  system: "USYSTEMTESTKEY",
  monitoring: "UMONITORINGTESTKEY",
};

/** A server's auth as the cloud targets lay out its TLS files, with the test keys. */
export function cloudAuth(t: Topology, server: string): ServerAuth {
  const s = t.servers.find((x) => x.name === server);
  if (s === undefined) throw new Error(`no server ${server}`);
  return { keys: TEST_KEYS, tls: tlsFilesIn("/etc/nats/tls", t, s) };
}

export interface TestAuth {
  seeds: Seeds;
  ca: string;
  server(name: string): ServerAuth;
  client(role: ClientRole): ClientAuth;
}

/** Real identities and certificates under `dir`, for a topology booted by hand. */
export async function realAuth(dir: string, t: Topology): Promise<TestAuth> {
  const seeds = newSeeds();
  const ca = await ensureCertificates(dir, t, LOCAL.reachedBy());
  const keys = publicKeys(seeds);
  return {
    seeds,
    ca,
    server: (name) => {
      const s = t.servers.find((x) => x.name === name);
      if (s === undefined) throw new Error(`no server ${name}`);
      return { keys, tls: localTlsFiles(dir, t, s) };
    },
    client: (role) => ({ seed: seeds[role], ca }),
  };
}
