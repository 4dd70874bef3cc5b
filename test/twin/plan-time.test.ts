/**
 * What only a provider knows at deploy time, made for real by the twins' providers while the
 * program runs: keys and certificates that verify, random bytes that are random, and all of it
 * kept by the resources the next `up` keeps.
 */
import { X509Certificate, createPrivateKey } from "node:crypto";
import { runProgramWithMocks } from "../../scripts/plan-mocks";
import { stackConfig } from "../../scripts/stack-file";
import { up } from "../../twin/engine/engine";
import { PlanTimeAnswers } from "../../twin/engine/plan-time";
import { Providers, type TwinProvider } from "../../twin/engine/provider";
import { EMPTY_STATE, type StackState } from "../../twin/engine/state";
import { targetResources } from "../../twin/engine/steps";
import { randomProvider } from "../../twin/providers/random";
import {
  makeCertRequest,
  makeLocallySigned,
  makePrivateKey,
  makeSelfSigned,
  tlsProvider,
} from "../../twin/providers/tls";

const text = (value: unknown): string => {
  if (typeof value !== "string") throw new Error(`not a string: ${JSON.stringify(value)}`);
  return value;
};

describe("the TLS provider as the twins run it", () => {
  test("an ECDSA P256 key, a CA and a certificate signed from a request that carries names and addresses", async () => {
    const caKey = makePrivateKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
    expect(text(caKey.privateKeyPem)).toMatch(/^-----BEGIN EC PRIVATE KEY-----/);
    expect(text(caKey.privateKeyPemPkcs8)).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    const ca = await makeSelfSigned({
      privateKeyPem: caKey.privateKeyPem,
      isCaCertificate: true,
      subject: { commonName: "zester CA test" },
      validityPeriodHours: 24,
      allowedUses: ["cert_signing", "crl_signing"],
    });
    const serverKey = makePrivateKey({ algorithm: "ECDSA", ecdsaCurve: "P256" });
    const request = await makeCertRequest({
      privateKeyPem: serverKey.privateKeyPem,
      subject: { commonName: "zester-route" },
      dnsNames: ["core-0.zester.internal"],
      ipAddresses: ["10.0.1.10"],
    });
    const signed = await makeLocallySigned({
      certRequestPem: request.certRequestPem,
      caPrivateKeyPem: caKey.privateKeyPem,
      caCertPem: ca.certPem,
      validityPeriodHours: 24 * 825,
      earlyRenewalHours: 24 * 275,
      allowedUses: ["digital_signature", "server_auth", "client_auth"],
    });
    const caCert = new X509Certificate(text(ca.certPem));
    const cert = new X509Certificate(text(signed.certPem));
    expect(caCert.ca).toBe(true);
    expect(cert.verify(caCert.publicKey)).toBe(true);
    expect(cert.checkIssued(caCert)).toBe(true);
    expect(cert.subject).toBe("CN=zester-route");
    expect(cert.checkHost("core-0.zester.internal")).toBe("core-0.zester.internal");
    expect(cert.checkIP("10.0.1.10")).toBe("10.0.1.10");
    expect(cert.checkPrivateKey(createPrivateKey(text(serverKey.privateKeyPem)))).toBe(true);
    expect(signed.readyForRenewal).toBe(false);
    expect(Date.parse(text(signed.validityEndTime)) - Date.parse(text(signed.validityStartTime))).toBe(
      825 * 86_400_000,
    );
  });

  test("a curve WebCrypto cannot sign with is refused, naming it", () => {
    expect(() => makePrivateKey({ algorithm: "ECDSA" })).toThrow(/ecdsaCurve P224: the twin makes P256, P384, P521/);
  });
});

/** A provider for every other type of the plan that only records (the program's view is what is checked). */
function recorder(types: string[]): TwinProvider {
  return {
    types,
    create: () => Promise.resolve({}),
    update: () => Promise.resolve({}),
    delete: () => Promise.resolve(),
  };
}

async function planUnderTwin(state: StackState, sets: string[] = []) {
  const { project, config } = stackConfig("staging", sets);
  const everything = new Providers([tlsProvider, randomProvider]);
  const answers = new PlanTimeAnswers(state, everything);
  const planned = await runProgramWithMocks(project, "staging", config, {
    answer: (r) => answers.answer(r),
    ...(state.outputs === null ? {} : { previousOutputs: state.outputs }),
  });
  return { ...planned, answers: answers.answers() };
}

const parameter = (resources: { name: string; inputs: Record<string, unknown> }[], name: string): string =>
  text(resources.find((r) => r.name === name)?.inputs.value);

describe("a plan run under the twin's answers", () => {
  test("the certificates the program hands its servers are real, and an up that keeps them keeps them", async () => {
    const first = await planUnderTwin(EMPTY_STATE);
    const ca = new X509Certificate(parameter(first.resources, "zester-core-0-file-ca.pem"));
    const server = new X509Certificate(parameter(first.resources, "zester-core-0-file-server.pem"));
    expect(server.verify(ca.publicKey)).toBe(true);
    expect(
      server.checkPrivateKey(createPrivateKey(parameter(first.resources, "zester-core-0-file-server-key.pem"))),
    ).toBe(true);
    // Two servers, two keys.
    expect(parameter(first.resources, "zester-core-1-file-server-key.pem")).not.toBe(
      parameter(first.resources, "zester-core-0-file-server-key.pem"),
    );

    // Apply it (every other type only recorded), then plan again over what was applied.
    const resources = targetResources(first.resources);
    const others = [...new Set(resources.map((r) => r.type))].filter(
      (t) => !t.startsWith("tls:") && !t.startsWith("random:"),
    );
    let state: StackState = structuredClone(EMPTY_STATE);
    const applied = await up(
      state,
      { resources, outputs: first.outputs, answers: first.answers },
      { providers: new Providers([tlsProvider, randomProvider, recorder(others)]), save: (s) => (state = s) },
    );
    expect(applied.ok).toBe(true);
    const second = await planUnderTwin(state);
    for (const name of ["zester-core-0-file-ca.pem", "zester-core-0-file-server.pem", "zester-kv-reconcile-seed"])
      expect(parameter(second.resources, name)).toBe(parameter(first.resources, name));
  }, 60_000);
});
