/**
 * The Kubernetes deployment record's restart key is the pod template's digest: whatever rolls a
 * set's pods (a config's restart part, a sidecar's image or mounts) shows as a restart to the
 * change guard and the preview, and a change the reloader applies does not.
 */
import { planChange } from "../../change/change";
import { kubernetesDeployment, kubernetesLayout } from "../../components/kubernetes/layout";
import { KubernetesSettingsSchema } from "../../components/kubernetes/settings";
import { KUBERNETES } from "../../components/kubernetes/target";
import { plan } from "../../sizing";
import { build } from "../../topology";

function deployed(peels: number, settings: Record<string, unknown> = {}) {
  const s = KubernetesSettingsSchema.parse(settings);
  const topology = build(plan({ peels }), KUBERNETES.addressing(s));
  return kubernetesDeployment(topology, kubernetesLayout(topology, s), s);
}

const actions = (before: ReturnType<typeof deployed>, after: ReturnType<typeof deployed>) =>
  planChange(before, after).changes.map((c) => [c.server, c.action]);

test("a sidecar's image, which only the pod template holds, restarts every pod of the set", () => {
  const before = deployed(2_000);
  const after = deployed(2_000, { reloaderImage: "natsio/nats-server-config-reloader:0.23.1" });
  expect(after.servers.map((s) => s.host)).toEqual(before.servers.map((s) => s.host));
  expect(actions(before, after)).toEqual([
    ["core-0", "restart"],
    ["core-1", "restart"],
    ["core-2", "restart"],
  ]);
  expect(planChange(before, after).refused).toEqual([]);
});

test("a peel count the reloader applies restarts nothing; the same plan again changes nothing", () => {
  const before = deployed(2_000);
  expect(actions(before, deployed(9_000)).map(([, action]) => action)).toEqual(["reload", "reload", "reload"]);
  expect(actions(before, deployed(2_000)).map(([, action]) => action)).toEqual(["none", "none", "none"]);
});
