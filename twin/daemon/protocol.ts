/**
 * The twin daemon's control protocol: over the Unix socket in the state directory
 * (`control.sock`), a client sends one request as one line of JSON and reads events, one line
 * each, until the answer (`exit`, `result` or `error`); an `exec` connection stays open while the
 * command runs, and its client is released when the connection closes. Both sides check every
 * message with these schemas.
 */
import { z } from "zod";

export const RequestSchema = z.discriminatedUnion("op", [
  z.object({ op: z.literal("hello") }),
  /** One `pulumi up` of the stack, with config overrides as `plan --set` takes them. */
  z.object({ op: z.literal("up"), stack: z.string().min(1), set: z.array(z.string()) }),
  z.object({ op: z.literal("run-job") }),
  /** The target's status (issue 18's shape: tier, peels, transition, servers, connect). */
  z.object({ op: z.literal("status"), json: z.boolean() }),
  /** The host layer as it is: machines, units, volumes, load balancers' health. */
  z.object({ op: z.literal("describe") }),
  z.object({ op: z.literal("exec"), site: z.string().min(1).optional() }),
  z.object({ op: z.literal("down") }),
]);
export type Request = z.infer<typeof RequestSchema>;

export const EventSchema = z.discriminatedUnion("kind", [
  z.object({ kind: z.literal("hello"), target: z.string(), pid: z.number().int(), dir: z.string() }),
  z.object({ kind: z.literal("out"), text: z.string() }),
  z.object({ kind: z.literal("err"), text: z.string() }),
  z.object({ kind: z.literal("exit"), status: z.number().int() }),
  z.object({ kind: z.literal("result"), value: z.unknown() }),
  /** For exec: the command line prefix that enters the client, its name and address. */
  z.object({ kind: z.literal("exec"), argv: z.array(z.string()), client: z.string(), address: z.string() }),
  /** A refused or failed request; `status` 2 for bad input, 1 for a failure. */
  z.object({ kind: z.literal("error"), message: z.string(), status: z.number().int() }),
]);
export type Event = z.infer<typeof EventSchema>;

/** The daemon's record in the state directory (`twin.json`), for a later command to find it or its remains. */
export const RecordSchema = z.object({
  /** The daemon's pid. */
  pid: z.number().int().positive(),
  target: z.string(),
  /** The sandbox's user namespace (`user:[…]`): every process of the twin is in it. */
  userNamespace: z.string(),
  startedAt: z.string(),
  /** The state directory's entries the twin owns (its runtime parts, and the provider's own). */
  owns: z.array(z.string()),
});
export type DaemonRecord = z.infer<typeof RecordSchema>;

/** Reads one line-delimited JSON message stream: calls `onMessage` for each complete line. */
export function lineReader(onMessage: (line: string) => void): (data: Buffer) => void {
  let buffer = "";
  return (data) => {
    buffer += data.toString();
    let newline = buffer.indexOf("\n");
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      if (line.trim() !== "") onMessage(line);
      newline = buffer.indexOf("\n");
    }
  };
}
