export { plan, tierFor } from "./plan";
export { TIERS } from "./guide";
export {
  SpecError,
  SizingSpecSchema,
  parseSizingSpec,
  withPeels,
  PEELS_ACCEPTED,
  type SizingSpec,
  type SizingSpecInput,
  type Problem,
} from "./spec";
export type * from "./types";
