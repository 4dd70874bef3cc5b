import { fetchDebianTool } from "../../local/debian-archive";

/** Debian bookworm's promtool (package prometheus); global-setup.cjs fetches it before the tests. */
export function promtool(): string {
  return fetchDebianTool("prometheus", "promtool", "bookworm");
}
