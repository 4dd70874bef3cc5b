/**
 * The attacks of attacks.ts on bookworm's 2.9.10.
 *
 * @servers
 */
import { attacks } from "./attacks";

attacks("bookworm");
