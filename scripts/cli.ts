/** What every command-line entry point shares: flag parsing, usage errors, exit statuses. */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { fmt } from "../sizing/format";

/** Bad flags or input: printed with a pointer to --help, exit status 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig["options"]>;

/**
 * parseArgs refuses `--peels -5` as ambiguous; read it as `--peels=-5`, so the flag's own check
 * answers with what it accepts.
 */
function joinNegativeValues(argv: string[], options: Options): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const next = argv[i + 1];
    if (arg.startsWith("--") && options[arg.slice(2)]?.type === "string" && next !== undefined && /^-\d/.test(next)) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

/** Strict parsing: an unknown flag or a positional argument is a UsageError. */
export function parseFlags<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: joinNegativeValues(argv, options), strict: true, allowPositionals: false, options })
      .values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/**
 * Runs `main` and exits: its status on success; 2 for a UsageError or whatever `refused` says is
 * refused input; 1 for anything else. Exits explicitly: Pulumi's runtime and nats.js may keep
 * handles open.
 */
export function runMain(
  name: string,
  main: () => Promise<number> | number,
  refused: (error: unknown) => boolean = () => false,
): void {
  Promise.resolve()
    .then(main)
    .then(
      (code) => {
        exitAfterFlush(code);
      },
      (error: unknown) => {
        if (error instanceof UsageError) {
          process.stderr.write(`${name}: ${error.message}\n\nRun with --help for usage.\n`);
          exitAfterFlush(2);
          return;
        }
        const message = error instanceof Error ? error.message : String(error);
        process.stderr.write(`${name}: ${message}\n`);
        exitAfterFlush(refused(error) ? 2 : 1);
      },
    );
}

/** A flag that must be a whole number in [min, max], digits only; a UsageError names it otherwise. */
export function wholeNumberFlag(flag: string, value: string, min: number, max: number): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max) {
    throw new UsageError(
      `--${flag}: must be a whole number from ${fmt(min)} to ${fmt(max)}; got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

/**
 * Writes to a pipe are asynchronous: exiting at once cuts stdout off at the pipe's buffer (64 KiB,
 * seen with `plan --json` of a leaf tier). Exits once both streams have flushed what came before.
 */
function exitAfterFlush(code: number): void {
  process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}
