/**
 * The Kubernetes target's shape (change/target.ts): a pod per server behind its StatefulSet's
 * headless Service, on NATS's ports; the layout decides the objects of each region; the
 * deployment record is what the next update compares; a tier transition's report is a ConfigMap
 * in the core namespace. Pure.
 */
import type { Target } from "../../change/target";
import { kubernetesAddressing, kubernetesDeployment, kubernetesLayout, type KubernetesLayout } from "./layout";
import type { KubernetesSettings } from "./settings";

/** The ConfigMap (in the core namespace) whose `report` key the reconcile job writes. */
export const TRANSITION_CONFIGMAP = "zester-transition";

export const KUBERNETES: Target<KubernetesSettings, KubernetesLayout> = {
  name: "kubernetes",
  addressing: (s) => kubernetesAddressing({ core: s.namespace, leaf: s.leafNamespace }),
  layout: kubernetesLayout,
  deployment: kubernetesDeployment,
  reportPlace: (s) => ({ configMap: TRANSITION_CONFIGMAP, namespace: s.namespace }),
};
