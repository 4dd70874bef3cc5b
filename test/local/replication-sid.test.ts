/** @servers @long */
import { replicationAcrossRegions } from "./replication";

replicationAcrossRegions("sid");
