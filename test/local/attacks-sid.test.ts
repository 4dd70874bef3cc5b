/**
 * The attacks of attacks.ts on the current nats-server (Debian sid's).
 *
 * @servers
 */
import { attacks } from "./attacks";

attacks("sid");
