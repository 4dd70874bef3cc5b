/**
 * The load balancers' health checker, run as its own process inside the sandbox's network
 * namespace (forwarder.ts starts it), where it reaches every host from the load balancer's
 * address. It only probes and reports; the thresholds and what follows from them are
 * forwarder.ts's. In: one JSON line of every check to run (replacing the last). Out: one JSON
 * line per probe, `{ id, ok, detail }`. It ends when its input closes.
 */
import http from "node:http";
import net from "node:net";
import { z } from "zod";

export const CheckSchema = z.object({
  id: z.string(),
  address: z.string(),
  port: z.number().int().min(1).max(65_535),
  protocol: z.enum(["tcp", "http"]),
  path: z.string(),
  /** HTTP codes that count as healthy, inclusive. */
  codes: z.tuple([z.number().int(), z.number().int()]),
  intervalMs: z.number().positive(),
  timeoutMs: z.number().positive(),
  /** The address the probe comes from (the load balancer's). */
  source: z.string(),
});
export type Check = z.infer<typeof CheckSchema>;
export const ChecksSchema = z.object({ checks: z.array(CheckSchema) });

export interface Probe {
  id: string;
  ok: boolean;
  detail: string;
}

function probeTcp(check: Check): Promise<Probe> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: check.address, port: check.port, localAddress: check.source });
    const done = (ok: boolean, detail: string) => {
      socket.destroy();
      resolve({ id: check.id, ok, detail });
    };
    socket.setTimeout(check.timeoutMs, () => {
      done(false, "Target.Timeout");
    });
    socket.once("connect", () => {
      done(true, "connected");
    });
    socket.once("error", (e: NodeJS.ErrnoException) => {
      done(false, e.code ?? e.message);
    });
  });
}

function probeHttp(check: Check): Promise<Probe> {
  return new Promise((resolve) => {
    const request = http.get(
      {
        host: check.address,
        port: check.port,
        path: check.path,
        localAddress: check.source,
        timeout: check.timeoutMs,
        // A new connection for every probe, as a load balancer's health check makes.
        agent: false,
        headers: { connection: "close" },
      },
      (response) => {
        response.resume();
        const code = response.statusCode ?? 0;
        const ok = code >= check.codes[0] && code <= check.codes[1];
        resolve({ id: check.id, ok, detail: ok ? String(code) : `Target.ResponseCodeMismatch ${String(code)}` });
      },
    );
    request.once("timeout", () => {
      request.destroy();
      resolve({ id: check.id, ok: false, detail: "Target.Timeout" });
    });
    request.once("error", (e: NodeJS.ErrnoException) => {
      resolve({ id: check.id, ok: false, detail: e.code ?? e.message });
    });
  });
}

export function probe(check: Check): Promise<Probe> {
  return check.protocol === "tcp" ? probeTcp(check) : probeHttp(check);
}

/** Runs checks from stdin, each at its interval, reporting every probe on stdout. */
function main(): void {
  const timers = new Map<string, NodeJS.Timeout>();
  const schedule = (check: Check) => {
    const run = () => {
      void probe(check).then((result) => {
        if (timers.get(check.id) === timer) process.stdout.write(`${JSON.stringify(result)}\n`);
      });
    };
    const timer = setInterval(run, check.intervalMs);
    timers.set(check.id, timer);
    run();
  };
  let buffer = "";
  process.stdin.on("data", (data: Buffer) => {
    buffer += data.toString();
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      const { checks } = ChecksSchema.parse(JSON.parse(buffer.slice(0, newline)));
      buffer = buffer.slice(newline + 1);
      for (const timer of timers.values()) clearInterval(timer);
      timers.clear();
      for (const check of checks) schedule(check);
      newline = buffer.indexOf("\n");
    }
  });
  process.stdin.on("end", () => process.exit(0));
}

if (require.main === module) main();
