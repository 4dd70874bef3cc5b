/**
 * The outside tools the twin's sandbox runs that a fresh Debian lacks, as Debian packages to
 * unpack into .cache/ (the caller fetches them: scripts/twin.ts, test/helpers/tools.ts). nft and
 * its libraries run from there with LD_LIBRARY_PATH; nothing is installed.
 */
import path from "node:path";
import type { NftTool } from "./sandbox";

/** nftables and the libraries nft loads that a minimal Debian may not have (libgmp, libtinfo it has). */
export const NFTABLES_PACKAGES = [
  "nftables",
  "libnftables1",
  "libnftnl11",
  "libmnl0",
  "libjansson4",
  "libxtables12",
  "libedit2",
  "libbsd0",
  "libmd0",
] as const;

/** nft in a tree unpacked from NFTABLES_PACKAGES. */
export function nftIn(tree: string): NftTool {
  return {
    bin: path.join(tree, "usr", "sbin", "nft"),
    libraryPath: path.join(tree, "usr", "lib", "x86_64-linux-gnu"),
  };
}
