/**
 * Where a twin process's compiled script is: beside the caller when it runs from dist/, else in
 * dist/ (a test runs the sources; the process it starts runs the build). The callers sit two
 * folders below the root (twin/host, twin/aws).
 */
import { existsSync } from "node:fs";
import path from "node:path";

export function builtScript(callerFile: string, relative: string, what: string): string {
  const script = callerFile.endsWith(".js")
    ? path.join(path.dirname(callerFile), `${path.basename(relative)}.js`)
    : path.resolve(path.dirname(callerFile), "..", "..", "dist", `${relative}.js`);
  if (!existsSync(script)) throw new Error(`${what} ${script} is not built: run \`npm run build\``);
  return script;
}
