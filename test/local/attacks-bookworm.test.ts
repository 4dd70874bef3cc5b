import { attacks } from "./attacks";

attacks("bookworm");
