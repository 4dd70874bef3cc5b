/**
 * zester-infra as a library: the sizing engine (`plan`) and the two targets as Pulumi components,
 * for use inside anyone's Pulumi program.
 *
 *   import { ZesterAws, plan } from "zester-infra";
 *   const zester = new ZesterAws("zester", { spec: { peels: 25_000 }, settings: { region: "eu-west-1" } });
 */
export { ZesterAws, type ZesterAwsArgs } from "./components/aws/component";
export type { AwsSettingsArgs, NetworkArg, SubnetArg } from "./components/aws/args";
export type { ServerOutput } from "./components/aws/servers";
export { ZesterKubernetes, type ZesterKubernetesArgs } from "./components/kubernetes/component";
export type { KubernetesSettingsArgs } from "./components/kubernetes/args";
export type { ChecklistStatus } from "./components/checklist";
export * from "./sizing";
export { build, standardAddressing, type Topology } from "./topology";
