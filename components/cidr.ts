/** IPv4 CIDRs as settings take them: parsed, and refused with what is accepted. */
import { z } from "zod";

export function parseCidr(text: string): { base: number; prefix: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (m === null) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  // A CIDR whose address has host bits set (10.0.0.1/16) is almost always a typo.
  if (prefix < 32 && base % 2 ** (32 - prefix) !== 0) return undefined;
  return { base, prefix };
}

export const cidr = z.string({ invalid_type_error: "must be a string" }).refine((s) => parseCidr(s) !== undefined, {
  message: "must be an IPv4 CIDR with no host bits set, e.g. 10.20.0.0/16",
});
