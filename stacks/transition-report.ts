/**
 * Reading back the reconcile job's tier transition report before anything is declared: on AWS
 * the SSM parameter its function writes (an invoke of `aws:ssm/getParameter`; a parameter not
 * written yet is no report), on Kubernetes the ConfigMap the stack declares and its Job fills in
 * (a read of that object). Checked with zod: it crosses from the job to this update. Each loads
 * its target's provider SDK when called: a stack loads only its own target's.
 */
import { parseReport, TRANSITION_REPORT_KEY, type TransitionReport } from "../change/phased";

export async function ssmReport(name: string, region: string): Promise<TransitionReport | undefined> {
  const aws = await import("@pulumi/aws");
  let value: string | undefined;
  try {
    value = (await aws.ssm.getParameter({ name, region })).value;
  } catch (error) {
    // The function writes the parameter when it first reports: until then there is none.
    if (/ParameterNotFound/.test(String(error))) return undefined;
    throw error;
  }
  return parseReport(value, `SSM parameter ${name}`);
}

/** The logical name of the read (shown by `pulumi preview` as a read). */
export const REPORT_READ = "zester-transition-read";

export async function configMapReport(
  place: { configMap: string; namespace: string },
  context: string | undefined,
): Promise<TransitionReport | undefined> {
  const { namespace, configMap } = place;
  const k8s = await import("@pulumi/kubernetes");
  const provider = context === undefined ? undefined : new k8s.Provider(`${REPORT_READ}-reader`, { context });
  const map = k8s.core.v1.ConfigMap.get(
    REPORT_READ,
    `${namespace}/${configMap}`,
    provider === undefined ? {} : { provider },
  );
  const data = await new Promise<Record<string, string> | undefined>((resolve) => {
    map.data.apply((d) => {
      resolve(d);
      return d;
    });
  });
  return parseReport(data?.[TRANSITION_REPORT_KEY], `ConfigMap ${namespace}/${configMap}`);
}
