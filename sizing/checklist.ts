/** Guide §9: what a tier adds, cumulative. */
import { CHECKLIST } from "./guide";
import { tierIndex } from "./split";
import type { ChecklistItem, TierId } from "./types";

export function checklistFor(tier: TierId): ChecklistItem[] {
  const mine = tierIndex(tier);
  return CHECKLIST.filter((item) => tierIndex(item.since) <= mine).map((item) => ({ ...item }));
}
