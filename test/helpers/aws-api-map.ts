/**
 * From each Pulumi AWS type the plans contain to the AWS API operation(s) the provider calls to
 * create it, and from each of its inputs (Pulumi's camelCase path, `[]` for a list's elements)
 * to the API member it becomes, written `Operation.Member.Member[].Member` as in botocore's
 * models. test/helpers/aws-api-check.ts walks a resource's inputs through this table; an input
 * the table does not name is reported, never skipped, so coverage grows only by an entry here or
 * in NOT_COVERED_YET below, each with its reason.
 */

/** How one Pulumi input reaches the API. */
export type FieldMap =
  /** Sent as it is to this member, e.g. "RunInstances.InstanceType". */
  | string
  /** A Pulumi map sent as a list of `{ key, value }` structures (tags, DLM target tags). */
  | { keyValueList: string; key: string; value: string }
  /** A Pulumi list sent as one string joined by `separator` (Auto Scaling's subnet ids). */
  | { joined: string; separator: string }
  /** A Pulumi value the provider converts before sending; `how` says what the provider does. */
  | { api: string; convert: (value: unknown) => unknown; how: string }
  /** A list the provider sends one call per element: no list bound applies; elements are walked. */
  | { perElement: string }
  /** An input the provider keeps to itself (no API member); the reason says what it does instead. */
  | { notSent: string };

export interface TypeMap {
  /** botocore's service name (the folder under botocore/data/). */
  service: string;
  fields: Record<string, FieldMap>;
}

/** EC2 takes tags at creation as TagSpecifications[].Tags, a list of { Key, Value }. */
const ec2Tags = (operation: string): FieldMap => ({
  keyValueList: `${operation}.TagSpecifications[].Tags`,
  key: "Key",
  value: "Value",
});
const tagList = (member: string): FieldMap => ({ keyValueList: member, key: "Key", value: "Value" });

/** The security group rule resources (aws:vpc/…) each call Authorize…(one IpPermission). */
const ruleFields = (op: string): Record<string, FieldMap> => ({
  securityGroupId: `${op}.GroupId`,
  ipProtocol: `${op}.IpPermissions[].IpProtocol`,
  fromPort: `${op}.IpPermissions[].FromPort`,
  toPort: `${op}.IpPermissions[].ToPort`,
  cidrIpv4: `${op}.IpPermissions[].IpRanges[].CidrIp`,
  referencedSecurityGroupId: `${op}.IpPermissions[].UserIdGroupPairs[].GroupId`,
  // With a referenced group the description goes to UserIdGroupPairs[].Description: the same shape.
  description: `${op}.IpPermissions[].IpRanges[].Description`,
  tags: ec2Tags(op),
});

export const AWS_API_MAP: Record<string, TypeMap> = {
  "aws:autoscaling/group:Group": {
    service: "autoscaling",
    fields: {
      minSize: "CreateAutoScalingGroup.MinSize",
      maxSize: "CreateAutoScalingGroup.MaxSize",
      desiredCapacity: "CreateAutoScalingGroup.DesiredCapacity",
      "launchTemplate.id": "CreateAutoScalingGroup.LaunchTemplate.LaunchTemplateId",
      "launchTemplate.version": "CreateAutoScalingGroup.LaunchTemplate.Version",
      vpcZoneIdentifiers: { joined: "CreateAutoScalingGroup.VPCZoneIdentifier", separator: "," },
      tags: "CreateAutoScalingGroup.Tags",
      "tags[].key": "CreateAutoScalingGroup.Tags[].Key",
      "tags[].value": "CreateAutoScalingGroup.Tags[].Value",
      "tags[].propagateAtLaunch": "CreateAutoScalingGroup.Tags[].PropagateAtLaunch",
    },
  },
  "aws:cloudwatch/eventRule:EventRule": {
    service: "events",
    fields: {
      scheduleExpression: "PutRule.ScheduleExpression",
      description: "PutRule.Description",
      tags: tagList("PutRule.Tags"),
    },
  },
  "aws:cloudwatch/eventTarget:EventTarget": {
    service: "events",
    fields: {
      rule: "PutTargets.Rule",
      arn: "PutTargets.Targets[].Arn",
    },
  },
  "aws:dlm/lifecyclePolicy:LifecyclePolicy": {
    service: "dlm",
    fields: {
      description: "CreateLifecyclePolicy.Description",
      state: "CreateLifecyclePolicy.State",
      "policyDetails.resourceTypes": "CreateLifecyclePolicy.PolicyDetails.ResourceTypes",
      "policyDetails.targetTags": tagList("CreateLifecyclePolicy.PolicyDetails.TargetTags"),
      "policyDetails.schedules": "CreateLifecyclePolicy.PolicyDetails.Schedules",
      "policyDetails.schedules[].name": "CreateLifecyclePolicy.PolicyDetails.Schedules[].Name",
      "policyDetails.schedules[].copyTags": "CreateLifecyclePolicy.PolicyDetails.Schedules[].CopyTags",
      "policyDetails.schedules[].createRule.interval":
        "CreateLifecyclePolicy.PolicyDetails.Schedules[].CreateRule.Interval",
      "policyDetails.schedules[].createRule.intervalUnit":
        "CreateLifecyclePolicy.PolicyDetails.Schedules[].CreateRule.IntervalUnit",
      "policyDetails.schedules[].retainRule.count": "CreateLifecyclePolicy.PolicyDetails.Schedules[].RetainRule.Count",
      tags: "CreateLifecyclePolicy.Tags",
    },
  },
  "aws:ebs/volume:Volume": {
    service: "ec2",
    fields: {
      availabilityZone: "CreateVolume.AvailabilityZone",
      size: "CreateVolume.Size",
      type: "CreateVolume.VolumeType",
      iops: "CreateVolume.Iops",
      throughput: "CreateVolume.Throughput",
      encrypted: "CreateVolume.Encrypted",
      tags: ec2Tags("CreateVolume"),
    },
  },
  "aws:ec2/eip:Eip": {
    service: "ec2",
    fields: { domain: "AllocateAddress.Domain", tags: ec2Tags("AllocateAddress") },
  },
  "aws:ec2/instance:Instance": {
    service: "ec2",
    fields: {
      ami: "RunInstances.ImageId",
      instanceType: "RunInstances.InstanceType",
      subnetId: "RunInstances.SubnetId",
      vpcSecurityGroupIds: "RunInstances.SecurityGroupIds",
      userData: "RunInstances.UserData",
      iamInstanceProfile: "RunInstances.IamInstanceProfile.Name",
      userDataReplaceOnChange: { notSent: "tells the provider to replace the instance when user data changes" },
      "creditSpecification.cpuCredits": "RunInstances.CreditSpecification.CpuCredits",
      "metadataOptions.httpEndpoint": "RunInstances.MetadataOptions.HttpEndpoint",
      "metadataOptions.httpTokens": "RunInstances.MetadataOptions.HttpTokens",
      "rootBlockDevice.volumeSize": "RunInstances.BlockDeviceMappings[].Ebs.VolumeSize",
      "rootBlockDevice.volumeType": "RunInstances.BlockDeviceMappings[].Ebs.VolumeType",
      "rootBlockDevice.encrypted": "RunInstances.BlockDeviceMappings[].Ebs.Encrypted",
      tags: ec2Tags("RunInstances"),
    },
  },
  "aws:ec2/internetGateway:InternetGateway": {
    service: "ec2",
    fields: { vpcId: "AttachInternetGateway.VpcId", tags: ec2Tags("CreateInternetGateway") },
  },
  "aws:ec2/launchTemplate:LaunchTemplate": {
    service: "ec2",
    fields: {
      imageId: "CreateLaunchTemplate.LaunchTemplateData.ImageId",
      instanceType: "CreateLaunchTemplate.LaunchTemplateData.InstanceType",
      userData: "CreateLaunchTemplate.LaunchTemplateData.UserData",
      "iamInstanceProfile.name": "CreateLaunchTemplate.LaunchTemplateData.IamInstanceProfile.Name",
      vpcSecurityGroupIds: "CreateLaunchTemplate.LaunchTemplateData.SecurityGroupIds",
      "metadataOptions.httpEndpoint": "CreateLaunchTemplate.LaunchTemplateData.MetadataOptions.HttpEndpoint",
      "metadataOptions.httpTokens": "CreateLaunchTemplate.LaunchTemplateData.MetadataOptions.HttpTokens",
      tags: ec2Tags("CreateLaunchTemplate"),
    },
  },
  "aws:ec2/natGateway:NatGateway": {
    service: "ec2",
    fields: {
      allocationId: "CreateNatGateway.AllocationId",
      subnetId: "CreateNatGateway.SubnetId",
      tags: ec2Tags("CreateNatGateway"),
    },
  },
  "aws:ec2/route:Route": {
    service: "ec2",
    fields: {
      routeTableId: "CreateRoute.RouteTableId",
      destinationCidrBlock: "CreateRoute.DestinationCidrBlock",
      natGatewayId: "CreateRoute.NatGatewayId",
      gatewayId: "CreateRoute.GatewayId",
      vpcPeeringConnectionId: "CreateRoute.VpcPeeringConnectionId",
    },
  },
  "aws:ec2/routeTable:RouteTable": {
    service: "ec2",
    fields: {
      vpcId: "CreateRouteTable.VpcId",
      routes: { perElement: "each inline route is one CreateRoute call" },
      "routes[].cidrBlock": "CreateRoute.DestinationCidrBlock",
      "routes[].gatewayId": "CreateRoute.GatewayId",
      tags: ec2Tags("CreateRouteTable"),
    },
  },
  "aws:ec2/routeTableAssociation:RouteTableAssociation": {
    service: "ec2",
    fields: { routeTableId: "AssociateRouteTable.RouteTableId", subnetId: "AssociateRouteTable.SubnetId" },
  },
  "aws:ec2/securityGroup:SecurityGroup": {
    service: "ec2",
    fields: {
      name: "CreateSecurityGroup.GroupName",
      description: "CreateSecurityGroup.Description",
      vpcId: "CreateSecurityGroup.VpcId",
      tags: ec2Tags("CreateSecurityGroup"),
    },
  },
  "aws:ec2/subnet:Subnet": {
    service: "ec2",
    fields: {
      vpcId: "CreateSubnet.VpcId",
      cidrBlock: "CreateSubnet.CidrBlock",
      availabilityZone: "CreateSubnet.AvailabilityZone",
      tags: ec2Tags("CreateSubnet"),
    },
  },
  "aws:ec2/volumeAttachment:VolumeAttachment": {
    service: "ec2",
    fields: {
      deviceName: "AttachVolume.Device",
      instanceId: "AttachVolume.InstanceId",
      volumeId: "AttachVolume.VolumeId",
    },
  },
  "aws:ec2/vpc:Vpc": {
    service: "ec2",
    fields: {
      cidrBlock: "CreateVpc.CidrBlock",
      enableDnsHostnames: "ModifyVpcAttribute.EnableDnsHostnames.Value",
      enableDnsSupport: "ModifyVpcAttribute.EnableDnsSupport.Value",
      tags: ec2Tags("CreateVpc"),
    },
  },
  "aws:ec2/vpcPeeringConnection:VpcPeeringConnection": {
    service: "ec2",
    fields: {
      vpcId: "CreateVpcPeeringConnection.VpcId",
      peerVpcId: "CreateVpcPeeringConnection.PeerVpcId",
      peerRegion: "CreateVpcPeeringConnection.PeerRegion",
      tags: ec2Tags("CreateVpcPeeringConnection"),
    },
  },
  "aws:ec2/vpcPeeringConnectionAccepter:VpcPeeringConnectionAccepter": {
    service: "ec2",
    fields: {
      vpcPeeringConnectionId: "AcceptVpcPeeringConnection.VpcPeeringConnectionId",
      autoAccept: { notSent: "tells the provider to call AcceptVpcPeeringConnection at all" },
      tags: tagList("CreateTags.Tags"),
    },
  },
  "aws:iam/role:Role": {
    service: "iam",
    fields: {
      name: "CreateRole.RoleName",
      description: "CreateRole.Description",
      assumeRolePolicy: "CreateRole.AssumeRolePolicyDocument",
      tags: tagList("CreateRole.Tags"),
    },
  },
  "aws:iam/rolePolicy:RolePolicy": {
    service: "iam",
    fields: {
      role: "PutRolePolicy.RoleName",
      policy: "PutRolePolicy.PolicyDocument",
      name: "PutRolePolicy.PolicyName",
    },
  },
  "aws:iam/instanceProfile:InstanceProfile": {
    service: "iam",
    fields: {
      name: "CreateInstanceProfile.InstanceProfileName",
      role: "AddRoleToInstanceProfile.RoleName",
      tags: tagList("CreateInstanceProfile.Tags"),
    },
  },
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
    service: "iam",
    fields: { role: "AttachRolePolicy.RoleName", policyArn: "AttachRolePolicy.PolicyArn" },
  },
  "aws:lambda/function:Function": {
    service: "lambda",
    fields: {
      description: "CreateFunction.Description",
      runtime: "CreateFunction.Runtime",
      handler: "CreateFunction.Handler",
      memorySize: "CreateFunction.MemorySize",
      timeout: "CreateFunction.Timeout",
      // A Pulumi archive, zipped by the provider at deploy time: nothing to check in the plan.
      code: "CreateFunction.Code.ZipFile",
      "environment.variables": "CreateFunction.Environment.Variables",
      "vpcConfig.subnetIds": "CreateFunction.VpcConfig.SubnetIds",
      "vpcConfig.securityGroupIds": "CreateFunction.VpcConfig.SecurityGroupIds",
      tags: "CreateFunction.Tags",
    },
  },
  "aws:lambda/invocation:Invocation": {
    service: "lambda",
    fields: {
      functionName: "Invoke.FunctionName",
      input: "Invoke.Payload",
      triggers: { notSent: "any change to them replaces the resource, which invokes the function again" },
    },
  },
  "aws:lambda/permission:Permission": {
    service: "lambda",
    fields: {
      function: "AddPermission.FunctionName",
      action: "AddPermission.Action",
      principal: "AddPermission.Principal",
      sourceArn: "AddPermission.SourceArn",
      statementId: "AddPermission.StatementId",
    },
  },
  "aws:lb/listener:Listener": {
    service: "elbv2",
    fields: {
      port: "CreateListener.Port",
      protocol: "CreateListener.Protocol",
      defaultActions: "CreateListener.DefaultActions",
      "defaultActions[].type": "CreateListener.DefaultActions[].Type",
      "defaultActions[].targetGroupArn": "CreateListener.DefaultActions[].TargetGroupArn",
      tags: tagList("CreateListener.Tags"),
    },
  },
  "aws:lb/loadBalancer:LoadBalancer": {
    service: "elbv2",
    fields: {
      internal: {
        api: "CreateLoadBalancer.Scheme",
        convert: (internal) => (internal === true ? "internal" : "internet-facing"),
        how: 'internal: true is sent as Scheme "internal", false as "internet-facing"',
      },
      loadBalancerType: "CreateLoadBalancer.Type",
      enableCrossZoneLoadBalancing: {
        api: "ModifyLoadBalancerAttributes.Attributes[].Value",
        convert: (on) => String(on),
        how: "sent after creation as the attribute load_balancing.cross_zone.enabled",
      },
      subnets: "CreateLoadBalancer.Subnets",
      securityGroups: "CreateLoadBalancer.SecurityGroups",
      tags: tagList("CreateLoadBalancer.Tags"),
    },
  },
  "aws:lb/targetGroup:TargetGroup": {
    service: "elbv2",
    fields: {
      port: "CreateTargetGroup.Port",
      protocol: "CreateTargetGroup.Protocol",
      targetType: "CreateTargetGroup.TargetType",
      vpcId: "CreateTargetGroup.VpcId",
      "healthCheck.protocol": "CreateTargetGroup.HealthCheckProtocol",
      "healthCheck.port": "CreateTargetGroup.HealthCheckPort",
      "healthCheck.path": "CreateTargetGroup.HealthCheckPath",
      tags: tagList("CreateTargetGroup.Tags"),
    },
  },
  "aws:lb/targetGroupAttachment:TargetGroupAttachment": {
    service: "elbv2",
    fields: {
      targetGroupArn: "RegisterTargets.TargetGroupArn",
      targetId: "RegisterTargets.Targets[].Id",
      port: "RegisterTargets.Targets[].Port",
    },
  },
  "aws:route53/record:Record": {
    service: "route53",
    fields: {
      zoneId: "ChangeResourceRecordSets.HostedZoneId",
      name: "ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.Name",
      type: "ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.Type",
      ttl: "ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.TTL",
      records: "ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.ResourceRecords",
      "records[]": "ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.ResourceRecords[].Value",
    },
  },
  "aws:ssm/parameter:Parameter": {
    service: "ssm",
    fields: {
      name: "PutParameter.Name",
      type: "PutParameter.Type",
      tier: "PutParameter.Tier",
      value: "PutParameter.Value",
      tags: tagList("PutParameter.Tags"),
    },
  },
  "aws:route53/zone:Zone": {
    service: "route53",
    fields: {
      name: "CreateHostedZone.Name",
      comment: "CreateHostedZone.HostedZoneConfig.Comment",
      vpcs: {
        perElement: "the first VPC goes to CreateHostedZone, each further one to AssociateVPCWithHostedZone",
      },
      "vpcs[].vpcId": "CreateHostedZone.VPC.VPCId",
      "vpcs[].vpcRegion": "CreateHostedZone.VPC.VPCRegion",
      tags: tagList("ChangeTagsForResource.AddTags"),
    },
  },
  "aws:route53/zoneAssociation:ZoneAssociation": {
    service: "route53",
    fields: {
      zoneId: "AssociateVPCWithHostedZone.HostedZoneId",
      vpcId: "AssociateVPCWithHostedZone.VPC.VPCId",
      vpcRegion: "AssociateVPCWithHostedZone.VPC.VPCRegion",
    },
  },
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": {
    service: "ec2",
    fields: ruleFields("AuthorizeSecurityGroupEgress"),
  },
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": {
    service: "ec2",
    fields: ruleFields("AuthorizeSecurityGroupIngress"),
  },
};

/**
 * What the plans contain that the table does not check yet: a whole type (`"TYPE"`) or one input
 * (`"TYPE input.path"`), each with the reason. The test holds the plans' uncovered set equal to
 * these keys, so an entry goes when its gap is closed, and a new gap needs an entry.
 */
export const NOT_COVERED_YET: Record<string, string> = {};

/** The botocore services the table reaches, for fetching their models. */
export const AWS_API_SERVICES: string[] = [...new Set(Object.values(AWS_API_MAP).map((t) => t.service))].sort();
