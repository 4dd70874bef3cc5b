/**
 * What the AWS twin's endpoint process (endpoint.ts) serves, as the target hands it over on its
 * stdin: the instances by private address (IMDS answers the caller by its source address, as the
 * instance's own link-local service does), the roles' policies and the credentials IMDS issues
 * for them, the parameter store, the mirror's folder, and the TLS key and certificate of the
 * endpoint's names. Read back with zod on both sides.
 */
import { z } from "zod";

export const IMDS_ADDRESS = "169.254.169.254";
/** The address the twin's AWS API endpoints and mirror answer on (RFC 2544's range: never a real host's). */
export const API_ADDRESS = "198.18.0.2";

export const InstanceViewSchema = z.object({
  instanceId: z.string(),
  instanceType: z.string(),
  az: z.string(),
  hostname: z.string(),
  /** The instance profile's role, if it has one. */
  role: z.string().optional(),
  /** IMDSv2 only (`metadataOptions.httpTokens: required`). */
  tokensRequired: z.boolean(),
  tags: z.record(z.string(), z.string()),
});

export const CredentialSchema = z.object({ role: z.string(), secret: z.string(), token: z.string() });

export const ParameterSchema = z.object({
  type: z.enum(["String", "StringList", "SecureString"]),
  value: z.string(),
  version: z.number().int().positive(),
  modified: z.number(),
});
export type StoredParameter = z.infer<typeof ParameterSchema>;

export const EndpointWorldSchema = z.object({
  region: z.string(),
  account: z.string(),
  tls: z.object({ key: z.string(), cert: z.string() }),
  instances: z.record(z.string(), InstanceViewSchema),
  /** Each role's policy documents (their JSON text). */
  roles: z.record(z.string(), z.array(z.string())),
  /** By access key id. */
  credentials: z.record(z.string(), CredentialSchema),
  parameters: z.record(z.string(), ParameterSchema),
  /** `<mirror>/<host>/<path>` is served as `https://<host>/<path>`. */
  mirror: z.string(),
});
export type EndpointWorld = z.infer<typeof EndpointWorldSchema>;

export const EndpointInSchema = z.object({ kind: z.literal("world"), world: EndpointWorldSchema });
export type EndpointIn = z.infer<typeof EndpointInSchema>;

export const EndpointOutSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("ready") }),
  /** A parameter written through the API (the reconcile job's report): the target keeps it too. */
  z.object({ kind: z.literal("put"), name: z.string(), parameter: ParameterSchema }),
]);
export type EndpointOut = z.infer<typeof EndpointOutSchema>;
