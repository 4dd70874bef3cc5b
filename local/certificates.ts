/**
 * The local target's TLS: a CA of its own per state directory, a certificate per server (valid
 * for 127.0.0.1 and localhost, where the servers listen) and the link certificates, made with
 * @peculiar/x509 on Node's WebCrypto (ECDSA P-256), so no `openssl` is needed. Kept under
 * `<state>/tls/`: the CA and every certificate survive `down` and `up` again, so a client's CA
 * file stays valid; what is missing is made.
 */
import "reflect-metadata";
import { webcrypto } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import * as x509 from "@peculiar/x509";
import type { ServerTlsFiles } from "../topology/auth";
import {
  CERT_VALIDITY_DAYS,
  linkCertificates,
  linkOf,
  serverCertificates,
  type CertificateSpec,
  type ExtraNames,
} from "../topology/tls";
import type { Topology, TopologyServer } from "../topology/types";

x509.cryptoProvider.set(webcrypto);

type CryptoKey = webcrypto.CryptoKey;

const ALGORITHM = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" };
const DAY_MS = 86_400_000;
export const TLS_DIR = "tls";

const tlsDir = (stateDir: string): string => path.join(stateDir, TLS_DIR);
export const caFile = (stateDir: string): string => path.join(tlsDir(stateDir), "ca.pem");
const certFile = (stateDir: string, name: string): string => path.join(tlsDir(stateDir), `${name}.pem`);
const keyFile = (stateDir: string, name: string): string => path.join(tlsDir(stateDir), `${name}-key.pem`);

/** Where a local server's TLS files are. */
export function localTlsFiles(stateDir: string, t: Topology, s: TopologyServer): ServerTlsFiles {
  const link = linkOf(t, s);
  return {
    caFile: caFile(stateDir),
    certFile: certFile(stateDir, s.name),
    keyFile: keyFile(stateDir, s.name),
    ...(link === undefined ? {} : { linkCertFile: certFile(stateDir, link), linkKeyFile: keyFile(stateDir, link) }),
  };
}

async function pemKey(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey("pkcs8", key)).toString("base64");
  return `-----BEGIN PRIVATE KEY-----\n${(der.match(/.{1,64}/g) ?? []).join("\n")}\n-----END PRIVATE KEY-----\n`;
}

async function importKey(pem: string): Promise<CryptoKey> {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ""), "base64");
  return webcrypto.subtle.importKey("pkcs8", der, ALGORITHM, true, ["sign"]);
}

const serial = (): string =>
  Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString("hex")
    .replace(/^[89a-f]/, "1");

interface Issuer {
  cert: x509.X509Certificate;
  key: CryptoKey;
}

/** The state directory's CA: made once, its key kept next to it (mode 0600). */
async function ensureCa(stateDir: string): Promise<Issuer> {
  const [certPath, keyPath] = [caFile(stateDir), keyFile(stateDir, "ca")];
  if (existsSync(certPath) && existsSync(keyPath))
    return {
      cert: new x509.X509Certificate(readFileSync(certPath, "utf8")),
      key: await importKey(readFileSync(keyPath, "utf8")),
    };
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=zester local CA ${path.basename(stateDir)}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + CERT_VALIDITY_DAYS.ca * DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  writeFileSync(keyPath, await pemKey(keys.privateKey), { mode: 0o600 });
  writeFileSync(certPath, cert.toString("pem"), { mode: 0o644 });
  return { cert, key: keys.privateKey };
}

/** A certificate for servers and links alike: TLS server and client (routes and links are both). */
export async function issue(issuer: Issuer, spec: CertificateSpec): Promise<{ cert: string; key: string }> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const now = Date.now();
  const names = [
    ...spec.dnsNames.map((value) => ({ type: "dns" as const, value })),
    ...spec.ipAddresses.map((value) => ({ type: "ip" as const, value })),
  ];
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serial(),
    subject: spec.subject,
    issuer: issuer.cert.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + CERT_VALIDITY_DAYS.server * DAY_MS),
    signingAlgorithm: ALGORITHM,
    publicKey: keys.publicKey,
    signingKey: issuer.key,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      ...(names.length === 0 ? [] : [new x509.SubjectAlternativeNameExtension(names)]),
      await x509.AuthorityKeyIdentifierExtension.create(issuer.cert),
    ],
  });
  return { cert: cert.toString("pem"), key: await pemKey(keys.privateKey) };
}

/**
 * Makes whatever of the topology's certificates is missing, each server's valid for the names it
 * is reached by (the local target's: LOCAL.reachedBy); returns the CA (PEM).
 */
export async function ensureCertificates(stateDir: string, t: Topology, reachedBy: ExtraNames): Promise<string> {
  mkdirSync(tlsDir(stateDir), { recursive: true, mode: 0o700 });
  const ca = await ensureCa(stateDir);
  for (const spec of [...serverCertificates(t, reachedBy), ...linkCertificates(t)]) {
    if (existsSync(certFile(stateDir, spec.name)) && existsSync(keyFile(stateDir, spec.name))) continue;
    const made = await issue(ca, spec);
    writeFileSync(keyFile(stateDir, spec.name), made.key, { mode: 0o600 });
    writeFileSync(certFile(stateDir, spec.name), made.cert, { mode: 0o644 });
  }
  return ca.cert.toString("pem");
}

/** A CA of another stack, with a server certificate it signed: what a server must never accept. */
export async function foreignIssuer(name: string): Promise<Issuer> {
  const keys = await webcrypto.subtle.generateKey(ALGORITHM, true, ["sign", "verify"]);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serial(),
    name: `CN=${name}`,
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + DAY_MS),
    keys,
    signingAlgorithm: ALGORITHM,
    extensions: [new x509.BasicConstraintsExtension(true, 0, true)],
  });
  return { cert, key: keys.privateKey };
}

export type { Issuer };

/** One certificate of the state directory and when it expires. */
export interface CertificateExpiry {
  /** `ca`, a server's name, or a link's (`leaf-link`, `region-link`). */
  name: string;
  subject: string;
  file: string;
  /** ISO 8601. */
  notAfter: string;
  /** Whole days from `now` until it expires (negative once it has). */
  daysLeft: number;
}

/** Every certificate the topology's servers and links use, read from its file, with its expiry. */
export function certificateExpiries(stateDir: string, t: Topology, now = Date.now()): CertificateExpiry[] {
  const names = ["ca", ...t.servers.map((s) => s.name), ...linkCertificates(t).map((c) => c.name)];
  return names.flatMap((name) => {
    const file = name === "ca" ? caFile(stateDir) : certFile(stateDir, name);
    if (!existsSync(file)) return [];
    const cert = new x509.X509Certificate(readFileSync(file, "utf8"));
    return [
      {
        name,
        subject: cert.subject,
        file,
        notAfter: cert.notAfter.toISOString(),
        daysLeft: Math.floor((cert.notAfter.getTime() - now) / DAY_MS),
      },
    ];
  });
}
