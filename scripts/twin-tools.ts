/**
 * The Debian tools a twin runs, fetched from Debian's archive into .cache/ (never installed):
 * nftables (the twin's packet filter and load balancers), xfsprogs (every host's image) and
 * cloud-init (the image of a host that boots from user data). One place: the daemon and the
 * tests both take them from here.
 */
import path from "node:path";
import { cacheDir, fetchDebianTree } from "../local/debian-archive";
import { CLOUD_INIT_PACKAGES, NFTABLES_PACKAGES, XFSPROGS_PACKAGES, nftIn } from "../twin/host/tools";
import type { TwinTools } from "../twin/daemon/twin";

/** The suite the twin's tools come from. */
const SUITE = "bookworm";
const treeOf = (name: string, packages: readonly string[]): string =>
  fetchDebianTree([...packages], SUITE, path.join(cacheDir(), "debian-tools", SUITE, name));

export const nftablesTree = (): string => treeOf("nftables", NFTABLES_PACKAGES);
export const xfsprogsTree = (): string => treeOf("xfsprogs", XFSPROGS_PACKAGES);
export const cloudInitTree = (): string => treeOf("cloud-init", CLOUD_INIT_PACKAGES);

/** Every tool a twin runs (fetched the first time; a no-op once .cache/ has them). */
export function twinTools(): TwinTools {
  return { nft: nftIn(nftablesTree()), xfsprogs: xfsprogsTree(), cloudInit: cloudInitTree() };
}
