/**
 * The sizing calculator: `npm run -s sizing -- --peels N [--json] [--fact-interval SECONDS]`.
 * Loads only `sizing/` (never Pulumi), so it starts about as fast as Node itself.
 */
import { z } from "zod";
import { plan, SpecError, PEELS_ACCEPTED, type Problem } from "../sizing";
import { parseFlags, runMain, UsageError } from "./cli";

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

function main(argv: string[]): number {
  const values = parseFlags(argv, {
    peels: { type: "string" },
    "fact-interval": { type: "string" },
    json: { type: "boolean" },
    help: { type: "boolean", short: "h" },
  });
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
    return 0;
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
  return 0;
}

const argv = process.argv.slice(2);
runMain("sizing", () => {
  try {
    return main(argv);
  } catch (error) {
    // Plan errors speak of spec fields: say them in the flags' own names.
    if (error instanceof SpecError) throw new UsageError(describe(error.problems, argv));
    throw error;
  }
});
