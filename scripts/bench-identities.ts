/**
 * `npm run bench -- --sections identities`: issuing peels' identities and answering a server's
 * challenge, in one process, as this project does it (Node's Ed25519, topology/nkeys.ts) next to
 * @nats-io/jwt and @nats-io/nkeys (tweetnacl) on a sample, in the same run; reported as a ratio.
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import { encodeUser } from "@nats-io/jwt";
import { createAccount, createUser, fromSeed } from "@nats-io/nkeys";
import { credsAuthenticator } from "../jetstream/connect";
import { completeSeeds } from "../local/identities";
import type { BenchLog } from "./bench-load";
import { issuePeel } from "../topology/identities";
import { publicKeyOf, seedOf } from "../topology/nkeys";

const FLEET = Number(process.env.BENCH_IDENTITIES ?? 10_000);
/** The libraries' pace is measured on a sample: their 10,000 would take minutes. */
const SAMPLE = Number(process.env.BENCH_IDENTITIES_SAMPLE ?? 100);

export interface IdentitiesFigures {
  /** Peels issued in this run, and the libraries' sample. */
  fleet: number;
  sample: number;
  /** Microseconds each: issuing a peel (key, JWT, creds) and answering a server's challenge, ours and the libraries'. */
  issueUs: number;
  libraryIssueUs: number;
  signUs: number;
  librarySignUs: number;
  /** The whole fleet's issuing, in one process. */
  fleetSeconds: number;
}

export async function identitiesSection(log: BenchLog): Promise<IdentitiesFigures> {
  log(`\nIssuing peels' identities (${String(FLEET)}; the libraries on ${String(SAMPLE)})`);
  const seeds = completeSeeds();
  const issuer = { seed: seeds.peelIssuer, account: publicKeyOf(seeds.peelsAccount) };
  const now = Math.floor(Date.now() / 1000);
  let start = performance.now();
  const issued = Array.from({ length: FLEET }, (_, i) =>
    issuePeel(`sim-${String(i)}`, issuer, seedOf("user", randomBytes(32)), now),
  );
  const ours = (performance.now() - start) / FLEET;
  start = performance.now();
  for (const peel of issued) credsAuthenticator(peel.creds)("a-server-nonce-of-22-ch");
  const oursSign = (performance.now() - start) / FLEET;

  const account = createAccount();
  const scoped = fromSeed(new TextEncoder().encode(seeds.peelIssuer));
  start = performance.now();
  for (let i = 0; i < SAMPLE; i++)
    await encodeUser(`sim-${String(i)}`, createUser(), account, {}, { signer: scoped, scopedUser: true });
  const library = (performance.now() - start) / SAMPLE;
  start = performance.now();
  for (let i = 0; i < SAMPLE; i++) createUser().sign(new TextEncoder().encode("a-server-nonce-of-22-ch"));
  const librarySign = (performance.now() - start) / SAMPLE;

  const row = (what: string, ms: number, lib: number): void => {
    log(
      `  ${what.padEnd(40)} ${(ms * 1000).toFixed(0).padStart(7)} µs each   ${(lib / ms).toFixed(0)}× faster than the libraries' ${(lib * 1000).toFixed(0)} µs`,
    );
  };
  row("issue a peel (new key, JWT, creds)", ours, library);
  row("answer a server's challenge", oursSign, librarySign);
  log(`  ${String(FLEET)} identities issued in ${((ours * FLEET) / 1000).toFixed(1)} s in one process`);
  const us = (ms: number): number => Math.round(ms * 1000);
  return {
    fleet: FLEET,
    sample: SAMPLE,
    issueUs: us(ours),
    libraryIssueUs: us(library),
    signUs: us(oursSign),
    librarySignUs: us(librarySign),
    fleetSeconds: Number(((ours * FLEET) / 1000).toFixed(1)),
  };
}
