/** What every command-line entry point shares: flag parsing, usage errors, exit statuses. */
import { parseArgs, type ParseArgsConfig } from "node:util";

/** Bad flags or input: printed with a pointer to --help, exit status 2. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** Strict parsing: an unknown flag or a positional argument is a UsageError. */
export function parseFlags<O extends Options>(argv: string[], options: O) {
  try {
    return parseArgs({ args: argv, strict: true, allowPositionals: false, options }).values;
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
      (code) => process.exit(code),
      (error: unknown) => {
        if (error instanceof UsageError) {
          process.stderr.write(`${name}: ${error.message}\n\nRun with --help for usage.\n`);
          process.exit(2);
        }
        const message = error instanceof Error ? error.message : String(error);
        process.stderr.write(`${name}: ${message}\n`);
        process.exit(refused(error) ? 2 : 1);
      },
    );
}
