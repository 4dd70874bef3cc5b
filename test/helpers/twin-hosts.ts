/**
 * What the twin's host tests share: a CA and the server certificates it signs (the TLS
 * provider's code, as a stack's `tls` resources would make them), a server's monitoring endpoint
 * read on its own host, and waiting for a condition.
 */
import type { CertificateSpec } from "../../topology/tls";
import { commonName } from "../../topology/auth";
import type { Sandbox } from "../../twin/host/sandbox";
import { makeCertRequest, makeLocallySigned, makePrivateKey, makeSelfSigned } from "../../twin/providers/tls";

export interface TwinCa {
  certPem: string;
  keyPem: string;
}

export async function twinCa(): Promise<TwinCa> {
  const key = makePrivateKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
  const ca = await makeSelfSigned({
    privateKeyPem: key.privateKeyPem,
    isCaCertificate: true,
    subject: { commonName: "zester CA twin" },
    validityPeriodHours: 24,
    allowedUses: ["cert_signing", "crl_signing"],
  });
  return { certPem: String(ca.certPem), keyPem: String(key.privateKeyPem) };
}

/** A server's certificate and key, for the names and subject its spec gives. */
export async function issued(ca: TwinCa, spec: CertificateSpec): Promise<{ certPem: string; keyPem: string }> {
  const key = makePrivateKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
  const request = await makeCertRequest({
    privateKeyPem: key.privateKeyPem,
    subject: { commonName: commonName(spec.subject) },
    dnsNames: spec.dnsNames,
    ipAddresses: spec.ipAddresses,
  });
  const cert = await makeLocallySigned({
    certRequestPem: request.certRequestPem,
    caPrivateKeyPem: ca.keyPem,
    caCertPem: ca.certPem,
    validityPeriodHours: 24,
    allowedUses: ["digital_signature", "server_auth", "client_auth"],
  });
  return { certPem: String(cert.certPem), keyPem: String(key.privateKeyPem) };
}

/** The server's monitoring endpoint, read on its own host ({} when it does not answer). */
export async function monitorOn(sandbox: Sandbox, host: string, endpoint: string): Promise<Record<string, unknown>> {
  const r = await sandbox.run(host, [
    "node",
    "-e",
    `fetch("http://127.0.0.1:8222/${endpoint}").then(r=>r.json()).then(j=>console.log(JSON.stringify(j)),e=>{console.log("{}");})`,
  ]);
  return JSON.parse(r.stdout || "{}") as Record<string, unknown>;
}

export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
