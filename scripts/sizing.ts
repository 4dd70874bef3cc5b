/**
 * The sizing calculator: `npm run -s sizing -- --peels N [--json] [--fact-interval SECONDS]`.
 * Loads only `sizing/` (never Pulumi), so it starts about as fast as Node itself.
 */
import { parseArgs } from "node:util";
import { z } from "zod";
import { plan, SpecError, PEELS_ACCEPTED, type Problem } from "../sizing";

const USAGE = `Usage: npm run -s sizing -- --peels N [--json] [--fact-interval SECONDS]

Prints what Zester's scaling guide asks for N peels: the tier, its topology, per-server
resources, nats-server, client and OS tuning, the KV bucket plan, bandwidth and checklist.

  --peels N                 how many peels (${PEELS_ACCEPTED}); required
  --json                    print the plan as JSON instead of tables
  --fact-interval SECONDS   seconds between two fact syncs of a peel (default 60, which
                            reproduces the guide's bandwidth table)
  -h, --help                show this help

Exit status: 0 on success, 2 on bad input.`;

const FLAG_OF: Record<string, string> = { peels: "peels", factIntervalSeconds: "fact-interval" };

const digits = (accepted: string) =>
  z
    .string()
    .regex(/^\d+$/, { message: `must be ${accepted}` })
    .transform(Number);

const FlagsSchema = z.object({
  peels: digits(PEELS_ACCEPTED).optional(),
  "fact-interval": digits("whole seconds from 1 to 86,400").optional(),
  json: z.boolean().optional(),
  help: z.boolean().optional(),
});

class UsageError extends Error {}

function fail(message: string): never {
  process.stderr.write(`sizing: ${message}\n\nRun with --help for usage.\n`);
  process.exit(2);
}

/** A problem in the flags' own names, with the value as typed. */
function describe(problems: Problem[], argv: string[]): string {
  return problems
    .map((p) => {
      const flag = FLAG_OF[String(p.path[0])] ?? p.path.join(".");
      const given = flagValue(argv, flag);
      return `--${flag}: ${p.message}${given === undefined ? "" : `; got ${JSON.stringify(given)}`}`;
    })
    .join("\n");
}

function flagValue(argv: string[], flag: string): string | undefined {
  const inline = argv.find((a) => a.startsWith(`--${flag}=`));
  if (inline !== undefined) return inline.slice(flag.length + 3);
  const at = argv.indexOf(`--${flag}`);
  return at === -1 ? undefined : argv[at + 1];
}

function main(argv: string[]): void {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        peels: { type: "string" },
        "fact-interval": { type: "string" },
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }));
  } catch (error) {
    // parseArgs refuses `--peels -5` as ambiguous: say what --peels accepts instead.
    const text = error instanceof Error ? error.message : String(error);
    const flag = /'--([a-z-]+)'/.exec(text)?.[1];
    if (flag === "peels" && flagValue(argv, flag) !== undefined) {
      throw new UsageError(`--peels: must be ${PEELS_ACCEPTED}; got ${JSON.stringify(flagValue(argv, flag))}`);
    }
    throw new UsageError(text);
  }
  const flags = FlagsSchema.safeParse(values);
  if (!flags.success) {
    throw new UsageError(
      describe(
        flags.error.issues.map((i) => ({ path: i.path, message: i.message })),
        argv,
      ),
    );
  }
  if (flags.data.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (flags.data.peels === undefined) throw new UsageError(`--peels is required: ${PEELS_ACCEPTED}`);
  const sizing = plan({
    peels: flags.data.peels,
    ...(flags.data["fact-interval"] === undefined ? {} : { factIntervalSeconds: flags.data["fact-interval"] }),
  });
  // The tables' module loads only when tables are asked for.
  process.stdout.write(
    flags.data.json === true
      ? `${JSON.stringify(sizing, null, 2)}\n`
      : (require("./sizing-tables") as typeof import("./sizing-tables")).renderPlanTables(sizing),
  );
}

const argv = process.argv.slice(2);
try {
  main(argv);
} catch (error) {
  if (error instanceof UsageError) fail(error.message);
  if (error instanceof SpecError) fail(describe(error.problems, argv));
  throw error;
}
