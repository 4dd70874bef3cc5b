/**
 * A host's way to the twin: the stand-ins in its image (image.ts) hand their command line to this
 * server over the host's call socket (`/run/twin/twin.sock` in the host, one socket per host, so
 * the socket says which host calls), and print what it answers. One line of JSON each way,
 * checked with zod here; a tool this server does not know is an error naming the ones it does.
 */
import { existsSync, mkdirSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket } from "node:net";
import path from "node:path";
import { z } from "zod";

export const CallSchema = z.object({
  /** The tool's name (the stand-in's argv[0]). */
  tool: z.string().min(1),
  args: z.array(z.string()),
  /** The caller's working directory, in the host. */
  cwd: z.string(),
});
export type Call = z.infer<typeof CallSchema>;

export interface Reply {
  stdout?: string;
  stderr?: string;
  /** The exit status. @default 0 */
  status?: number;
  /** Run this instead (a real tool, by absolute path in the host), after printing the output. */
  exec?: string[];
}

export type CallHandler = (call: Call) => Promise<Reply>;

/** An error that is the tool's own answer (its message on stderr, its exit status). */
export class ToolError extends Error {
  constructor(
    message: string,
    readonly status = 1,
  ) {
    super(message);
  }
}

/** The reply of a failed handler: a ToolError as the tool says it, anything else as a twin error. */
function failure(call: Call, error: unknown): Reply {
  if (error instanceof ToolError) return { stderr: `${error.message}\n`, status: error.status };
  const message = error instanceof Error ? error.message : String(error);
  return { stderr: `${call.tool}: the twin failed to answer: ${message}\n`, status: 1 };
}

export class HostCalls {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private constructor(
    readonly socketPath: string,
    private readonly handlers: ReadonlyMap<string, CallHandler>,
  ) {
    this.server = createServer((socket) => {
      this.serve(socket);
    });
  }

  /** Listens at `socketPath` (made anew) for the host's stand-ins. */
  static async listen(socketPath: string, handlers: Record<string, CallHandler>): Promise<HostCalls> {
    if (Buffer.byteLength(socketPath) > 107)
      throw new Error(
        `the call socket path ${socketPath} is longer than a Unix socket allows (107 bytes): use a shorter state directory`,
      );
    mkdirSync(path.dirname(socketPath), { recursive: true });
    if (existsSync(socketPath)) rmSync(socketPath);
    const calls = new HostCalls(socketPath, new Map(Object.entries(handlers)));
    await new Promise<void>((resolve, reject) => {
      calls.server.once("error", reject);
      calls.server.listen(socketPath, () => {
        calls.server.off("error", reject);
        resolve();
      });
    });
    return calls;
  }

  private serve(socket: Socket): void {
    this.sockets.add(socket);
    socket.once("close", () => this.sockets.delete(socket));
    socket.on("error", () => undefined);
    let buffer = "";
    const onData = (data: Buffer) => {
      buffer += data.toString();
      const newline = buffer.indexOf("\n");
      if (newline < 0) return;
      socket.off("data", onData);
      void this.answer(buffer.slice(0, newline)).then((reply) =>
        socket.end(`${JSON.stringify({ status: 0, ...reply })}\n`),
      );
    };
    socket.on("data", onData);
  }

  private async answer(line: string): Promise<Reply> {
    let call: Call;
    try {
      call = CallSchema.parse(JSON.parse(line));
    } catch (error) {
      return {
        stderr: `the twin refused a stand-in's call: ${error instanceof Error ? error.message : String(error)}\n`,
        status: 2,
      };
    }
    const handler = this.handlers.get(call.tool);
    if (handler === undefined)
      return {
        stderr: `${call.tool}: the twin stands in for ${[...this.handlers.keys()].sort().join(", ")}; not for ${call.tool}\n`,
        status: 1,
      };
    try {
      return await handler(call);
    } catch (error) {
      return failure(call, error);
    }
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => {
      this.server.close(() => {
        resolve();
      });
    });
    rmSync(this.socketPath, { force: true });
  }
}
