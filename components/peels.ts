/**
 * The peels a cloud stack issues credentials to itself, and the peels it revokes, as both
 * targets' settings take them (`peelCredentials`, `revokedPeels`). Each issued peel gets a key of
 * its own (random bytes kept in the stack's state) and credentials signed by the peels' issuer,
 * kept in the target's secret store (an SSM SecureString, a Kubernetes Secret) for that peel's
 * host alone. Peels enrolled by Zester's masters (which hold the issuer) are revoked by their
 * public key. Pure but for the zod schemas' use.
 */
import { z } from "zod";
import { PEEL_ID, type Revocations } from "../topology/auth";
import { ISSUED_AT, issuePeel } from "../topology/identities";
import { publicKeyOf } from "../topology/nkeys";

/**
 * Up to when a revoked key's credentials are refused: 2100-01-01, every JWT ever issued for it.
 * A fixed time, so the account's JWT (in every config) is the same at every update; a peel
 * issued again gets a new key.
 */
export const REVOKED_FOR_GOOD = 4_102_444_800;

const PEEL_ID_MESSAGE = 'a peel id is 1 to 64 letters, digits, "-" or "_"';
const USER_KEY = /^U[A-Z2-7]{55}$/;

const peelId = z.string().regex(PEEL_ID, { message: PEEL_ID_MESSAGE });

/** `peelCredentials`: the ids the stack issues credentials to, each once. */
export const PeelCredentialsSchema = z
  .array(peelId)
  .default([])
  .superRefine((ids, ctx) => {
    const seen = new Set<string>();
    for (const [i, id] of ids.entries()) {
      if (seen.has(id)) ctx.addIssue({ code: "custom", path: [i], message: `"${id}" is listed twice` });
      seen.add(id);
    }
  });

/** `revokedPeels`: an id the stack issued credentials to, or the public key (`U…`) of any peel. */
export const RevokedPeelsSchema = z
  .array(
    z.string().refine((v) => PEEL_ID.test(v) || USER_KEY.test(v), {
      message: `must be a peel id of peelCredentials (${PEEL_ID_MESSAGE}) or a peel's public key (U followed by 55 letters and digits)`,
    }),
  )
  .default([]);

/** A revoked id the stack never issued: what to give instead. */
export function revokedProblems(
  issued: readonly string[],
  revoked: readonly string[],
): { index: number; message: string }[] {
  return revoked.flatMap((r, index) =>
    USER_KEY.test(r) || issued.includes(r)
      ? []
      : [
          {
            index,
            message: `"${r}" is no peel this stack issued credentials to (peelCredentials); a peel enrolled by a master is revoked by its public key (U…)`,
          },
        ],
  );
}

/** The peels' account's revocations: each revoked key, refused for good. */
export function revocationsOf(revoked: readonly string[], peelSeeds: Record<string, string>): Revocations {
  return Object.fromEntries(
    revoked.map((r) => {
      const seed = peelSeeds[r];
      return [USER_KEY.test(r) || seed === undefined ? r : publicKeyOf(seed), REVOKED_FOR_GOOD];
    }),
  );
}

/** An issued peel's `.creds`, signed by the issuer, the same at every update. */
export const stackIssuedCreds = (peel: string, issuer: { seed: string; account: string }, peelSeed: string): string =>
  issuePeel(peel, issuer, peelSeed, ISSUED_AT).creds;
