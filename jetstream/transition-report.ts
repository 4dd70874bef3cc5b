/**
 * Where the reconcile job writes a transition's report, on each cloud target: AWS, a String SSM
 * parameter (with the SDK the Lambda Node.js runtime ships, loaded only there, like ssm-seed.ts);
 * Kubernetes, the `report` key of a ConfigMap the stack declares, patched through the API server
 * with the pod's ServiceAccount token (a Role lets it patch that one ConfigMap and nothing else).
 */
import { readFileSync } from "node:fs";
import { request } from "node:https";
import { createRequire } from "node:module";
import { TRANSITION_REPORT_KEY, type TransitionReport } from "../change/phased";
import type { ReportWriter } from "./transition-job";

interface SsmPutModule {
  SSMClient: new (config: { region: string }) => { send(command: unknown): Promise<unknown> };
  PutParameterCommand: new (input: { Name: string; Value: string; Type: "String"; Overwrite: boolean }) => unknown;
}

const SERVICE_ACCOUNT = "/var/run/secrets/kubernetes.io/serviceaccount";

async function putParameter(name: string, region: string, report: TransitionReport): Promise<void> {
  const sdk = createRequire(__filename)("@aws-sdk/client-ssm") as SsmPutModule;
  const client = new sdk.SSMClient({ region });
  await client.send(
    new sdk.PutParameterCommand({ Name: name, Value: JSON.stringify(report), Type: "String", Overwrite: true }),
  );
}

function patchConfigMap(namespace: string, name: string, report: TransitionReport): Promise<void> {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? "443";
  if (host === undefined)
    throw new Error("KUBERNETES_SERVICE_HOST is not set: the report is written from inside a pod");
  const body = JSON.stringify({ data: { [TRANSITION_REPORT_KEY]: JSON.stringify(report) } });
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host,
        port,
        method: "PATCH",
        path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps/${encodeURIComponent(name)}`,
        ca: readFileSync(`${SERVICE_ACCOUNT}/ca.crt`),
        headers: {
          authorization: `Bearer ${readFileSync(`${SERVICE_ACCOUNT}/token`, "utf8").trim()}`,
          "content-type": "application/merge-patch+json",
          "content-length": Buffer.byteLength(body),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve();
          else
            reject(
              new Error(
                `writing the report into ConfigMap ${namespace}/${name}: HTTP ${String(status)} ${Buffer.concat(chunks).toString("utf8").slice(0, 500)}`,
              ),
            );
        });
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}

/** The writer the deployed job uses: by where the job names. */
export const targetReportWriter: ReportWriter = (report, where) =>
  "ssmParameter" in where
    ? putParameter(where.ssmParameter, where.region, report)
    : patchConfigMap(where.namespace, where.configMap, report);
