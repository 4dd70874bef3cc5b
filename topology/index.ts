export { build, standardAddressing, STANDARD_PORTS, CLUSTER_NAME } from "./build";
export { validate, TopologyError } from "./validate";
export type * from "./types";
export { clientUrl, monitorUrl } from "./types";
