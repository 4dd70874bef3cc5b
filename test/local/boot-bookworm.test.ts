/** @servers */
import { bootTiers } from "./boot-tiers";

bootTiers("bookworm");
