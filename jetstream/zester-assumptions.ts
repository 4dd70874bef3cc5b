/**
 * What this project assumes about Zester lives in topology/zester-assumptions.ts, in one place:
 * the server configs' permissions are built from it, and the pure core may not import this folder.
 */
export * from "../topology/zester-assumptions";
