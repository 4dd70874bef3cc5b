/**
 * `zester-apply`: makes a cloud server match its **current** user data on every boot. A cloud
 * target changes a surviving server's config by updating its user data in place (a stop and a
 * start), but cloud-init writes files and runs commands once per instance. This unit, ordered
 * before nats-server and the Zester master, reads the user data from the instance metadata
 * service (IMDSv2), rewrites every `write_files` entry that differs, and installs each pinned
 * binary whose checksum changed (downloaded, checked, then swapped in). The first boot runs it
 * too, so there is one way binaries get installed.
 *
 * Python 3 and PyYAML are what cloud-init itself runs on, so every image that takes this user
 * data has them.
 */
import { serializeUnit } from "./systemd";

export const APPLY_SCRIPT = "/usr/local/sbin/zester-apply";
export const APPLY_UNIT = "zester-apply.service";
export const PINS_FILE = "/etc/zester/pins.json";
export const APPLY_STATE = "/var/lib/zester/installed.json";

export interface BinaryPin {
  url: string;
  sha256: string;
  /** Where the binary goes. */
  dest: string;
  /** `tar.gz`: the binary is the archive member with this file name; absent: the file itself. */
  member?: string;
}

export function pinsFile(pins: Record<string, BinaryPin>): string {
  return `${JSON.stringify(pins, null, 2)}\n`;
}

export function applyScript(): string {
  return `#!/usr/bin/python3
"""${APPLY_SCRIPT}, rendered by zester-infra.

Brings this server to its current user data: rewrites the write_files entries that differ and
installs the pinned binaries whose SHA-256 changed. Runs on every boot before nats-server.
ZESTER_IMDS and ZESTER_ROOT (a directory standing in for /; owners are then not applied) exist
for tests and rescue.
"""
import hashlib, io, json, os, pwd, grp, subprocess, sys, tarfile, tempfile, time, urllib.request

import yaml

IMDS = os.environ.get("ZESTER_IMDS", "http://169.254.169.254")
ROOT = os.environ.get("ZESTER_ROOT", "/")
PINS = "${PINS_FILE}"
STATE = "${APPLY_STATE}"


def at(path):
    return os.path.join(ROOT, path.lstrip("/"))


def get(request, timeout):
    for attempt in range(1, 6):
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read()
        except OSError as error:
            if attempt == 5:
                raise
            print(f"zester-apply: {error}; retrying", file=sys.stderr)
            time.sleep(2 * attempt)


def user_data():
    token = get(urllib.request.Request(IMDS + "/latest/api/token", method="PUT",
                                       headers={"X-aws-ec2-metadata-token-ttl-seconds": "300"}), 5)
    return get(urllib.request.Request(IMDS + "/latest/user-data",
                                      headers={"X-aws-ec2-metadata-token": token.decode()}), 5)


def replace(path, data, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path))
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def write(entry):
    path = at(entry["path"])
    data = entry.get("content", "").encode()
    mode = int(str(entry.get("permissions", "0644")), 8)
    changed = not os.path.exists(path) or open(path, "rb").read() != data
    if changed:
        replace(path, data, mode)
    os.chmod(path, mode)
    if ROOT == "/":
        user, _, group = entry.get("owner", "root:root").partition(":")
        os.chown(path, pwd.getpwnam(user).pw_uid, grp.getgrnam(group or user).gr_gid)
    return changed


def install(name, pin):
    data = get(pin["url"], 120)
    digest = hashlib.sha256(data).hexdigest()
    if digest != pin["sha256"]:
        sys.exit(f"zester-apply: {name}: {pin['url']} has SHA-256 {digest}, not {pin['sha256']}; nothing installed")
    if "member" in pin:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            member = next((m for m in archive.getmembers()
                           if m.isfile() and os.path.basename(m.name) == pin["member"]), None)
            if member is None:
                sys.exit(f"zester-apply: {name}: no {pin['member']} in {pin['url']}")
            data = archive.extractfile(member).read()
    replace(at(pin["dest"]), data, 0o755)


def main():
    document = yaml.safe_load(user_data())
    changed = [entry["path"] for entry in document.get("write_files", []) if write(entry)]
    pins = json.load(open(at(PINS)))
    state = json.load(open(at(STATE))) if os.path.exists(at(STATE)) else {}
    installed = []
    for name, pin in sorted(pins.items()):
        if state.get(name) != pin["sha256"] or not os.path.exists(at(pin["dest"])):
            install(name, pin)
            state[name] = pin["sha256"]
            installed.append(name)
    replace(at(STATE), json.dumps(state, indent=2).encode(), 0o644)
    if ROOT == "/":
        subprocess.run(["systemctl", "daemon-reload"], check=True)
        if any(path.startswith("/etc/sysctl.d/") for path in changed):
            subprocess.run(["sysctl", "--system"], check=True, stdout=subprocess.DEVNULL)
    print(json.dumps({"changed": changed, "installed": installed}))


main()
`;
}

export function applyUnit(): string {
  return serializeUnit(
    {
      Unit: {
        Description: "Bring this server to its current user data (zester-infra)",
        After: "network-online.target",
        Wants: "network-online.target",
        Before: ["nats-server.service", "zester-master.service"],
      },
      Service: { Type: "oneshot", RemainAfterExit: "yes", ExecStart: APPLY_SCRIPT, TimeoutStartSec: 900 },
      // Wanted, not required: if the metadata service cannot be read, the server starts with
      // the files it has.
      Install: { WantedBy: "multi-user.target" },
    },
    `${APPLY_UNIT}, rendered by zester-infra`,
  );
}
