import { z } from "zod";

/** done: this stack does it · operator: left to the operator, with how · zester: Zester's own job. */
export const ChecklistStatusSchema = z.enum(["done", "operator", "zester"]);

/** What a target did for each of the guide's checklist items of the tier (a stack output). */
export interface ChecklistStatus {
  id: string;
  item: string;
  status: z.infer<typeof ChecklistStatusSchema>;
  how: string;
}
