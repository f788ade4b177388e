/**
 * Ballast as a library: what a Pulumi program imports to declare the whole stack in TypeScript
 * (examples/library/). `Platform` takes the declaration (`PlatformArgs`, every key documented with
 * its default); the stack-file program (index.ts) is one user of it.
 */
export { Platform } from "./platform";
export { ConfigError, resolvePlatformArgs, type LoadedConfig, type PlatformConfig } from "./config";
export type * from "./config/args";
