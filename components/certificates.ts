/**
 * The TLS of a topology on a cloud target, made with the Pulumi TLS provider and kept in the
 * stack's state: one CA per stack, a certificate per server with the names and addresses it is
 * reached by (topology/tls.ts), the link certificates. Private keys are secret outputs.
 * Rotating: docs/security.md.
 */
import * as pulumi from "@pulumi/pulumi";
import * as tls from "@pulumi/tls";
import { commonName } from "../topology/auth";
import { CERT_VALIDITY_DAYS, linkCertificates, type CertificateSpec } from "../topology/tls";
import type { Topology } from "../topology/types";
import type { IssuedExpiry } from "./certificate-alerts";
import type { Children } from "./children";

export interface IssuedCertificate {
  cert: pulumi.Output<string>;
  /** Secret. */
  key: pulumi.Output<string>;
}

export interface StackTls {
  /** The CA certificate (PEM): what every client and server verifies the others by. */
  ca: pulumi.Output<string>;
  /** When each certificate issued so far expires (the CA's first): what the expiry alerts watch. */
  expiries(): pulumi.Output<IssuedExpiry[]>;
  /** Issues a certificate for `spec` (once: call it once per certificate). */
  issue(spec: CertificateSpec, ipAddresses?: pulumi.Input<string>[]): IssuedCertificate;
  /** The link certificates the topology needs, by name (`leaf-link`, `region-link`). */
  links: Map<string, IssuedCertificate>;
}

const HOURS_PER_DAY = 24;
/** Renewed (a new certificate, a reload) when a third of its validity is left, at the next update. */
const EARLY_RENEWAL_HOURS = Math.round((CERT_VALIDITY_DAYS.server * HOURS_PER_DAY) / 3);
const ALGORITHM = { algorithm: "ECDSA", ecdsaCurve: "P256" } as const;

/**
 * A PEM as the provider returns it. Mocks that echo a resource's inputs (Pulumi's own example, a
 * test of a program using this component) return none: only then a stand-in naming what it
 * stands for, so the program still runs; a deployed stack always has the PEM.
 */
const pem = (value: pulumi.Output<string>, what: string): pulumi.Output<string> =>
  value.apply((v: string | undefined) => v ?? `(${what}, made at deploy)`);

/**
 * A certificate's expiry as the provider returns it. Mocks that echo a resource's inputs return
 * none: only then a stand-in, a validity from now, so the rules still render; a deployed stack
 * always has it.
 */
const endOf = (value: pulumi.Output<string>, what: string): pulumi.Output<string> =>
  value.apply(
    (v: string | undefined) =>
      v ??
      new Date(
        Date.now() + (what === "CA" ? CERT_VALIDITY_DAYS.ca : CERT_VALIDITY_DAYS.server) * 86_400_000,
      ).toISOString(),
  );

function privateKey(children: Children, local: string): tls.PrivateKey {
  return children.make(`${local}-key`, {}, (name, opts) => new tls.PrivateKey(name, ALGORITHM, opts));
}

export function stackTls(children: Children, t: Topology, stackId: string): StackTls {
  const caKey = privateKey(children, "ca");
  const caCert = children.make("ca", {}, (name, opts) => {
    return new tls.SelfSignedCert(
      name,
      {
        privateKeyPem: caKey.privateKeyPem,
        isCaCertificate: true,
        subject: { commonName: `zester CA ${stackId}` },
        validityPeriodHours: CERT_VALIDITY_DAYS.ca * HOURS_PER_DAY,
        allowedUses: ["cert_signing", "crl_signing"],
      },
      opts,
    );
  });
  const issued: { name: string; notAfter: pulumi.Output<string> }[] = [
    { name: "ca", notAfter: endOf(caCert.validityEndTime, "CA") },
  ];
  const issue = (spec: CertificateSpec, ipAddresses: pulumi.Input<string>[] = []): IssuedCertificate => {
    const key = privateKey(children, `tls-${spec.name}`);
    const request = children.make(`tls-${spec.name}`, {}, (name, opts) => {
      return new tls.CertRequest(
        name,
        {
          privateKeyPem: key.privateKeyPem,
          subject: { commonName: commonName(spec.subject) },
          dnsNames: spec.dnsNames,
          ipAddresses: [...spec.ipAddresses, ...ipAddresses],
        },
        opts,
      );
    });
    const cert = children.make(`tls-${spec.name}`, {}, (name, opts) => {
      return new tls.LocallySignedCert(
        name,
        {
          certRequestPem: request.certRequestPem,
          caPrivateKeyPem: caKey.privateKeyPem,
          caCertPem: caCert.certPem,
          validityPeriodHours: CERT_VALIDITY_DAYS.server * HOURS_PER_DAY,
          earlyRenewalHours: EARLY_RENEWAL_HOURS,
          allowedUses: ["digital_signature", "server_auth", "client_auth"],
        },
        opts,
      );
    });
    issued.push({ name: spec.name, notAfter: endOf(cert.validityEndTime, spec.name) });
    return {
      cert: pem(cert.certPem, `${spec.name} certificate`),
      key: pulumi.secret(pem(key.privateKeyPem, `${spec.name} key`)),
    };
  };
  const links = new Map(linkCertificates(t).map((spec) => [spec.name, issue(spec)]));
  const expiries = () =>
    pulumi
      .all(issued.map((c) => c.notAfter))
      .apply((ends) => issued.map((c, i) => ({ name: c.name, notAfter: ends[i] ?? "" })));
  return { ca: pem(caCert.certPem, "CA certificate"), expiries, issue, links };
}
