/**
 * The JetStream data disk of a cloud server: a script and a oneshot unit that run on **every
 * boot**, before nats-server. Instance-store NVMe comes back blank after a stop/start (same
 * instance id, so cloud-init's once-per-instance modules would not run again); an EBS volume
 * attached after launch may appear only after boot has begun. Both are handled here.
 */
import { z } from "zod";
import { serializeUnit } from "./systemd";

/** A cloud server's data disk; a deployment record names these among its data kinds (change/deployment.ts). */
export const DataDiskKindSchema = z.enum(["ebs", "instance-store"]);
export type DataDiskKind = z.infer<typeof DataDiskKindSchema>;

/** lsblk's MODEL of each kind of disk on Nitro instances. */
export const DISK_MODELS: Record<DataDiskKind, string> = {
  ebs: "Amazon Elastic Block Store",
  "instance-store": "Amazon EC2 NVMe Instance Storage",
};

export const DATA_DISK_SCRIPT = "/usr/local/sbin/zester-data-disk";
export const DATA_DISK_UNIT = "zester-data-disk.service";

/**
 * `disks` is how many devices to expect (several instance-store disks are striped, RAID0).
 * Devices may also be given as arguments, which skips discovery by model name.
 */
export function dataDiskScript(kind: DataDiskKind, disks: number, mountPoint: string, owner: string): string {
  return `#!/bin/sh
# ${DATA_DISK_SCRIPT}, rendered by zester-infra: finds, prepares and mounts the JetStream disk
# (${kind}, ${String(disks)} device${disks === 1 ? "" : "s"}) at ${mountPoint}. Runs on every boot; formats only a blank device.
set -eu
mnt='${mountPoint}'
want=${String(disks)}
# A volume grown in place (EBS Elastic Volumes) keeps its file system's size until it is grown:
# grown here at every boot and, run by the agent with ZESTER_DATA_DISK_GROW_ONLY=1, while it runs.
if mountpoint -q "$mnt"; then
  xfs_growfs "$mnt" >/dev/null
  exit 0
fi
if [ "\${ZESTER_DATA_DISK_GROW_ONLY:-}" = 1 ]; then exit 0; fi

root_disk=$(lsblk -no PKNAME "$(findmnt -no SOURCE /)" || true)
find_disks() {
  lsblk -dpno NAME,MODEL | awk -v model='${DISK_MODELS[kind]}' -v root="/dev/$root_disk" \\
    'index($0, model) > 0 && $1 != root { print $1 }'
}

if [ "$#" -gt 0 ]; then
  devices="$*"
else
  # A volume attached after launch can take a while to show up.
  tries=0
  devices=$(find_disks)
  while [ "$(echo "$devices" | wc -w)" -lt "$want" ]; do
    tries=$((tries + 1))
    if [ "$tries" -gt 120 ]; then
      echo "zester-data-disk: expected $want ${kind} device(s), found: \${devices:-none}" >&2
      exit 1
    fi
    sleep 5
    devices=$(find_disks)
  done
fi

count=$(echo "$devices" | wc -w)
if [ "$count" -gt 1 ]; then
  device=/dev/md/zester-data
  if [ ! -e "$device" ]; then
    # shellcheck disable=SC2086 # one word per device
    mdadm --assemble "$device" $devices 2>/dev/null ||
      mdadm --create "$device" --run --level=0 --raid-devices="$count" $devices
  fi
else
  device=$devices
fi

if [ -z "$(blkid -o value -s TYPE "$device" || true)" ]; then
  mkfs.xfs -q "$device"
fi
mkdir -p "$mnt"
mount -o noatime "$device" "$mnt"
xfs_growfs "$mnt" >/dev/null
chown ${owner}:${owner} "$mnt" 2>/dev/null || true
`;
}

export function dataDiskUnit(mountPoint: string): string {
  return serializeUnit(
    {
      Unit: {
        Description: `JetStream data disk at ${mountPoint} (zester-infra)`,
        Before: "nats-server.service",
        After: "local-fs.target",
      },
      Service: {
        Type: "oneshot",
        RemainAfterExit: "yes",
        ExecStart: DATA_DISK_SCRIPT,
        TimeoutStartSec: 900,
      },
      // nats-server never starts on the root disk: it requires this unit.
      Install: { RequiredBy: "nats-server.service", WantedBy: "multi-user.target" },
    },
    `${DATA_DISK_UNIT}, rendered by zester-infra`,
  );
}
