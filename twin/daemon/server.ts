/**
 * The twin daemon's side of the control socket (protocol.ts): one Twin and its provider target,
 * answering the CLI's commands (up, run-job, status, exec, down) and the tests' (describe). One
 * `up` or `run-job` at a time, as Pulumi locks a stack during an update. `down` stops the
 * target, the twin and everything in it, removes the state directory's runtime parts, and only
 * then answers, so nothing of the twin outlives the answer.
 *
 * `serveTwin` runs it in the calling process (the daemon's, or a test's: the same server and
 * socket, without a process of its own); `process.ts` starts it as a daemon.
 */
import { existsSync, readdirSync, readlinkSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer, type Server, type Socket } from "node:net";
import path from "node:path";
import { removeTree } from "../host/sandbox";
import { EventSchema, lineReader, RequestSchema, type DaemonRecord, type Event, type Request } from "./protocol";
import type { StackPlanner, TargetFactory, TargetIo, TwinTarget } from "./target";
import { Twin, type TwinOptions } from "./twin";

export const controlSocket = (dir: string): string => path.join(dir, "control.sock");
export const recordFile = (dir: string): string => path.join(dir, "twin.json");

export interface ServeOptions extends TwinOptions {
  /** The target's name (aws, kubernetes), as the CLI names it. */
  targetName: string;
  target: TargetFactory;
  /** Runs the stack's program for the target's `up`. @default none: an `up` that plans says so */
  plan?: StackPlanner;
  /** Called once `down` has removed everything (the daemon exits then). @default nothing */
  onDown?: () => void;
}

/** A twin served on its control socket. */
export interface ServedTwin {
  twin: Twin;
  target: TwinTarget;
  /** What `down` does, for a caller that holds the twin itself: everything stopped and removed. */
  down(): Promise<void>;
}

/** Whether something answers on a Unix socket. */
export function answers(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(socketPath);
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => {
      resolve(false);
    });
  });
}

/** Starts a twin in this process and serves it on `<dir>/control.sock`. */
export async function serveTwin(options: ServeOptions): Promise<ServedTwin> {
  const socketPath = controlSocket(path.resolve(options.dir));
  if (Buffer.byteLength(socketPath) > 107)
    throw new Error(`${socketPath} is longer than a Unix socket path may be (107 bytes): use a shorter --state-dir`);
  if (existsSync(socketPath)) {
    if (await answers(socketPath)) throw new Error(`a twin already answers on ${socketPath}`);
    rmSync(socketPath);
  }
  const twin = await Twin.start(options);
  let target: TwinTarget;
  try {
    target = await options.target(twin, { plan: options.plan ?? noPlanner });
  } catch (error) {
    await twin.stop();
    throw error;
  }
  const control = new Control(twin, target, options);
  await control.listen(socketPath);
  writeRecord(twin, options.targetName);
  return { twin, target, down: () => control.down() };
}

const noPlanner: StackPlanner = () =>
  Promise.reject(new Error("this twin was started without a planner (serveTwin's `plan`): it cannot run a stack"));

/** Writes the daemon's record: who runs the twin, its namespace, and what it owns. */
export function writeRecord(twin: Twin, target: string): void {
  const record: DaemonRecord = {
    pid: process.pid,
    target,
    userNamespace: readlinkSync(`/proc/${String(twin.sandbox.pid)}/ns/user`),
    startedAt: new Date().toISOString(),
    owns: twin.ownedParts(),
  };
  writeFileSync(recordFile(twin.dir), `${JSON.stringify(record, null, 2)}\n`);
}

/** Removes the named entries of a state directory, and the directory when nothing else is left. */
export function removeParts(dir: string, parts: readonly string[]): void {
  for (const part of parts) removeTree(path.join(dir, part));
  if (existsSync(dir) && readdirSync(dir).length === 0) rmdirSync(dir);
}

class Control {
  private readonly server: Server;
  private busy: string | undefined;
  private downing: Promise<void> | undefined;
  private readonly execs = new Set<Socket>();

  constructor(
    private readonly twin: Twin,
    private readonly target: TwinTarget,
    private readonly options: ServeOptions,
  ) {
    this.server = createServer((socket) => {
      socket.on("error", () => undefined);
      const read = lineReader((line) => {
        socket.off("data", read);
        void this.handle(socket, line);
      });
      socket.on("data", read);
    });
  }

  listen(socketPath: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(socketPath, () => {
        this.server.off("error", reject);
        resolve();
      });
    });
  }

  private async handle(socket: Socket, line: string): Promise<void> {
    const send = (event: Event) => {
      if (!socket.destroyed) socket.write(`${JSON.stringify(EventSchema.parse(event))}\n`);
    };
    let request: Request;
    try {
      request = RequestSchema.parse(JSON.parse(line));
    } catch (error) {
      send({ kind: "error", message: `a request the twin does not understand: ${errorText(error)}`, status: 2 });
      socket.end();
      return;
    }
    try {
      await this.answer(request, socket, send);
    } catch (error) {
      send({ kind: "error", message: errorText(error), status: 1 });
      socket.end();
    }
  }

  private async answer(request: Request, socket: Socket, send: (event: Event) => void): Promise<void> {
    const io: TargetIo = {
      out: (text) => {
        send({ kind: "out", text });
      },
      err: (text) => {
        send({ kind: "err", text });
      },
    };
    switch (request.op) {
      case "hello":
        send({ kind: "hello", target: this.options.targetName, pid: process.pid, dir: this.twin.dir });
        break;
      case "up":
      case "run-job": {
        if (this.busy !== undefined)
          throw new Error(`this twin is busy with ${this.busy}; run the command again once it is done`);
        this.busy = request.op;
        try {
          const status = request.op === "up" ? await this.target.up(request, io) : await this.target.runJob(io);
          writeRecord(this.twin, this.options.targetName);
          send({ kind: "exit", status });
        } finally {
          this.busy = undefined;
        }
        break;
      }
      case "status":
        if (request.json) send({ kind: "result", value: await this.target.status() });
        else {
          const text =
            this.target.statusText === undefined
              ? JSON.stringify(await this.target.status(), null, 2)
              : await this.target.statusText();
          send({ kind: "out", text: text.endsWith("\n") ? text : `${text}\n` });
          send({ kind: "exit", status: 0 });
        }
        break;
      case "describe":
        send({ kind: "result", value: this.twin.describe() });
        break;
      case "exec":
        await this.exec(request.site, socket, send);
        return;
      case "down":
        await this.down();
        send({ kind: "exit", status: 0 });
        break;
    }
    socket.end();
  }

  private async exec(site: string | undefined, socket: Socket, send: (event: Event) => void): Promise<void> {
    let subnet: string;
    try {
      subnet = await this.target.execSubnet(site);
    } catch (error) {
      send({ kind: "error", message: errorText(error), status: 2 });
      socket.end();
      return;
    }
    const client = await this.twin.openExec(subnet);
    // The client lives as long as the connection: the command's end, or its caller's.
    socket.once("close", () => {
      void client.release();
    });
    this.execs.add(socket);
    socket.once("close", () => this.execs.delete(socket));
    // The command line that enters the client, ending in "--": the caller appends its command.
    send({ kind: "exec", argv: client.command([]), client: client.name, address: client.address });
  }

  /** Everything stopped and removed; once, however many ask. */
  down(): Promise<void> {
    this.downing ??= (async () => {
      await this.target.close?.().catch(() => undefined);
      const parts = this.twin.ownedParts();
      // No new connection; the exec clients' commands end with the sandbox.
      this.server.close();
      for (const socket of this.execs) socket.destroy();
      await this.twin.stop();
      removeParts(this.twin.dir, parts);
      this.options.onDown?.();
    })();
    return this.downing;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
