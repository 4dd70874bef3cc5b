/**
 * The Pulumi TLS provider (which bridges terraform-provider-tls) as the twins run it: keys,
 * requests and certificates really made, at plan time, from the resources' inputs, so everything
 * the program derives from them (files holding a certificate, their digests) is what a deployed
 * stack would hold. Like the provider, it keeps everything in the state and touches nothing
 * outside it: create records, delete forgets; every input change replaces (plan-json/replacement.ts).
 *
 * Formats follow the provider's documentation (registry.terraform.io/providers/hashicorp/tls,
 * resources private_key, cert_request, self_signed_cert, locally_signed_cert): `privateKeyPem`
 * is PKCS#1 for RSA, SEC 1 for ECDSA and PKCS#8 for ED25519; `privateKeyPemPkcs8` is PKCS#8;
 * a locally signed certificate takes its subject and names from the request. ECDSA keys are
 * P256, P384 or P521 here (the provider also makes P224, which WebCrypto cannot sign with: asked
 * for, it is an error naming it).
 */
import "reflect-metadata";
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  webcrypto,
  type KeyObject,
} from "node:crypto";
import * as x509 from "@peculiar/x509";
import type { TwinProvider } from "../engine/provider";

x509.cryptoProvider.set(webcrypto);

type Json = Record<string, unknown>;
const HOUR_MS = 3_600_000;

export const TLS_TYPES = {
  privateKey: "tls:index/privateKey:PrivateKey",
  certRequest: "tls:index/certRequest:CertRequest",
  selfSignedCert: "tls:index/selfSignedCert:SelfSignedCert",
  locallySignedCert: "tls:index/locallySignedCert:LocallySignedCert",
} as const;

const CURVES: Record<string, { node: string; web: string; hash: string }> = {
  P256: { node: "prime256v1", web: "P-256", hash: "SHA-256" },
  P384: { node: "secp384r1", web: "P-384", hash: "SHA-384" },
  P521: { node: "secp521r1", web: "P-521", hash: "SHA-512" },
};

const text = (inputs: Json, key: string): string | undefined =>
  typeof inputs[key] === "string" ? inputs[key] : undefined;
const list = (inputs: Json, key: string): string[] =>
  Array.isArray(inputs[key]) ? inputs[key].filter((v): v is string => typeof v === "string") : [];
const number = (inputs: Json, key: string): number | undefined =>
  typeof inputs[key] === "number" ? inputs[key] : undefined;

function required(inputs: Json, key: string, type: string): string {
  const value = text(inputs, key);
  if (value === undefined) throw new Error(`${type} needs ${key}, a PEM; the plan gives none`);
  return value;
}

/** A private key as the provider makes it. */
export function makePrivateKey(inputs: Json): Json {
  const algorithm = text(inputs, "algorithm") ?? "RSA";
  let pair;
  let legacy: "pkcs1" | "sec1" | "pkcs8";
  if (algorithm === "RSA") {
    pair = generateKeyPairSync("rsa", { modulusLength: number(inputs, "rsaBits") ?? 2048 });
    legacy = "pkcs1";
  } else if (algorithm === "ECDSA") {
    const curveName = text(inputs, "ecdsaCurve") ?? "P224";
    const curve = CURVES[curveName];
    if (curve === undefined)
      throw new Error(`tls PrivateKey ecdsaCurve ${curveName}: the twin makes ${Object.keys(CURVES).join(", ")}`);
    pair = generateKeyPairSync("ec", { namedCurve: curve.node });
    legacy = "sec1";
  } else if (algorithm === "ED25519") {
    pair = generateKeyPairSync("ed25519");
    legacy = "pkcs8";
  } else throw new Error(`tls PrivateKey algorithm ${algorithm}: the provider accepts RSA, ECDSA, ED25519`);
  const publicDer = pair.publicKey.export({ type: "spki", format: "der" });
  return {
    algorithm,
    privateKeyPem: pair.privateKey.export({ type: legacy, format: "pem" }),
    privateKeyPemPkcs8: pair.privateKey.export({ type: "pkcs8", format: "pem" }),
    publicKeyPem: pair.publicKey.export({ type: "spki", format: "pem" }),
    publicKeyFingerprintSha256: createHash("sha256").update(publicDer).digest("base64"),
    id: createHash("sha1").update(publicDer).digest("hex"),
  };
}

/** What WebCrypto imports and signs a key of the provider's algorithms with. */
interface KeyAlgorithm {
  name: string;
  namedCurve?: string;
  hash?: string;
}

function algorithmOf(key: KeyObject): KeyAlgorithm {
  if (key.asymmetricKeyType === "rsa") return { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  if (key.asymmetricKeyType === "ed25519") return { name: "Ed25519" };
  if (key.asymmetricKeyType === "ec") {
    const named = key.asymmetricKeyDetails?.namedCurve;
    const curve = Object.values(CURVES).find((c) => c.node === named);
    if (curve === undefined) throw new Error(`an ECDSA key on ${String(named)}: the twin signs with P256, P384, P521`);
    return { name: "ECDSA", namedCurve: curve.web, hash: curve.hash };
  }
  throw new Error(`a ${String(key.asymmetricKeyType)} key: the TLS provider makes RSA, ECDSA and ED25519 keys`);
}

/** A PEM private key of any of the provider's formats, as WebCrypto signing keys. */
async function signingKeys(pem: string): Promise<{ keys: webcrypto.CryptoKeyPair; algorithm: KeyAlgorithm }> {
  const key = createPrivateKey(pem);
  const algorithm = algorithmOf(key);
  const pkcs8 = key.export({ type: "pkcs8", format: "der" });
  const spki = createPublicKey(key).export({ type: "spki", format: "der" });
  const privateKey = await webcrypto.subtle.importKey("pkcs8", pkcs8, algorithm, true, ["sign"]);
  const publicKey = await webcrypto.subtle.importKey("spki", spki, algorithm, true, ["verify"]);
  return { keys: { privateKey, publicKey }, algorithm };
}

/** `subject` as the provider takes it (commonName, organization, …) → an X.500 name. */
function subjectName(inputs: Json): string {
  const subject = (inputs.subject ?? {}) as Json;
  const parts: [string, string][] = [
    ["CN", "commonName"],
    ["O", "organization"],
    ["OU", "organizationalUnit"],
    ["L", "locality"],
    ["ST", "province"],
    ["C", "country"],
    ["serialNumber", "serialNumber"],
  ];
  return parts
    .flatMap(([attribute, key]) => {
      const value = text(subject, key);
      return value === undefined ? [] : [`${attribute}=${value.replace(/([,+"\\<>;=])/g, "\\$1")}`];
    })
    .join(", ");
}

const KEY_USAGE: Record<string, x509.KeyUsageFlags> = {
  digital_signature: x509.KeyUsageFlags.digitalSignature,
  content_commitment: x509.KeyUsageFlags.nonRepudiation,
  key_encipherment: x509.KeyUsageFlags.keyEncipherment,
  data_encipherment: x509.KeyUsageFlags.dataEncipherment,
  key_agreement: x509.KeyUsageFlags.keyAgreement,
  cert_signing: x509.KeyUsageFlags.keyCertSign,
  crl_signing: x509.KeyUsageFlags.cRLSign,
  encipher_only: x509.KeyUsageFlags.encipherOnly,
  decipher_only: x509.KeyUsageFlags.decipherOnly,
};
const EXTENDED_USAGE: Record<string, string> = {
  server_auth: x509.ExtendedKeyUsage.serverAuth,
  client_auth: x509.ExtendedKeyUsage.clientAuth,
  code_signing: x509.ExtendedKeyUsage.codeSigning,
  email_protection: x509.ExtendedKeyUsage.emailProtection,
  timestamping: x509.ExtendedKeyUsage.timeStamping,
  ocsp_signing: x509.ExtendedKeyUsage.ocspSigning,
};

function usageExtensions(inputs: Json): x509.Extension[] {
  const uses = list(inputs, "allowedUses");
  const unknown = uses.filter((u) => !(u in KEY_USAGE) && !(u in EXTENDED_USAGE) && u !== "any_extended");
  if (unknown.length > 0)
    throw new Error(
      `tls allowedUses ${unknown.join(", ")}: the twin knows ${[...Object.keys(KEY_USAGE), ...Object.keys(EXTENDED_USAGE)].join(", ")}`,
    );
  const flags = uses.reduce<number>((all, use) => all | (KEY_USAGE[use] ?? 0), 0);
  const extended = uses.flatMap((u) => (EXTENDED_USAGE[u] === undefined ? [] : [EXTENDED_USAGE[u]]));
  return [
    // KeyUsageFlags is a bit set: a union of flags is no single member of the enum.
    // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
    ...(flags === 0 ? [] : [new x509.KeyUsagesExtension(flags, true)]),
    ...(extended.length === 0 ? [] : [new x509.ExtendedKeyUsageExtension(extended)]),
    new x509.BasicConstraintsExtension(inputs.isCaCertificate === true, undefined, true),
  ];
}

function namesExtension(dnsNames: string[], ipAddresses: string[]): x509.Extension[] {
  const names = [
    ...dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...ipAddresses.map((value) => ({ type: "ip" as const, value })),
  ];
  return names.length === 0 ? [] : [new x509.SubjectAlternativeNameExtension(names)];
}

const serial = (): string => `01${randomBytes(15).toString("hex")}`;

function validity(inputs: Json, type: string, now: number): { notBefore: Date; notAfter: Date } {
  const hours = number(inputs, "validityPeriodHours");
  if (hours === undefined) throw new Error(`${type} needs validityPeriodHours; the plan gives none`);
  return { notBefore: new Date(now), notAfter: new Date(now + hours * HOUR_MS) };
}

function certificateOutputs(cert: x509.X509Certificate, inputs: Json, now: number): Json {
  const early = number(inputs, "earlyRenewalHours") ?? 0;
  return {
    certPem: cert.toString("pem").replace(/\r\n/g, "\n") + "\n",
    validityStartTime: cert.notBefore.toISOString().replace(/\.\d+Z$/, "Z"),
    validityEndTime: cert.notAfter.toISOString().replace(/\.\d+Z$/, "Z"),
    readyForRenewal: now >= cert.notAfter.getTime() - early * HOUR_MS,
    id: BigInt(`0x${cert.serialNumber}`).toString(),
  };
}

export async function makeSelfSigned(inputs: Json, now = Date.now()): Promise<Json> {
  const { keys, algorithm } = await signingKeys(required(inputs, "privateKeyPem", "tls SelfSignedCert"));
  const name = subjectName(inputs);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: name,
    issuer: name,
    ...validity(inputs, "tls SelfSignedCert", now),
    signingAlgorithm: algorithm,
    publicKey: keys.publicKey,
    signingKey: keys.privateKey,
    extensions: [
      ...usageExtensions(inputs),
      ...namesExtension(list(inputs, "dnsNames"), list(inputs, "ipAddresses")),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return certificateOutputs(cert, inputs, now);
}

export async function makeCertRequest(inputs: Json): Promise<Json> {
  const { keys, algorithm } = await signingKeys(required(inputs, "privateKeyPem", "tls CertRequest"));
  const request = await x509.Pkcs10CertificateRequestGenerator.create({
    name: subjectName(inputs),
    keys,
    signingAlgorithm: algorithm,
    extensions: namesExtension(list(inputs, "dnsNames"), list(inputs, "ipAddresses")),
  });
  return { certRequestPem: request.toString("pem").replace(/\r\n/g, "\n") + "\n", keyAlgorithm: algorithm.name };
}

export async function makeLocallySigned(inputs: Json, now = Date.now()): Promise<Json> {
  const type = "tls LocallySignedCert";
  const request = new x509.Pkcs10CertificateRequest(required(inputs, "certRequestPem", type));
  if (!(await request.verify())) throw new Error(`${type}: the certificate request's signature does not verify`);
  const ca = new x509.X509Certificate(required(inputs, "caCertPem", type));
  const { keys, algorithm } = await signingKeys(required(inputs, "caPrivateKeyPem", type));
  const names = request.extensions.find((e) => e instanceof x509.SubjectAlternativeNameExtension);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: request.subject,
    issuer: ca.subject,
    ...validity(inputs, type, now),
    signingAlgorithm: algorithm,
    publicKey: request.publicKey,
    signingKey: keys.privateKey,
    extensions: [
      ...usageExtensions(inputs),
      ...(names === undefined ? [] : [names]),
      await x509.AuthorityKeyIdentifierExtension.create(ca),
    ],
  });
  return certificateOutputs(cert, inputs, now);
}

const MAKERS: Record<string, (inputs: Json) => Json | Promise<Json>> = {
  [TLS_TYPES.privateKey]: makePrivateKey,
  [TLS_TYPES.certRequest]: makeCertRequest,
  [TLS_TYPES.selfSignedCert]: (inputs) => makeSelfSigned(inputs),
  [TLS_TYPES.locallySignedCert]: (inputs) => makeLocallySigned(inputs),
};

/** The TLS provider: everything is made at plan time and lives in the state only. */
export const tlsProvider: TwinProvider = {
  types: Object.values(TLS_TYPES),
  async plan(resource) {
    const make = MAKERS[resource.type];
    if (make === undefined) throw new Error(`the TLS provider makes no ${resource.type}`);
    const outputs = await make(resource.inputs);
    return { id: typeof outputs.id === "string" ? outputs.id : `${resource.name}-${serial()}`, outputs };
  },
  create: () => Promise.resolve({}),
  update: () => Promise.resolve({}),
  delete: () => Promise.resolve(),
};
