/**
 * The target's handle on the endpoint process (endpoint.ts): started inside the sandbox's network
 * namespace with the endpoints' addresses on its loopback (every host's packets cross that
 * namespace, which answers for its own addresses), fed the world on every change, and told of
 * parameters the API wrote.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { builtScript } from "../host/built-script";
import { enterSandbox, toolEnvironment } from "../host/namespaces";
import type { Sandbox } from "../host/sandbox";
import {
  API_ADDRESS,
  EndpointOutSchema,
  IMDS_ADDRESS,
  type EndpointIn,
  type EndpointWorld,
  type StoredParameter,
} from "./endpoint-world";

const endpointScript = (): string => builtScript(__filename, "twin/aws/endpoint", "the AWS twin's endpoints");

export class Endpoints {
  private constructor(
    private readonly child: ChildProcess,
    private readonly onPut: (name: string, parameter: StoredParameter) => void,
  ) {}

  /** Starts the endpoints with `world`; resolves once they listen. */
  static async start(
    sandbox: Sandbox,
    world: EndpointWorld,
    logFile: (chunk: string) => void,
    onPut: (name: string, parameter: StoredParameter) => void,
  ): Promise<Endpoints> {
    await sandbox.inSandbox(`ip addr add ${IMDS_ADDRESS}/32 dev lo && ip addr add ${API_ADDRESS}/32 dev lo`);
    const args = [...enterSandbox(sandbox.pid).slice(1), "--", process.execPath, endpointScript()];
    const child = spawn("nsenter", args, { stdio: ["pipe", "pipe", "pipe"], env: toolEnvironment() });
    child.stdin.on("error", () => undefined);
    child.stderr.on("data", (d: Buffer) => {
      logFile(d.toString());
    });
    const endpoints = new Endpoints(child, onPut);
    const ready = new Promise<void>((resolve, reject) => {
      let buffer = "";
      child.stdout.on("data", (data: Buffer) => {
        buffer += data.toString();
        for (let nl = buffer.indexOf("\n"); nl >= 0; nl = buffer.indexOf("\n")) {
          const out = EndpointOutSchema.parse(JSON.parse(buffer.slice(0, nl)));
          buffer = buffer.slice(nl + 1);
          if (out.kind === "ready") resolve();
          else endpoints.received(out);
        }
      });
      child.once("exit", (code) => {
        reject(new Error(`the AWS twin's endpoints exited (${String(code)}) before they listened`));
      });
    });
    endpoints.send({ kind: "world", world });
    await ready;
    return endpoints;
  }

  private received(out: Extract<ReturnType<typeof EndpointOutSchema.parse>, { kind: "put" }>): void {
    this.onPut(out.name, out.parameter);
  }

  private send(message: EndpointIn): void {
    this.child.stdin?.write(`${JSON.stringify(message)}\n`);
  }

  update(world: EndpointWorld): void {
    this.send({ kind: "world", world });
  }

  close(): void {
    this.child.stdin?.end();
    this.child.kill("SIGKILL");
  }
}
