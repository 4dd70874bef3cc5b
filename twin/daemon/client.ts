/**
 * The client side of the control socket (protocol.ts): what the CLI and the tests call on a
 * running twin, whether its daemon is a process of its own or a test's.
 *
 *   const client = new TwinClient(dir);
 *   await client.up({ stack: "dev", set: [] }, { out: (t) => …, err: (t) => … });  // exit status
 *   await client.status();                                                          // status --json's value
 *   await client.exec(undefined, ["nats", "server", "ls"], { stdio: "inherit" });   // exit status
 *   await client.describe();                                                        // machines, units, volumes, load balancers
 *   await client.down();
 */
import { spawn, type StdioOptions } from "node:child_process";
import { connect, type Socket } from "node:net";
import os from "node:os";
import { EventSchema, lineReader, type Event, type Request } from "./protocol";
import { controlSocket } from "./server";
import type { TargetIo, UpRequest } from "./target";
import type { TwinDescription } from "./twin";

/** A refusal or failure the daemon answered (its exit status: 2 bad input, 1 failure). */
export class TwinError extends Error {
  constructor(
    message: string,
    readonly status: number,
  ) {
    super(message);
  }
}

export class TwinClient {
  readonly socketPath: string;

  constructor(readonly dir: string) {
    this.socketPath = controlSocket(dir);
  }

  /** Sends one request; `onEvent` sees every event; resolves with the connection once the answer came (or it closed). */
  private request(request: Request, onEvent: (event: Event, socket: Socket) => boolean): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = connect(this.socketPath);
      let settled = false;
      const finish = (error?: Error) => {
        if (settled) return;
        settled = true;
        if (error === undefined) resolve();
        else reject(error);
      };
      socket.once("error", (error: NodeJS.ErrnoException) => {
        finish(new TwinError(`no twin answers on ${this.socketPath} (${error.code ?? error.message})`, 1));
      });
      socket.once("connect", () => socket.write(`${JSON.stringify(request)}\n`));
      socket.on(
        "data",
        lineReader((line) => {
          let event: Event;
          try {
            event = EventSchema.parse(JSON.parse(line));
          } catch (error) {
            finish(new TwinError(`the twin answered something this client does not understand: ${String(error)}`, 1));
            socket.destroy();
            return;
          }
          if (event.kind === "error") {
            finish(new TwinError(event.message, event.status));
            socket.destroy();
            return;
          }
          if (onEvent(event, socket)) finish();
        }),
      );
      socket.once("close", () => {
        finish(new TwinError("the twin closed the connection before it answered", 1));
      });
    });
  }

  async hello(): Promise<{ target: string; pid: number; dir: string }> {
    let hello: { target: string; pid: number; dir: string } | undefined;
    await this.request({ op: "hello" }, (event) => {
      if (event.kind === "hello") hello = event;
      return event.kind === "hello";
    });
    if (hello === undefined) throw new TwinError("the twin did not say hello", 1);
    return hello;
  }

  /** A command that prints as it goes and ends with an exit status. */
  private async streamed(request: Request, io: TargetIo): Promise<number> {
    let status = 1;
    await this.request(request, (event) => {
      if (event.kind === "out") io.out(event.text);
      else if (event.kind === "err") io.err(event.text);
      else if (event.kind === "exit") status = event.status;
      return event.kind === "exit";
    });
    return status;
  }

  up(request: UpRequest, io: TargetIo): Promise<number> {
    return this.streamed({ op: "up", ...request }, io);
  }

  runJob(io: TargetIo): Promise<number> {
    return this.streamed({ op: "run-job" }, io);
  }

  statusText(io: TargetIo): Promise<number> {
    return this.streamed({ op: "status", json: false }, io);
  }

  private async result(request: Request): Promise<unknown> {
    let value: unknown;
    await this.request(request, (event) => {
      if (event.kind === "result") value = event.value;
      return event.kind === "result";
    });
    return value;
  }

  status(): Promise<unknown> {
    return this.result({ op: "status", json: true });
  }

  async describe(): Promise<TwinDescription> {
    return (await this.result({ op: "describe" })) as TwinDescription;
  }

  /**
   * A client in the site's subnet, with this machine's files, held until `release` (or until this
   * process ends): `command(argv)` is the command line that runs `argv` there.
   */
  async openExec(
    site: string | undefined,
  ): Promise<{ command(argv: string[]): string[]; address: string; release(): void }> {
    let enter: string[] = [];
    let address = "";
    let connection: Socket | undefined;
    await this.request({ op: "exec", ...(site === undefined ? {} : { site }) }, (event, socket) => {
      if (event.kind !== "exec") return false;
      // The command runs in this process's working directory, not the daemon's.
      enter = event.argv.map((word) => (word.startsWith("--wd=") ? `--wd=${process.cwd()}` : word));
      address = event.address;
      connection = socket;
      return true;
    });
    return {
      command: (argv) => [...enter, ...argv],
      address,
      release: () => connection?.end(),
    };
  }

  /**
   * Runs `argv` on the twin's network as a client in the site's subnet, with this machine's files
   * and, by default, this process's stdin, stdout and stderr: its exit status (128 + the signal's
   * number when a signal ended it).
   */
  async exec(site: string | undefined, argv: string[], options: { stdio?: StdioOptions } = {}): Promise<number> {
    const client = await this.openExec(site);
    try {
      const [command, ...args] = client.command(argv);
      if (command === undefined || argv.length === 0) throw new TwinError("exec needs a command", 2);
      const child = spawn(command, args, { stdio: options.stdio ?? "inherit" });
      return await new Promise<number>((resolve, reject) => {
        child.once("error", reject);
        child.once("exit", (code, signal) => {
          resolve(code ?? 128 + (signal === null ? 0 : os.constants.signals[signal]));
        });
      });
    } finally {
      client.release();
    }
  }

  /** Ends the twin; resolves once everything is stopped and removed. */
  async down(): Promise<void> {
    await this.request({ op: "down" }, (event) => event.kind === "exit");
  }
}
