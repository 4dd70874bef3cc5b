/**
 * Who may connect to a topology's servers: the users every server config, client config and
 * admin job is rendered with. Targets generate and store the passwords; renderers only read them.
 */

/** The users a topology has, by role. */
export const USERS = { system: "sys", app: "zester", leaf: "leaf", route: "route" } as const;

/** Passwords of the topology's users, one per role; a target generates and stores them. */
export interface Secrets {
  system: string;
  app: string;
  leaf: string;
  route: string;
}
