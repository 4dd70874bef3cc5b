/**
 * What the AWS twin's endpoints decide a request by: IAM's evaluation of the plans' policies, and
 * Signature Version 4 checked on the receiving side (AWS's own worked example).
 */
import { evaluate, parsePolicy } from "../../twin/aws/iam";
import { SignatureError, verify } from "../../twin/aws/sigv4";

const AGENT_POLICY = JSON.stringify({
  Version: "2012-10-17",
  Statement: [
    {
      Effect: "Allow",
      Action: ["ssm:GetParametersByPath", "ssm:GetParameter", "ssm:GetParameters"],
      Resource: [
        "arn:aws:ssm:eu-west-1:*:parameter/zester/zester-infra-staging/zester/core-0",
        "arn:aws:ssm:eu-west-1:*:parameter/zester/zester-infra-staging/zester/core-0/*",
      ],
    },
  ],
});
const arn = (name: string) => `arn:aws:ssm:eu-west-1:123456789012:parameter${name}`;

describe("IAM's evaluation of identity-based policies", () => {
  const policy = parsePolicy(AGENT_POLICY, "core-0");
  test("a server's role reads its own path and parameters, and nothing beside them", () => {
    expect(evaluate([policy], "ssm:GetParametersByPath", arn("/zester/zester-infra-staging/zester/core-0"))).toBe(
      "allowed",
    );
    expect(evaluate([policy], "SSM:GetParameter", arn("/zester/zester-infra-staging/zester/core-0/files/ca.pem"))).toBe(
      "allowed",
    );
    expect(evaluate([policy], "ssm:GetParametersByPath", arn("/zester/zester-infra-staging/zester/core-1"))).toBe(
      "implicit-deny",
    );
    expect(evaluate([policy], "ssm:GetParametersByPath", arn("/zester/zester-infra-staging/zester/core-01"))).toBe(
      "implicit-deny",
    );
    expect(evaluate([policy], "ssm:PutParameter", arn("/zester/zester-infra-staging/zester/core-0/x"))).toBe(
      "implicit-deny",
    );
  });
  test("an explicit deny wins over an allow", () => {
    const deny = parsePolicy(
      JSON.stringify({ Version: "2012-10-17", Statement: { Effect: "Deny", Action: "ssm:*", Resource: "*" } }),
      "deny",
    );
    expect(evaluate([policy, deny], "ssm:GetParameter", arn("/zester/zester-infra-staging/zester/core-0/a"))).toBe(
      "explicit-deny",
    );
  });
  test("a statement with an element the twin does not evaluate is refused, not read wrongly", () => {
    const withCondition = JSON.stringify({
      Version: "2012-10-17",
      Statement: [
        { Effect: "Allow", Action: "ssm:*", Resource: "*", Condition: { Bool: { "aws:SecureTransport": "true" } } },
      ],
    });
    expect(() => parsePolicy(withCondition, "role x")).toThrow(/role x: a policy the twin cannot evaluate/);
  });
});

describe("Signature Version 4, checked by the receiver", () => {
  // AWS General Reference, "Signature Version 4 signing process": the worked IAM ListUsers example.
  const example = {
    method: "GET",
    url: "/?Action=ListUsers&Version=2010-05-08",
    headers: {
      "content-type": "application/x-www-form-urlencoded; charset=utf-8",
      host: "iam.amazonaws.com",
      "x-amz-date": "20150830T123600Z",
      authorization:
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
    },
    body: Buffer.alloc(0),
  };
  const secrets = (key: string) => (key === "AKIDEXAMPLE" ? "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" : undefined);

  test("AWS's example verifies, naming who signed it for which region and service", () => {
    expect(verify(example, secrets)).toEqual({ accessKeyId: "AKIDEXAMPLE", region: "us-east-1", service: "iam" });
  });
  test("a changed request, another key, or no signature at all fails as AWS answers it", () => {
    const code = (f: () => unknown) => {
      try {
        f();
        return "verified";
      } catch (error) {
        return error instanceof SignatureError ? error.code : String(error);
      }
    };
    expect(code(() => verify({ ...example, url: "/?Action=ListUsers&Version=2010-05-09" }, secrets))).toBe(
      "InvalidSignatureException",
    );
    expect(code(() => verify(example, () => "another secret"))).toBe("InvalidSignatureException");
    expect(code(() => verify(example, () => undefined))).toBe("UnrecognizedClientException");
    const unsigned = { ...example, headers: { ...example.headers, authorization: undefined } };
    expect(code(() => verify(unsigned, secrets))).toBe("MissingAuthenticationTokenException");
  });
});
