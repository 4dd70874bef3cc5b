/**
 * Every listener of every server's config, in every tier, has TLS: the client port verifies
 * nothing of its clients (they authenticate with NKeys) but presents the server's certificate;
 * routes and leaf links are mutual TLS mapped by the certificate's subject; every leaf remote
 * has a `tls {}` block with the link's certificate (the block, not the URL's scheme, is what
 * makes nats-server dial TLS); there is no gateway and no password. The cloud
 * targets and the local target render through the same function, so this covers what each runs.
 */
import { plan } from "../../sizing";
import { build, standardAddressing } from "../../topology";
import type { ConfBlock, ConfValue } from "../../topology/render/nats-conf-format";
import { natsServerConfig, renderNatsServerConf } from "../../topology/render/nats-server-conf";
import { cloudAuth } from "../helpers/auth";
import { TIER_EXAMPLES } from "../helpers/tiers";

const VERSIONS = ["2.9.10", "2.15.1"];

const isBlock = (v: ConfValue | undefined): v is ConfBlock => typeof v === "object" && !Array.isArray(v);

function block(parent: ConfBlock, key: string): ConfBlock {
  const v = parent[key];
  if (!isBlock(v)) throw new Error(`no ${key} {} block`);
  return v;
}

/**
 * The TLS files a listener (or a remote) must name, and what it asks of its peer: routes map the
 * peer's certificate to the route identity; leaf listeners verify it (the link's credentials then
 * say who it is: operator mode maps no certificate).
 */
function expectTls(owner: ConfBlock, where: string, peer?: "map" | "verify"): void {
  const tls = block(owner, "tls");
  for (const key of ["cert_file", "key_file", "ca_file"])
    expect({ where, key, value: typeof tls[key] }).toEqual({ where, key, value: "string" });
  if (peer === "map") expect({ where, verify_and_map: tls.verify_and_map }).toEqual({ where, verify_and_map: true });
  if (peer === "verify") expect({ where, verify: tls.verify }).toEqual({ where, verify: true });
}

describe.each(VERSIONS)("nats-server %s", (version) => {
  test.each(TIER_EXAMPLES)("%s (%d peels): every listener of every server has TLS", (_tier, peels) => {
    const t = build(plan({ peels }), standardAddressing("zester.internal"));
    let remotes = 0;
    for (const s of t.servers) {
      const input = { topology: t, server: s.name, version, storeDir: "/data", auth: cloudAuth(t, s.name) };
      const config = natsServerConfig(input);
      expectTls(config, `${s.name} client listener`);
      expect(config.gateway).toBeUndefined();
      if (config.cluster !== undefined) expectTls(block(config, "cluster"), `${s.name} routes`, "map");
      if (config.leafnodes !== undefined) {
        const leafnodes = block(config, "leafnodes");
        if (leafnodes.listen !== undefined) expectTls(leafnodes, `${s.name} leafnode listener`, "verify");
        const list = leafnodes.remotes;
        for (const remote of Array.isArray(list) ? list : []) {
          if (!isBlock(remote)) throw new Error(`${s.name}: a leaf remote is not a block`);
          expectTls(remote, `${s.name} leaf remote`);
          // The link's own credentials, in the account its traffic belongs to.
          expect(typeof remote.credentials).toBe("string");
          const urls = remote.urls;
          expect(Array.isArray(urls) && urls.length > 0).toBe(true);
          remotes++;
        }
      }
      // Nothing a client could log in with: public keys and file paths only.
      expect(renderNatsServerConf(input)).not.toMatch(/\b(password|pass|token|seed)\s*:|-----BEGIN|\bSU[A-Z2-7]{50,}/);
    }
    // The tiers with leaf servers or regions have remotes to check; the others none.
    expect(remotes > 0).toBe(t.servers.some((s) => s.role === "leaf") || t.regionLinks.length > 0);
  });
});
