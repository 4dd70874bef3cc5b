/**
 * cloud-init on a twin host, run for real: Debian's cloud-init (bookworm's, an image layer:
 * image.ts) runs its four stages as its own units (cloud-init-local, cloud-init, cloud-config,
 * cloud-final) in the host's boot order (systemd.ts), with the instance's user data from a
 * NoCloud seed (cloud-init's documentation: "NoCloud" datasource, seed folder
 * /var/lib/cloud/seed/nocloud with `meta-data` and `user-data`). Its modules run as its
 * configuration lists them: write_files (and deferred), users-groups, set-hostname,
 * update-hostname, ssh, runcmd, scripts-user, package-update-upgrade-install and the rest of
 * Debian's /etc/cloud/cloud.cfg; what each did is in the host's /var/log/cloud-init.log and
 * /run/cloud-init/result.json.
 *
 * What the twin stands in for, in one place (docs/twin.md lists it with cloud-init's docs):
 * - the datasource: NoCloud from a seed folder, where EC2 would be read from the instance
 *   metadata service (a provider twin that serves IMDS may configure the Ec2 datasource instead);
 * - cloud-init's systemd generator (which enables cloud-init.target when ds-identify finds a
 *   datasource): this boot hook links cloud-init.target into multi-user.target.wants at every boot;
 * - `network: {config: disabled}`: the twin configures each host's interface itself;
 * - `locale: C.UTF-8`: the image generates no other locale (Debian's default en_US.UTF-8 needs
 *   locale-gen and its data);
 * - packages: the `apt-get` stand-in (machine.ts) answers `install` from what the image holds.
 */
import type { BootHook, Machine } from "./machine";

export interface CloudInitSeed {
  /** The instance's user data, as given (`#cloud-config …`, a script, or a multipart archive). */
  userData: string;
  /** meta-data's instance-id: a new one runs the once-per-instance modules again. */
  instanceId: string;
  /** meta-data's local-hostname. */
  hostname: string;
}

/** The image's own cloud-init configuration (a cloud image ships one, e.g. Debian's 01_debian_cloud.cfg). */
export const TWIN_CLOUD_CFG = `# The zester-infra twin's image (docs/twin.md)
datasource_list: [NoCloud]
network: {config: disabled}
locale: C.UTF-8
`;

/**
 * The boot hook that runs cloud-init: the seed (`seed()` is asked at every boot, so a changed
 * user data is what the next boot reads, as on EC2 after a stop) and cloud-init.target enabled
 * for this boot.
 */
export function cloudInitBoot(seed: () => CloudInitSeed): BootHook {
  return async (machine: Machine) => {
    const { userData, instanceId, hostname } = seed();
    const files: [string, string][] = [
      ["/etc/cloud/cloud.cfg.d/90-zester-twin.cfg", TWIN_CLOUD_CFG],
      ["/var/lib/cloud/seed/nocloud/meta-data", `instance-id: ${instanceId}\nlocal-hostname: ${hostname}\n`],
      ["/var/lib/cloud/seed/nocloud/user-data", userData],
    ];
    for (const [path, content] of files) await machine.writeFile(path, content, "0600");
    await machine.sh(
      "mkdir -p /run/systemd/generator.early/multi-user.target.wants && ln -sf /usr/lib/systemd/system/cloud-init.target /run/systemd/generator.early/multi-user.target.wants/cloud-init.target",
    );
  };
}

/** cloud-init's own account of its last run (`/run/cloud-init/result.json` and its log), once cloud-final is done. */
export interface CloudInitResult {
  datasource: string;
  errors: string[];
  /** The modules that ran (not skipped, not "previously ran") in this boot, by stage. */
  ran: string[];
}

export async function cloudInitResult(machine: Machine): Promise<CloudInitResult | undefined> {
  const r = await machine.sh("cat /run/cloud-init/result.json 2>/dev/null || true");
  if (r.stdout.trim() === "") return undefined;
  const parsed = JSON.parse(r.stdout) as { v1?: { datasource?: string; errors?: string[] } };
  // This boot's part of the log: from the last "init --local" on.
  const log = (await machine.sh("cat /var/log/cloud-init.log 2>/dev/null || true")).stdout;
  const boot = log.slice(Math.max(0, log.lastIndexOf("running 'init-local'")));
  const ran = [
    ...boot.matchAll(/finish: ([a-z-]+)\/config-([a-z_-]+): SUCCESS: config-[a-z_-]+ ran successfully/g),
  ].map((m) => `${m[1] ?? ""}/${m[2] ?? ""}`);
  return { datasource: parsed.v1?.datasource ?? "", errors: parsed.v1?.errors ?? [], ran };
}
