/** @servers */
import { replicationAcrossRegions } from "./replication";

replicationAcrossRegions("bookworm");
