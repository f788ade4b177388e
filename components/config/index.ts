export * from "./types";
export { ConfigError } from "./errors";
export { parsePlatformConfig, readPlatformConfig, type LoadedConfig, type RawConfig } from "./load";
export { builtinSecrets, reservedWorkloadNames } from "./builtins";
