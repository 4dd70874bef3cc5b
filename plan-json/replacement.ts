/**
 * Which input changes a provider can only make by replacing the resource (delete and create, or
 * create and delete), per Pulumi type of the plans. The facts are the providers' own:
 *
 * - AWS: @pulumi/aws bridges terraform-provider-aws, whose resource schemas mark such attributes
 *   `ForceNew: true` (SDK resources) or `RequiresReplace()` (framework resources), some only under
 *   a condition (`CustomizeDiff`). Pulumi names them in camelCase (`subnet_id` → `subnetId`) and
 *   renames a few (`aws_lambda_function.function_name` → `name`, `aws_lambda_permission.function_name`
 *   → `function`). Each type names its schema's file in the provider's repository; `read: true`
 *   where that file was read for this table, `false` where the fact is the provider's
 *   documentation as known (the attribute notes "forces new resource").
 * - Kubernetes: pulumi-kubernetes decides itself, in `provider/pkg/provider/diff.go` (its
 *   `forceNew` table) and `provider.go` (`.metadata.name` and `.metadata.namespace` always; a
 *   Secret's and a ConfigMap's data unless the provider sets `enableSecretMutable` /
 *   `enableConfigMapMutable`); read at commit 94977969 (v4.32.0 + 27). A named object it must
 *   replace is deleted before it is created again (same name).
 * - random: every input of `random_password` and `random_bytes` replaces it (its keepers are its
 *   inputs).
 * - tls (terraform-provider-tls): every input of a key, a request or a certificate replaces it
 *   (counted so here even for `earlyRenewalHours`, which may update in place: a preview that
 *   overstates is safer than one that understates).
 *
 * Not modelled: a provider's own config change (it may replace every resource it manages; the
 * real `pulumi preview` decides), and values known only at deploy time.
 */
import { isDeepStrictEqual } from "node:util";

/** A property that forces a replacement when it changes, or only when `when` says so. */
export interface ForcingRule {
  path: string;
  when?: (before: unknown, after: unknown, context: ChangeContext) => boolean;
  /** Why the condition, in words. */
  why?: string;
}

type Inputs = Record<string, unknown>;

/** What a condition may look at: both inputs, and the provider settings that change the rules. */
export interface ChangeContext {
  before: Inputs;
  after: Inputs;
  /** The Kubernetes provider's `enableSecretMutable` / `enableConfigMapMutable`. @default false */
  mutableSecrets?: boolean;
  mutableConfigMaps?: boolean;
}

export interface TypeFacts {
  /** Where the facts come from. */
  source: string;
  /** Whether that source was read for this table (else: the provider's documentation as known). */
  read: boolean;
  /** `"any"`: every input change replaces. */
  forces: (string | ForcingRule)[] | "any";
}

const tf = (file: string, read = false) => ({
  source: `terraform-provider-aws internal/service/${file}`,
  read,
});

const tls = (file: string) => ({ source: `terraform-provider-tls internal/provider/${file}`, read: false });

const k8s = {
  source: "pulumi-kubernetes provider/pkg/provider/diff.go, provider.go (94977969)",
  read: true,
};
const K8S_IDENTITY = ["metadata.name", "metadata.namespace"];
const LABEL_SELECTOR = ["spec.selector"];

const isNetworkLb = (context: ChangeContext) => context.after.loadBalancerType === "network";
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Pulumi type token → what forces its replacement. Every provider type of the plans is here (a test holds it). */
export const REPLACEMENT: Readonly<Record<string, TypeFacts>> = {
  "aws:autoscaling/group:Group": { ...tf("autoscaling/group.go"), forces: ["name", "namePrefix"] },
  "aws:cloudwatch/eventRule:EventRule": {
    ...tf("events/rule.go"),
    forces: ["name", "namePrefix", "eventBusName"],
  },
  "aws:cloudwatch/eventTarget:EventTarget": {
    ...tf("events/target.go"),
    forces: ["rule", "targetId", "eventBusName"],
  },
  "aws:dlm/lifecyclePolicy:LifecyclePolicy": { ...tf("dlm/lifecycle_policy.go"), forces: [] },
  "aws:ebs/volume:Volume": {
    ...tf("ec2/ebs_volume.go"),
    forces: ["availabilityZone", "encrypted", "kmsKeyId", "snapshotId", "outpostArn"],
  },
  "aws:ec2/eip:Eip": {
    ...tf("ec2/vpc_eip.go"),
    forces: ["domain", "address", "networkBorderGroup", "publicIpv4Pool", "customerOwnedIpv4Pool"],
  },
  "aws:ec2/instance:Instance": {
    ...tf("ec2/ec2_instance.go", true),
    forces: [
      "ami",
      "availabilityZone",
      "subnetId",
      "privateIp",
      "associatePublicIpAddress",
      "keyName",
      "placementGroup",
      "tenancy",
      "hostId",
      "ebsOptimized",
      "ephemeralBlockDevices",
      "launchTemplate",
      "rootBlockDevice.encrypted",
      "rootBlockDevice.kmsKeyId",
      {
        path: "userData",
        when: (_b, _a, context) => context.after.userDataReplaceOnChange === true,
        why: "with userDataReplaceOnChange; otherwise the instance is stopped and started",
      },
    ],
  },
  "aws:ec2/internetGateway:InternetGateway": { ...tf("ec2/vpc_internet_gateway.go"), forces: [] },
  "aws:ec2/launchTemplate:LaunchTemplate": { ...tf("ec2/ec2_launch_template.go"), forces: ["name", "namePrefix"] },
  "aws:ec2/natGateway:NatGateway": {
    ...tf("ec2/vpc_nat_gateway.go"),
    forces: ["allocationId", "subnetId", "connectivityType", "privateIp"],
  },
  "aws:ec2/route:Route": {
    ...tf("ec2/vpc_route.go"),
    forces: ["routeTableId", "destinationCidrBlock", "destinationIpv6CidrBlock", "destinationPrefixListId"],
  },
  "aws:ec2/routeTable:RouteTable": { ...tf("ec2/vpc_route_table.go"), forces: ["vpcId"] },
  "aws:ec2/routeTableAssociation:RouteTableAssociation": {
    ...tf("ec2/vpc_route_table_association.go"),
    forces: ["subnetId", "gatewayId"],
  },
  "aws:ec2/securityGroup:SecurityGroup": {
    ...tf("ec2/vpc_security_group.go"),
    forces: ["name", "namePrefix", "description", "vpcId"],
  },
  "aws:ec2/subnet:Subnet": {
    ...tf("ec2/vpc_subnet.go"),
    forces: ["vpcId", "cidrBlock", "availabilityZone", "availabilityZoneId", "outpostArn"],
  },
  "aws:ec2/volumeAttachment:VolumeAttachment": {
    ...tf("ec2/ec2_volume_attachment.go"),
    forces: ["deviceName", "instanceId", "volumeId"],
  },
  "aws:ec2/vpc:Vpc": { ...tf("ec2/vpc_.go"), forces: ["cidrBlock", "ipv4IpamPoolId", "ipv4NetmaskLength"] },
  "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": {
    ...tf("ec2/vpc_peering_connection.go"),
    forces: ["peerOwnerId", "peerRegion", "peerVpcId", "vpcId"],
  },
  "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": {
    ...tf("ec2/vpc_peering_connection_accepter.go"),
    forces: ["vpcPeeringConnectionId"],
  },
  "aws:iam/instanceProfile:InstanceProfile": {
    ...tf("iam/instance_profile.go"),
    forces: ["name", "namePrefix", "path"],
  },
  "aws:iam/role:Role": { ...tf("iam/role.go"), forces: ["name", "namePrefix", "path"] },
  "aws:iam/rolePolicy:RolePolicy": { ...tf("iam/role_policy.go"), forces: ["name", "namePrefix", "role"] },
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
    ...tf("iam/role_policy_attachment.go"),
    forces: ["role", "policyArn"],
  },
  "aws:lambda/function:Function": { ...tf("lambda/function.go"), forces: ["name", "packageType"] },
  // Replacing the invocation is invoking again: the health gate runs whenever its input changes.
  "aws:lambda/invocation:Invocation": {
    ...tf("lambda/invocation.go"),
    forces: ["functionName", "qualifier", "input", "triggers"],
  },
  "aws:lambda/permission:Permission": {
    ...tf("lambda/permission.go"),
    forces: [
      "action",
      "function",
      "principal",
      "sourceArn",
      "sourceAccount",
      "statementId",
      "statementIdPrefix",
      "qualifier",
      "eventSourceToken",
      "principalOrgId",
      "functionUrlAuthType",
    ],
  },
  "aws:lb/listener:Listener": { ...tf("elbv2/listener.go"), forces: ["loadBalancerArn"] },
  "aws:lb/loadBalancer:LoadBalancer": {
    ...tf("elbv2/load_balancer.go"),
    forces: [
      "name",
      "namePrefix",
      "internal",
      "loadBalancerType",
      {
        path: "subnets",
        when: (before, after, context) =>
          isNetworkLb(context) && asList(before).some((s) => !asList(after).includes(s)),
        why: "a network load balancer cannot leave a subnet",
      },
      {
        path: "securityGroups",
        when: (before, after, context) =>
          isNetworkLb(context) && (asList(before).length === 0) !== (asList(after).length === 0),
        why: "a network load balancer gains or loses security groups only when it is created",
      },
    ],
  },
  "aws:lb/targetGroup:TargetGroup": {
    ...tf("elbv2/target_group.go"),
    forces: ["name", "namePrefix", "port", "protocol", "protocolVersion", "vpcId", "targetType", "ipAddressType"],
  },
  "aws:lb/targetGroupAttachment:TargetGroupAttachment": {
    ...tf("elbv2/target_group_attachment.go"),
    forces: ["targetGroupArn", "targetId", "port", "availabilityZone"],
  },
  "aws:route53/record:Record": { ...tf("route53/record.go", true), forces: ["name", "zoneId"] },
  "aws:route53/zone:Zone": { ...tf("route53/zone.go"), forces: ["name", "delegationSetId"] },
  "aws:route53/zoneAssociation:ZoneAssociation": {
    ...tf("route53/zone_association.go"),
    forces: ["zoneId", "vpcId", "vpcRegion"],
  },
  "aws:ssm/parameter:Parameter": {
    ...tf("ssm/parameter.go", true),
    forces: [
      "name",
      "dataType",
      {
        path: "tier",
        when: (before, after) => before === "Advanced" && after === "Standard",
        why: "an Advanced parameter cannot be downgraded to Standard in place",
      },
    ],
  },
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
    ...tf("ec2/vpc_security_group_ingress_rule.go"),
    forces: ["securityGroupId"],
  },
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
    ...tf("ec2/vpc_security_group_egress_rule.go"),
    forces: ["securityGroupId"],
  },
  "random:index/randomPassword:RandomPassword": {
    source: "terraform-provider-random internal/provider/resource_password.go",
    read: false,
    forces: "any",
  },
  "random:index/randomBytes:RandomBytes": {
    source: "terraform-provider-random internal/provider/resource_bytes.go",
    read: false,
    forces: "any",
  },
  // The TLS provider keeps nothing it could change in place: a new input is a new key or certificate.
  "tls:index/privateKey:PrivateKey": { ...tls("resource_private_key.go"), forces: "any" },
  "tls:index/certRequest:CertRequest": { ...tls("resource_cert_request.go"), forces: "any" },
  "tls:index/selfSignedCert:SelfSignedCert": { ...tls("resource_self_signed_cert.go"), forces: "any" },
  "tls:index/locallySignedCert:LocallySignedCert": { ...tls("resource_locally_signed_cert.go"), forces: "any" },
  "kubernetes:apps/v1:StatefulSet": {
    ...k8s,
    forces: [
      ...K8S_IDENTITY,
      "spec.podManagementPolicy",
      "spec.revisionHistoryLimit",
      "spec.serviceName",
      "spec.volumeClaimTemplates",
      ...LABEL_SELECTOR,
    ],
  },
  "kubernetes:apps/v1:DaemonSet": { ...k8s, forces: [...K8S_IDENTITY, ...LABEL_SELECTOR] },
  "kubernetes:batch/v1:Job": {
    ...k8s,
    forces: [...K8S_IDENTITY, "spec.completions", "spec.parallelism", "spec.template", ...LABEL_SELECTOR],
  },
  "kubernetes:batch/v1:CronJob": { ...k8s, forces: K8S_IDENTITY },
  "kubernetes:core/v1:ConfigMap": {
    ...k8s,
    forces: [
      ...K8S_IDENTITY,
      ...["data", "binaryData"].map((path) => ({
        path,
        when: (_b: unknown, _a: unknown, context: ChangeContext) => context.mutableConfigMaps !== true,
        why: "unless the Kubernetes provider sets enableConfigMapMutable",
      })),
    ],
  },
  "kubernetes:core/v1:Namespace": { ...k8s, forces: K8S_IDENTITY },
  "kubernetes:core/v1:PersistentVolumeClaim": {
    ...k8s,
    forces: [...K8S_IDENTITY, "spec.accessModes", "spec.storageClassName", "spec.volumeName", ...LABEL_SELECTOR],
  },
  "kubernetes:core/v1:Secret": {
    ...k8s,
    forces: [
      ...K8S_IDENTITY,
      "type",
      ...["data", "stringData"].map((path) => ({
        path,
        when: (_b: unknown, _a: unknown, context: ChangeContext) => context.mutableSecrets !== true,
        why: "unless the Kubernetes provider sets enableSecretMutable",
      })),
    ],
  },
  "kubernetes:core/v1:Service": { ...k8s, forces: [...K8S_IDENTITY, "spec.clusterIP"] },
  "kubernetes:core/v1:ServiceAccount": { ...k8s, forces: K8S_IDENTITY },
  "kubernetes:rbac.authorization.k8s.io/v1:Role": { ...k8s, forces: K8S_IDENTITY },
  // Kubernetes refuses a changed roleRef: the binding is deleted and created again.
  "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding": { ...k8s, forces: [...K8S_IDENTITY, "roleRef"] },
  "kubernetes:networking.k8s.io/v1:NetworkPolicy": { ...k8s, forces: K8S_IDENTITY },
  "kubernetes:policy/v1:PodDisruptionBudget": { ...k8s, forces: K8S_IDENTITY },
  "kubernetes:monitoring.coreos.com/v1:PodMonitor": { ...k8s, forces: K8S_IDENTITY },
  "kubernetes:monitoring.coreos.com/v1:PrometheusRule": { ...k8s, forces: K8S_IDENTITY },
  "pulumi:providers:aws": { source: "not modelled: a provider's config", read: false, forces: [] },
  "pulumi:providers:kubernetes": { source: "not modelled: a provider's config", read: false, forces: [] },
};

/** Registrations that are not provider resources: nothing to diff (components, reads). */
export const NOT_PROVIDER_RESOURCES = [/^zester:/, /^pulumi:pulumi:StackReference$/];

/** The value at a dot path (`spec.selector`, `rootBlockDevice.encrypted`). */
export function valueAt(value: unknown, path: string): unknown {
  let here = value;
  for (const key of splitPath(path)) {
    if (typeof here !== "object" || here === null) return undefined;
    here = (here as Record<string, unknown>)[key];
  }
  return here;
}

/** `a.b[0]["c.d"]` → ["a", "b", "0", "c.d"]: Pulumi's property paths, as ignoreChanges takes them. */
export function splitPath(path: string): string[] {
  const keys: string[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+|\*)\]|\["([^"]*)"\]/g)) keys.push(m[1] ?? m[2] ?? m[3] ?? "");
  return keys;
}

/** The properties among the changed ones that force `type` to be replaced. */
export function replacingChanges(type: string, context: ChangeContext): string[] {
  const { before, after } = context;
  const facts = REPLACEMENT[type];
  if (facts === undefined) return [];
  if (facts.forces === "any") return isDeepStrictEqual(before, after) ? [] : ["(any input)"];
  const forcing: string[] = [];
  for (const rule of facts.forces) {
    const { path, when } = typeof rule === "string" ? { path: rule, when: undefined } : rule;
    const [was, now] = [valueAt(before, path), valueAt(after, path)];
    if (isDeepStrictEqual(was, now)) continue;
    if (when === undefined || when(was, now, context)) forcing.push(path);
  }
  return forcing;
}
