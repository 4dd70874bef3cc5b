/**
 * Alerts before a certificate of the stack expires: one rule per certificate (the CA, every
 * server's, every link's), from the expiry the TLS provider issued it with. nats-server reports
 * its certificates' expiry only from 2.14.0 (`tls_cert_not_after` in /varz, nats-server#7709) and not for the link certificates it solicits with, so the rules do not rely on it:
 * they compare Prometheus's clock with each certificate's `notAfter`, and change with it when an
 * update renews a certificate. A warning once the next `pulumi up` renews it (a third of its
 * validity left, `earlyRenewalHours`), critical 30 days before it expires. Pure.
 */
import { CERT_VALIDITY_DAYS } from "../topology/tls";

/** A Prometheus rule file (what a PrometheusRule's spec holds). */
export interface AlertRules {
  groups: {
    name: string;
    rules: {
      alert: string;
      expr: string;
      for: string;
      labels: Record<string, string>;
      annotations: Record<string, string>;
    }[];
  }[];
}

/** The rules as a Prometheus rule file; JSON is YAML, and exact. */
export function rulesYaml(rules: AlertRules): string {
  return `${JSON.stringify(rules, null, 2)}\n`;
}

/** Days before expiry the critical alert fires: what an operator needs to renew by hand. */
export const CRITICAL_DAYS = 30;
/** A server or link certificate is renewed by the next update once a third of its validity is left. */
export const RENEW_DAYS = Math.round(CERT_VALIDITY_DAYS.server / 3);
/** The CA is never renewed by an update: its rotation (an overlap, docs/security.md) is started this early. */
export const CA_ROTATE_DAYS = 180;

const DAY_SECONDS = 86_400;

export interface IssuedExpiry {
  /** `ca`, a server's name, or a link's. */
  name: string;
  /** RFC 3339, as the TLS provider's `validityEndTime` gives it. */
  notAfter: string;
}

/** The alert rules for every certificate the stack issued. */
export function certificateAlertRules(certs: IssuedExpiry[], group: string): AlertRules {
  const rules = certs.flatMap((c) => {
    const at = Math.floor(Date.parse(c.notAfter) / 1000);
    if (!Number.isFinite(at)) throw new Error(`certificate ${c.name}: "${c.notAfter}" is no RFC 3339 time`);
    // `vector(…)` makes the clock comparison a one-sample vector, which an alert needs.
    const left = `vector(${String(at)} - time())`;
    const labels = { zester_certificate: c.name };
    const ca = c.name === "ca";
    return [
      {
        alert: ca ? "ZesterCaRotationDue" : "ZesterCertificateRenewDue",
        expr: `${left} < ${String((ca ? CA_ROTATE_DAYS : RENEW_DAYS) * DAY_SECONDS)}`,
        for: "1h",
        labels: { ...labels, severity: "warning" },
        annotations: {
          summary: ca
            ? `The stack's CA expires ${c.notAfter}: rotate it with an overlap (docs/security.md, "Rotating without downtime")`
            : `Certificate ${c.name} expires ${c.notAfter}: the next \`pulumi up\` renews it (and the servers reload it)`,
        },
      },
      {
        alert: "ZesterCertificateExpiresSoon",
        expr: `${left} < ${String(CRITICAL_DAYS * DAY_SECONDS)}`,
        for: "1h",
        labels: { ...labels, severity: "critical" },
        annotations: {
          summary: `Certificate ${c.name} expires ${c.notAfter}: renew it (docs/security.md, "Rotating without downtime") or clients and links fail`,
        },
      },
    ];
  });
  return { groups: [{ name: group, rules }] };
}
