/**
 * AWS Signature Version 4, checked on the twin's side of a request (the AWS General Reference,
 * "Create a signed AWS API request"): the canonical request rebuilt from what arrived, the string
 * to sign over the credential's scope, and the signature compared with the one the caller sent.
 * A request that is unsigned, signed with another key, for another region or service, or changed
 * on the way fails as AWS answers it. Pure.
 */
import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export interface ArrivedRequest {
  method: string;
  /** The path and query as sent (`/`, `/?a=b`). */
  url: string;
  /** Header names in lower case (Node's `IncomingMessage.headers`). */
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface Signed {
  accessKeyId: string;
  region: string;
  service: string;
}

export class SignatureError extends Error {
  constructor(
    readonly code: "MissingAuthenticationTokenException" | "InvalidSignatureException" | "UnrecognizedClientException",
    message: string,
  ) {
    super(message);
  }
}

const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([a-z0-9;-]+), ?Signature=([0-9a-f]{64})$/;

const sha256 = (data: string | Buffer): string => createHash("sha256").update(data).digest("hex");
const hmac = (key: Buffer | string, text: string): Buffer => createHmac("sha256", key).update(text).digest();

/** The RFC 3986 encoding SigV4 asks for: unreserved characters kept, the rest %XX (upper case). */
const uriEncode = (text: string, keepSlash: boolean): string =>
  [...Buffer.from(text, "utf8")]
    .map((byte) => {
      const c = String.fromCharCode(byte);
      if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === "/")) return c;
      return `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    })
    .join("");

function canonicalQuery(query: string): string {
  if (query === "") return "";
  return query
    .split("&")
    .map((pair) => {
      const [k = "", v = ""] = pair.split("=");
      return [uriEncode(decodeURIComponent(k), false), uriEncode(decodeURIComponent(v), false)] as const;
    })
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

/** Checks the request's signature with `secretFor(accessKeyId)`; returns who signed it for what. */
export function verify(request: ArrivedRequest, secretFor: (accessKeyId: string) => string | undefined): Signed {
  const header = request.headers.authorization;
  if (typeof header !== "string")
    throw new SignatureError("MissingAuthenticationTokenException", "Request is missing Authentication Token");
  const m = AUTH.exec(header);
  if (m === null) throw new SignatureError("InvalidSignatureException", `Authorization header is malformed: ${header}`);
  const [, accessKeyId = "", date = "", region = "", service = "", signedList = "", signature = ""] = m;
  const secret = secretFor(accessKeyId);
  if (secret === undefined)
    throw new SignatureError("UnrecognizedClientException", "The security token included in the request is invalid.");
  const amzDate = request.headers["x-amz-date"];
  if (typeof amzDate !== "string" || !amzDate.startsWith(date))
    throw new SignatureError("InvalidSignatureException", "X-Amz-Date is missing or outside the credential's date");
  const [pathPart = "/", query = ""] = request.url.split("?", 2);
  const names = signedList.split(";");
  const canonical = [
    request.method,
    uriEncode(decodeURIComponent(pathPart), true),
    canonicalQuery(query),
    names
      .map((n) => {
        const v = request.headers[n];
        return `${n}:${(Array.isArray(v) ? v.join(",") : (v ?? "")).trim().replace(/\s+/g, " ")}\n`;
      })
      .join(""),
    signedList,
    sha256(request.body),
  ].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  const key = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), service), "aws4_request");
  const expected = Buffer.from(createHmac("sha256", key).update(toSign).digest("hex"));
  if (!names.includes("host") || !timingSafeEqual(expected, Buffer.from(signature)))
    throw new SignatureError(
      "InvalidSignatureException",
      "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.",
    );
  return { accessKeyId, region, service };
}
