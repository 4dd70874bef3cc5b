/**
 * The stack's JWTs as the servers will read them: signed by the right keys (checked with
 * @nats-io/jwt's own decoder, which verifies each signature), the same for the same inputs, the
 * peels' account importing exactly what the app exports, its issuer a scoped key whose template
 * is all a peel may do, and the permission model itself as a snapshot a reviewer can read.
 */
import { decode, type Account, type Operator, type User } from "@nats-io/jwt";
import { fromPublic } from "@nats-io/nkeys";
import { credsAuthenticator } from "../../jetstream/connect";
import { completeSeeds } from "../../local/identities";
import { credsParts } from "../../topology/jwt";
import { plan } from "../../sizing";
import { checkPeelId, inboxPrefix } from "../../topology/auth";
import { build, standardAddressing } from "../../topology/build";
import { ISSUED_AT, issuePeel, roleCreds, serverIdentities } from "../../topology/identities";
import { keyPair, seedOf } from "../../topology/nkeys";
import { NAME, peelServices, peelTemplate, rolePermissions } from "../../topology/permissions";

const topology = (peels: number) => build(plan({ peels }), standardAddressing("zester.internal"));
const seeds = completeSeeds();
const jwtOf = (creds: string): string => creds.split("\n")[1] ?? "";

describe("the stack's JWTs", () => {
  const t = topology(60_000);
  const ids = serverIdentities(seeds, t);

  test("each is signed by the key that must sign it, and verifies", () => {
    const operator = decode<Operator>(ids.operator);
    expect(operator.iss).toBe(keyPair(seeds.operator).publicKey);
    expect(operator.nats.system_account).toBe(ids.accounts.system.key);
    for (const account of Object.values(ids.accounts)) {
      const claims = decode<Account>(account.jwt);
      expect([claims.sub, claims.iss, claims.iat]).toEqual([account.key, operator.sub, ISSUED_AT]);
    }
    const master = decode<User>(jwtOf(roleCreds(seeds, "master")));
    // A scoped user: signed by a key the account lists, with no permissions of its own.
    expect(master.nats.issuer_account).toBe(ids.accounts.app.key);
    const app = decode<Account>(ids.accounts.app.jwt);
    const scope = app.nats.signing_keys?.find((k) => typeof k !== "string" && k.key === master.iss);
    expect(scope).toMatchObject({ kind: "user_scope", role: "master" });
    expect(Object.keys(master.nats).sort()).toEqual(["issuer_account", "type", "version"]);
  });

  test("the same seeds, topology and revocations sign the same JWTs; a revocation changes only the peels' account", () => {
    expect(serverIdentities(completeSeeds(seeds), t)).toEqual(ids);
    const revoked = serverIdentities(seeds, t, { UREVOKED: 1_800_000_000 });
    expect(revoked.operator).toBe(ids.operator);
    expect(revoked.accounts.app).toEqual(ids.accounts.app);
    expect(revoked.accounts.peels.jwt).not.toBe(ids.accounts.peels.jwt);
    expect(decode<Account>(revoked.accounts.peels.jwt).nats.revocations).toEqual({ UREVOKED: 1_800_000_000 });
  });

  test("the peels' account imports exactly what the app exports, and its issuer's template is a peel's reach", () => {
    const app = decode<Account>(ids.accounts.app.jwt).nats;
    const peels = decode<Account>(ids.accounts.peels.jwt).nats;
    const { services, streams } = peelServices();
    expect(app.exports?.map((e) => [e.type, e.subject])).toEqual([
      ...services.map((s) => ["service", s]),
      ...streams.map((s) => ["stream", s]),
    ]);
    expect(peels.imports?.map((i) => [i.type, i.subject, i.account])).toEqual(
      app.exports?.map((e) => [e.type, e.subject, ids.accounts.app.key]),
    );
    // JetStream lives in the app account only.
    expect(app.limits?.disk_storage).toBe(-1);
    expect(peels.limits?.disk_storage).toBeUndefined();
    const issuer = peels.signing_keys?.find(
      (k) => typeof k !== "string" && k.key === keyPair(seeds.peelIssuer).publicKey,
    );
    expect(issuer).toEqual({
      kind: "user_scope",
      key: keyPair(seeds.peelIssuer).publicKey,
      role: "peel",
      template: {
        pub: { allow: peelTemplate().publish.allow },
        sub: { allow: peelTemplate().subscribe.allow },
        allowed_connection_types: ["STANDARD"],
      },
    });
  });

  test("a peel's credentials carry its id as its name and nothing else to decide its permissions", () => {
    const issued = issuePeel(
      "peel-7",
      { seed: seeds.peelIssuer, account: ids.accounts.peels.key },
      seedOf("user", new Uint8Array(32).fill(7)),
      1_800_000_000,
    );
    const claims = decode<User>(jwtOf(issued.creds));
    expect(claims).toMatchObject({ name: "peel-7", sub: issued.key, iat: 1_800_000_000 });
    expect(claims.iss).toBe(keyPair(seeds.peelIssuer).publicKey);
    expect(claims.nats).toEqual({ issuer_account: ids.accounts.peels.key, type: "user", version: 2 });
    expect(issued.creds).toContain(seedOf("user", new Uint8Array(32).fill(7)));
  });

  test("a client answers the server's challenge as nats.go does: the JWT of its credentials, the nonce signed by their key, no nkey", () => {
    const creds = roleCreds(seeds, "master");
    const auth = credsAuthenticator(creds)("a-nonce-from-the-server") as { jwt: string; sig: string };
    expect(auth.jwt).toBe(jwtOf(creds));
    // 2.9.10 closes a client naming an nkey at every reload of its authorization (jetstream/connect.ts).
    expect(auth).not.toHaveProperty("nkey");
    // Verified by @nats-io/nkeys (tweetnacl) with the JWT's subject, as the server verifies it.
    const sig = new Uint8Array(Buffer.from(auth.sig, "base64url"));
    const subject = keyPair(seeds.master).publicKey;
    expect(fromPublic(subject).verify(new TextEncoder().encode("a-nonce-from-the-server"), sig)).toBe(true);
    expect(() => credsParts("not creds")).toThrow(/not a \.creds file/);
  });

  test.each(["*", ">", "peel.2", "", "a b", "x".repeat(65)])(
    "a peel id that could widen its template is refused: %j",
    (id) => {
      expect(() => checkPeelId(id)).toThrow(/not accepted; a peel id is 1 to 64 letters, digits/);
      expect(() => issuePeel(id, { seed: seeds.peelIssuer, account: "A" }, seeds.master, 0)).toThrow(/not accepted/);
    },
  );
});

describe("what each identity may do", () => {
  test.each([
    [2_000, "cluster-3"],
    [60_000, "leaf"],
  ])("%i peels (%s): the permission model", (peels) => {
    const t = topology(peels);
    expect({ peelTemplate: peelTemplate(), peelServices: peelServices(), roles: rolePermissions(t) }).toMatchSnapshot();
  });

  test("no identity subscribes to an inbox but its own; a peel to nothing but its inbox and its job subject", () => {
    const t = topology(150_000);
    const roles = rolePermissions(t);
    for (const [role, p] of Object.entries({
      master: roles.master,
      reconcile: roles.reconcile,
      monitoring: roles.monitoring,
    }))
      expect(p.subscribe.allow.filter((s) => s.startsWith("_INBOX"))).toEqual([`${inboxPrefix(role)}.>`]);
    expect(peelTemplate().subscribe.allow).toEqual([`zester.peel.${NAME}.job`, `_INBOX.${NAME}.>`]);
    // No consumer, no stream, no inbox, no account-wide API call, for a peel.
    expect(
      peelTemplate().publish.allow.filter((s) => /CONSUMER|STREAM\.(CREATE|UPDATE|DELETE)|_INBOX|\.INFO$/.test(s)),
    ).toEqual([]);
    // Every write is of its own key, next to a core server and behind a leaf server (its region's domain).
    const writes = peelTemplate().publish.allow.filter((s) => s.includes("$KV."));
    expect(writes.every((s) => s.endsWith(`.${NAME}`))).toBe(true);
    expect(writes).toEqual(expect.arrayContaining([`$KV.facts.${NAME}`, `$JS.*.API.$KV.facts.${NAME}`]));
  });
});
