/**
 * The outside tools the twin's sandbox runs that a fresh Debian lacks, as Debian packages to
 * unpack into .cache/ (the caller fetches them: scripts/twin-daemon.ts, test/helpers/tools.ts).
 * nft and xfs_db run from there with LD_LIBRARY_PATH; xfsprogs and cloud-init also become image
 * layers of the hosts (image.ts); nothing is installed.
 */
import path from "node:path";

/** A program unpacked from Debian, run with its own libraries first. */
export interface UnpackedTool {
  bin: string;
  libraryPath: string;
}

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

/**
 * xfsprogs and the libraries its programs load that a minimal Debian may not have (libuuid,
 * libblkid, libtinfo it has): the real mkfs.xfs, xfs_db and xfs_repair run on a volume's image.
 */
export const XFSPROGS_PACKAGES = ["xfsprogs", "libinih1", "liburcu8", "libedit2", "libbsd0", "libmd0"] as const;

/**
 * cloud-init's own package and the Python modules it imports that Python's standard library
 * lacks. Without jsonschema (and its attr and pyrsistent) `cloud-init schema` skips the
 * validation and calls anything valid (test/helpers/tools.ts proves it refuses a bad config).
 */
export const CLOUD_INIT_PACKAGES = [
  "cloud-init",
  "python3-yaml",
  "python3-jsonschema",
  "python3-attr",
  "python3-pyrsistent",
  "python3-jsonpatch",
  "python3-json-pointer",
  "python3-configobj",
  "python3-six",
  "python3-requests",
  "python3-urllib3",
  "python3-idna",
  "python3-certifi",
  "python3-charset-normalizer",
  "python3-chardet",
] as const;

/** mkfs.xfs and xfs_db in a tree unpacked from XFSPROGS_PACKAGES, as the twin itself runs them on an image. */
export function xfsToolsIn(tree: string): { mkfs: UnpackedTool; db: UnpackedTool } {
  const libraryPath = path.join(tree, "usr", "lib", "x86_64-linux-gnu");
  return {
    mkfs: { bin: path.join(tree, "sbin", "mkfs.xfs"), libraryPath },
    db: { bin: path.join(tree, "usr", "sbin", "xfs_db"), libraryPath },
  };
}

/** nft in a tree unpacked from NFTABLES_PACKAGES. */
export function nftIn(tree: string): UnpackedTool {
  return {
    bin: path.join(tree, "usr", "sbin", "nft"),
    libraryPath: path.join(tree, "usr", "lib", "x86_64-linux-gnu"),
  };
}
