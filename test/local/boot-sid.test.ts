/** @servers @long */
import { bootTiers } from "./boot-tiers";

bootTiers("sid");
