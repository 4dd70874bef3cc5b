import path from "node:path";
import { fetchDebianBinary } from "../../local/nats-binary";
import { ROOT } from "./run";

/** Debian bookworm's promtool (package prometheus), fetched once into .cache/debian-tools/. */
export function promtool(): string {
  return fetchDebianBinary("prometheus", "promtool", "bookworm", path.join(ROOT, ".cache", "debian-tools", "bookworm"));
}
