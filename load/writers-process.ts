/**
 * Peels writing from wherever this process runs (a twin's client in a peel subnet: `twin … exec
 * -- node dist/load/writers-process.js`), each with its own credentials, through the servers its
 * bootstrap names, with the plan's client settings; and, when it is told to stop, every
 * acknowledged write looked up again. In: one JSON line (the spec below), then `stop` on a line of
 * its own (or its input closing). Out: `started` once every peel had a write acknowledged, then
 * one JSON line: what was acknowledged, the longest gap one peel saw, and what was found again.
 * Exit 0 when it ran, whatever it found; 1 when it could not.
 */
import { createInterface } from "node:readline";
import { connectAdmin } from "../jetstream/connect";
import { inboxPrefix } from "../topology/auth";
import { clientAuthOptions } from "../jetstream/connect";
import { countReachable } from "./readback";
import { WriterGroup } from "./writers";
import { WritersSpecSchema, type WritersReport } from "./writers-spec";

async function main(): Promise<void> {
  const lines = createInterface({ input: process.stdin });
  const iterator = lines[Symbol.asyncIterator]();
  const first = await iterator.next();
  const spec = WritersSpecSchema.parse(JSON.parse(String(first.value)));
  const address = { region: "", servers: spec.servers, ...(spec.domain === undefined ? {} : { domain: spec.domain }) };
  const writers = new WriterGroup(
    "writers",
    spec.peels.map((p) => ({ id: p.id, address })),
    (id) => ({
      ...clientAuthOptions({
        creds: spec.peels.find((p) => p.id === id)?.creds ?? "",
        ca: spec.ca,
        inboxPrefix: inboxPrefix(id),
      }),
    }),
    spec.client,
    { paceMs: spec.paceMs, bytes: spec.bytes },
  );
  const began = performance.now();
  await writers.start();
  process.stdout.write("started\n");
  for (;;) {
    const next = await iterator.next();
    if (next.done === true || next.value.trim() === "stop") break;
  }
  await writers.stop();
  const ended = performance.now();
  const ledger = writers.ledger.data();
  const reader = await connectAdmin(spec.servers, {
    creds: spec.reader.creds,
    ca: spec.ca,
    inboxPrefix: inboxPrefix(spec.reader.role),
  });
  try {
    const found = await countReachable(ledger.acked, () => reader);
    const report: WritersReport = {
      acknowledged: ledger.acked.length,
      failed: ledger.unacked,
      longestGapMs: Math.round(writers.gapMs(began, ended)),
      checked: found.checked,
      found: found.found,
      lost: found.lost,
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  } finally {
    await reader.close();
  }
  lines.close();
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`writers: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  },
);
