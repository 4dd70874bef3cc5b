/** Binaries a cloud server downloads: always over https, always checked against a SHA-256 first. */

export interface PinnedDownload {
  url: string;
  /** Hex SHA-256 of the file at `url`. */
  sha256: string;
}

export interface BinaryPin extends PinnedDownload {
  /** Where the binary goes. */
  dest: string;
  /** `tar.gz`: the binary is the archive member with this file name; absent: the file itself. */
  member?: string;
  /** A Debian package: installed with dpkg once downloaded to `dest`. @default false */
  package?: boolean;
}

export function checkPin(what: string, pin: PinnedDownload): void {
  if (!/^https:\/\/\S+$/.test(pin.url))
    throw new Error(`${what}.url must be an https:// URL; got ${JSON.stringify(pin.url)}`);
  if (!/^[0-9a-f]{64}$/.test(pin.sha256))
    throw new Error(`${what}.sha256 must be 64 lowercase hex digits; got ${JSON.stringify(pin.sha256)}`);
}

/** A shell line that downloads, checks the checksum, and only then installs. */
export function installCommand(pin: PinnedDownload, file: string, extract: string): string {
  return `set -eu; curl -fsSL --retry 5 -o ${file} '${pin.url}'; echo '${pin.sha256}  ${file}' | sha256sum -c -; ${extract}`;
}
