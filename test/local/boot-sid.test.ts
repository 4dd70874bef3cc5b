/** @servers */
import { bootTiers } from "./boot-tiers";

bootTiers("sid");
