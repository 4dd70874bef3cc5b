/**
 * A peel host's bootstrap carries no other peel's secret: without a peel it holds none at all
 * (enrollment puts the peel's credentials in place), with one it holds that peel's credentials
 * alone, readable by root only, and the config names the peel's own inbox. Both pass
 * `cloud-init schema`.
 */
import { parse } from "yaml";
import { completeSeeds } from "../../local/identities";
import { plan } from "../../sizing";
import { build, standardAddressing } from "../../topology/build";
import { issuePeel, serverIdentities } from "../../topology/identities";
import { seedOf } from "../../topology/nkeys";
import { PEEL_CREDENTIALS, renderPeelBootstrap } from "../../topology/render/peel-bootstrap";
import { cloudInitSchema } from "../helpers/tools";

interface CloudConfig {
  write_files: { path: string; content: string; permissions: string }[];
}

const t = build(plan({ peels: 2_000 }), standardAddressing("zester.internal"));
const seeds = completeSeeds();
const issuer = { seed: seeds.peelIssuer, account: serverIdentities(seeds, t).accounts.peels.key };
const peel = (id: string, fill: number) => issuePeel(id, issuer, seedOf("user", new Uint8Array(32).fill(fill)), 0);

describe("a peel host's bootstrap", () => {
  test("without a peel: no credentials, no seed of anyone's; the config names where enrollment puts them", () => {
    const text = renderPeelBootstrap({ topology: t, region: "main", ca: "CA PEM" });
    const doc = parse(text.replace(/^#cloud-config\n/, "")) as CloudConfig;
    expect(doc.write_files.map((f) => f.path)).not.toContain(PEEL_CREDENTIALS.credsFile);
    expect(text).not.toMatch(/S[OAU][A-Z2-7]{56}|NATS USER JWT/);
    const config = parse(doc.write_files.find((f) => f.path.endsWith("peel.yaml"))?.content ?? "") as {
      nats: Record<string, unknown>;
    };
    expect(config.nats.credentials).toBe(PEEL_CREDENTIALS.credsFile);
    expect(cloudInitSchema(text).out).toMatch(/Valid cloud-config/);
  });

  test("with a peel: its own credentials alone (0600), and its own inbox", () => {
    const own = peel("peel-1", 1);
    const other = peel("peel-2", 2);
    const text = renderPeelBootstrap({
      topology: t,
      region: "main",
      ca: "CA PEM",
      peel: { id: "peel-1", creds: own.creds },
    });
    const doc = parse(text.replace(/^#cloud-config\n/, "")) as CloudConfig;
    expect(doc.write_files.find((f) => f.path === PEEL_CREDENTIALS.credsFile)).toMatchObject({
      content: own.creds,
      permissions: "0600",
    });
    expect(text).not.toContain(seedOf("user", new Uint8Array(32).fill(2)));
    expect(text).not.toContain(other.key);
    const config = parse(doc.write_files.find((f) => f.path.endsWith("peel.yaml"))?.content ?? "") as {
      nats: Record<string, unknown>;
    };
    expect(config.nats.inbox_prefix).toBe("_INBOX.peel-1");
    expect(cloudInitSchema(text).out).toMatch(/Valid cloud-config/);
  });

  test("a peel id that is no subject token is refused before anything is rendered", () => {
    expect(() =>
      renderPeelBootstrap({ topology: t, region: "main", ca: "CA", peel: { id: "peel.*", creds: "x" } }),
    ).toThrow(/peel id "peel\.\*": not accepted/);
  });
});
