import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { shippedReconcileCode } from "../../components/reconcile-code";

describe("the shipped KV reconcile bundle", () => {
  let root = "";
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), "zester-bundle-"));
    mkdirSync(path.join(root, "lib"));
    writeFileSync(path.join(root, "lib", "reconcile-job.js"), "exports.handler = 1;\n");
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
  });
  const bundle = () => path.join(root, "lib", "reconcile-job.js");

  test("as installed (no sources beside it) it is read as it is", () => {
    expect(shippedReconcileCode(bundle())).toBe("exports.handler = 1;\n");
  });

  test("in a checkout, a source edited after the bundle was built is refused, naming it and the fix", () => {
    mkdirSync(path.join(root, "jetstream"));
    writeFileSync(path.join(root, "jetstream", "reconcile.ts"), "// edited\n");
    const past = new Date(Date.now() - 60_000);
    utimesSync(bundle(), past, past);
    expect(() => shippedReconcileCode(bundle())).toThrow(
      /^jetstream\/reconcile\.ts is newer than the KV reconcile bundle lib\/reconcile-job\.js: run `npm run build`/,
    );
    utimesSync(
      path.join(root, "jetstream", "reconcile.ts"),
      new Date(past.getTime() - 60_000),
      new Date(past.getTime() - 60_000),
    );
    expect(shippedReconcileCode(bundle())).toBe("exports.handler = 1;\n");
  });
});
