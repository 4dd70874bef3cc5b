/**
 * The certificates a topology needs, as plain data: one per server, carrying every name and
 * address it is reached by, and one per link role a topology has. A target makes them with its
 * own tool (the local target a library, the cloud targets the Pulumi TLS provider) from one CA
 * per stack. Pure.
 */
import { CERT_SUBJECTS, type ServerTlsFiles } from "./auth";
import type { Topology, TopologyServer } from "./types";

/** What one certificate says: its subject and the names and addresses it is valid for. */
export interface CertificateSpec {
  /** The server it belongs to, or the link role. */
  name: string;
  /** A one-attribute distinguished name (`CN=…`). */
  subject: string;
  dnsNames: string[];
  ipAddresses: string[];
}

/** Names a target adds to a server's certificate (load balancers, services, addresses). */
export type ExtraNames = (s: TopologyServer) => { dnsNames?: string[]; ipAddresses?: string[] };

/** How long certificates a target makes are valid (it renews them before; see docs/security.md). */
export const CERT_VALIDITY_DAYS = { ca: 3650, server: 825 } as const;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * A core server's certificate is its route credential (subject `CN=zester-route`); a leaf
 * server's is only its own (subject: its name), so it opens no route and no leaf link.
 */
export function serverCertificate(s: TopologyServer, extra: ExtraNames = () => ({})): CertificateSpec {
  const more = extra(s);
  const names = [s.host, ...(more.dnsNames ?? []), ...(more.ipAddresses ?? [])];
  const unique = [...new Set(names)];
  return {
    name: s.name,
    subject: s.role === "core" ? CERT_SUBJECTS.route : `CN=${s.name}`,
    dnsNames: unique.filter((n) => !IPV4.test(n)),
    ipAddresses: unique.filter((n) => IPV4.test(n)),
  };
}

export function serverCertificates(t: Topology, extra?: ExtraNames): CertificateSpec[] {
  return t.servers.map((s) => serverCertificate(s, extra));
}

/** The link certificates a topology needs: leaf sites', and a supercluster's regions'. */
export function linkCertificates(t: Topology): CertificateSpec[] {
  return [
    ...(t.leafSites.length > 0 ? [{ name: "leaf-link", subject: CERT_SUBJECTS.leafLink }] : []),
    ...(t.regionLinks.length > 0 ? [{ name: "region-link", subject: CERT_SUBJECTS.regionLink }] : []),
  ].map((c) => ({ ...c, dnsNames: [], ipAddresses: [] }));
}

/** Which link certificate a server solicits its hub with, if it solicits one. */
export function linkOf(t: Topology, s: TopologyServer): "leaf-link" | "region-link" | undefined {
  if (s.role === "leaf") return "leaf-link";
  return t.regionLinks.some((l) => l.region === s.region) ? "region-link" : undefined;
}

/** The TLS files of a server under one directory, as the cloud targets lay them out. */
export function tlsFilesIn(dir: string, t: Topology, s: TopologyServer): ServerTlsFiles {
  const link = linkOf(t, s);
  return {
    caFile: `${dir}/ca.pem`,
    certFile: `${dir}/server.pem`,
    keyFile: `${dir}/server-key.pem`,
    ...(link === undefined
      ? {}
      : {
          linkCertFile: `${dir}/${link}.pem`,
          linkKeyFile: `${dir}/${link}-key.pem`,
          linkCredsFile: `${dir}/${link}.creds`,
        }),
  };
}
