/** @servers */
import { securityChecks } from "./security-checks";

securityChecks("sid");
