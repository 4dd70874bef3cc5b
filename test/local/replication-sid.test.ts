/** @servers */
import { replicationAcrossRegions } from "./replication";

replicationAcrossRegions("sid");
