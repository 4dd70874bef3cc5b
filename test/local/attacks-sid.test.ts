import { attacks } from "./attacks";

attacks("sid");
