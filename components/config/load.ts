/**
 * The config pipeline, and the one place that reads Pulumi config:
 *
 *   raw `ballast:*` strings -> decoded values (`platformArgsFromRaw`: the declaration a TypeScript
 *   program would write, `PlatformArgs`) -> unknown top-level keys refused -> environment resolved
 *   -> every default merged (./defaults.ts) -> the schema (./schema.ts, one module per area)
 *   -> cross-key checks (./checks.ts) -> `PlatformConfig` + secret inputs, or one ConfigError
 *   listing every problem.
 *
 * `new Platform(name, args)` calls `resolvePlatformArgs` before it registers anything, so a stack
 * file (`pulumi up`: index.ts hands over `platformArgsFromStackConfig()`) and a program using
 * Ballast as a library get the same checks and the same messages. `parsePlatformConfig()` is the
 * pure core for a stack file's raw values, which tests and `npm run render` call: the messages
 * tests assert are the ones users see.
 */
import { isAbsolute } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { PlatformArgs } from "./args";
import { checkConfig } from "./checks";
import { withDefaults, type JsonObject } from "./defaults";
import { ConfigError, configKey, describeIssue, nearestKey, showValue } from "./errors";
import { loadRepositoryFiles } from "./repository-files";
import { platformInputSchema, secretConfigKeys } from "./schema";
import { ENVIRONMENTS, type Environment } from "./environment";
import type { PlatformConfig, SecretConfig } from "./types";

export const configNamespace = "ballast";

/** Raw stack config as Pulumi hands it over: `ballast:key` -> string (objects JSON-encoded). */
export type RawConfig = Record<string, string>;

export interface LoadedConfig {
  config: PlatformConfig;
  secrets: SecretConfig;
  /** Allowed but weaker than the runbooks ask (logged by `pulumi preview` and `up`). */
  warnings: string[];
}

/** Where a declaration runs, in Pulumi's terms: what `PlatformArgs` may leave out. */
export interface PlatformContext {
  stack: string;
  project: string;
  /** The directory repository files (dashboards, rule files) are relative to. */
  projectRoot: string;
}

/** The keys of `PlatformArgs` that say where the declaration runs, not what it declares. */
const contextKeys = ["project", "stack", "projectRoot"] as const;

/**
 * The running stack's config as Platform args: what index.ts hands to `new Platform`. The only
 * function in Ballast that touches Pulumi config.
 */
export function platformArgsFromStackConfig(): PlatformArgs {
  return { ...platformArgsFromRaw(pulumi.runtime.allConfig()), ...currentPulumiContext() };
}

/** Reads and validates the running stack's config (scripts that need the config without a Platform). */
export function readPlatformConfig(): LoadedConfig {
  const loaded = resolvePlatformArgs(platformArgsFromStackConfig(), currentPulumiContext());
  for (const warning of loaded.warnings) pulumi.log.warn(warning);
  return loaded;
}

/** The running program's project, stack and project directory. */
export function currentPulumiContext(): PlatformContext {
  return { stack: pulumi.getStack(), project: pulumi.getProject(), projectRoot: projectRootDirectory() };
}

/**
 * The directory of Pulumi.yaml, which repository files (dashboards, rule files) are relative
 * to. The CLI passes it to the program; outside the CLI (mocks, `npm run render`) the SDK
 * answers a placeholder, and the process runs in the project root.
 */
function projectRootDirectory(): string {
  const root = pulumi.runtime.getRootDirectory();
  return isAbsolute(root) ? root : process.cwd();
}

/**
 * A stack file's raw `ballast:*` strings, decoded into the declaration a program would write.
 * Not validated yet: the values are whatever the file says, and `resolvePlatformArgs` checks them.
 */
export function platformArgsFromRaw(raw: RawConfig): PlatformArgs {
  const values: JsonObject = {};
  for (const [fullKey, text] of Object.entries(raw)) {
    const [namespace, ...rest] = fullKey.split(":");
    if (namespace !== configNamespace) continue;
    values[rest.join(":")] = decodeValue(text);
  }
  // Pulumi.yaml declares these with default "" (the CLI requires a default): "" means "not set".
  for (const key of ["environment", "target", "domain"]) {
    if (values[key] === "") delete values[key];
  }
  return values as PlatformArgs;
}

/**
 * Validates raw config for a stack; throws ConfigError listing every problem. Pure except
 * for reading the repository files the config names, under `projectRoot`.
 */
export function parsePlatformConfig(raw: RawConfig, stack: string, project: string, projectRoot: string = process.cwd()): LoadedConfig {
  return resolvePlatformArgs(platformArgsFromRaw(raw), { stack, project, projectRoot });
}

/**
 * The declaration with every default merged, validated: throws one ConfigError listing every
 * problem. `context` supplies the project, stack and project root the args leave out. Pure except
 * for reading the repository files the config names.
 */
export function resolvePlatformArgs(args: PlatformArgs, context: PlatformContext): LoadedConfig {
  const problems: string[] = [];
  const { project = context.project, stack = context.stack, projectRoot = context.projectRoot } = args;
  const values: JsonObject = {};
  const secretInputs: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(args)) {
    if (value === undefined || (contextKeys as readonly string[]).includes(key)) continue;
    if ((secretConfigKeys as readonly string[]).includes(key)) secretInputs[key] = value;
    else values[key] = value as JsonObject[string];
  }

  const knownKeys = [...Object.keys(platformInputSchema.shape), ...secretConfigKeys];
  for (const key of Object.keys(values)) {
    if (!knownKeys.includes(key)) {
      const suggestion = nearestKey(key, knownKeys);
      problems.push(
        `${configKey([key])}: unknown key${suggestion ? `; did you mean ${configKey([suggestion])}?` : ""} (known keys: ${knownKeys.join(", ")})`,
      );
      delete values[key];
    }
  }

  const environment = resolveEnvironment(values.environment, stack, problems);
  if (environment === undefined) throw new ConfigError(problems);

  const merged = withDefaults(values, { environment, stack, project });
  const parsed = platformInputSchema.safeParse(merged);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((issue) => describeIssue(issue, merged, platformInputSchema)));
    throw new ConfigError(problems);
  }

  const repositoryFiles = loadRepositoryFiles(parsed.data, projectRoot, problems);
  const config: PlatformConfig = { project, stack, ...parsed.data, repositoryFiles };
  const secrets = readSecretInputs(secretInputs, problems);
  problems.push(...bootstrapKeyProblems(config, secretInputs));
  const checked = checkConfig(config, Object.keys(secrets.values));
  problems.push(...checked.problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, secrets, warnings: checked.warnings };
}

/** Pulumi stores structured values as JSON text and scalars as plain text. */
function decodeValue(text: string): JsonObject[string] {
  const trimmed = text.trim();
  if (trimmed.startsWith("{") || trimmed.startsWith("[") || trimmed === "true" || trimmed === "false" || /^-?\d+(\.\d+)?$/.test(trimmed)) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return text;
    }
  }
  return text;
}

function resolveEnvironment(value: unknown, stack: string, problems: string[]): Environment | undefined {
  const allowed: readonly Environment[] = ENVIRONMENTS;
  if (value !== undefined) {
    if (typeof value === "string" && (allowed as string[]).includes(value)) return value as Environment;
    problems.push(`${configKey(["environment"])}: must be one of ${allowed.join(", ")} (got ${showValue(value)})`);
    return undefined;
  }
  if ((allowed as string[]).includes(stack)) return stack as Environment;
  problems.push(
    `${configKey(["environment"])}: stack "${stack}" is not named dev, staging or prod, so set ballast:environment to one of ${allowed.join(", ")} (it picks the defaults)`,
  );
  return undefined;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * The bootstrap logs in with a key of its own (finding 8 of docs/security.md): when the deploy
 * key is given as a secret and the bootstrap runs over SSH, its key must be given too, and must
 * be another key. Without either secret the SSH agent offers the keys. Never shows a value.
 */
function bootstrapKeyProblems(config: PlatformConfig, inputs: Record<string, unknown>): string[] {
  const bootstrapRuns = config.target === "compose" && config.compose.mode === "ssh" && config.compose.bootstrap.enabled;
  const deployKey = inputs.sshPrivateKey;
  const bootstrapKey = inputs.bootstrapSshPrivateKey;
  if (
    typeof bootstrapKey === "string" &&
    bootstrapKey.trim() !== "" &&
    bootstrapKey.trim() === (typeof deployKey === "string" ? deployKey.trim() : undefined)
  ) {
    return [
      `${configKey(["bootstrapSshPrivateKey"])}: is the same key as ballast:sshPrivateKey; the bootstrap (root on the host) needs a key of its own: ssh-keygen -t ed25519 -f ~/.ssh/ballast_bootstrap, its .pub in ballast:compose.bootstrap.adminKeys`,
    ];
  }
  if (bootstrapRuns && deployKey !== undefined && bootstrapKey === undefined) {
    return [
      `${configKey(["bootstrapSshPrivateKey"])}: required when ballast:sshPrivateKey is set and ballast:compose.bootstrap.enabled is true: the bootstrap logs in with its own key (set it with: pulumi config set --secret ballast:bootstrapSshPrivateKey < ~/.ssh/ballast_bootstrap)`,
    ];
  }
  return [];
}

/**
 * A value a program computes (another resource's Output, a Promise): known only during the update,
 * so it is taken as given (a stack file's values are always strings, checked below).
 */
function isLaterValue(value: unknown): value is pulumi.Output<string> | Promise<string> {
  return pulumi.Output.isInstance(value) || value instanceof Promise;
}

function readSecretInputs(inputs: Record<string, unknown>, problems: string[]): SecretConfig {
  const secrets: SecretConfig = { values: {} };
  for (const [name, file] of [
    ["sshPrivateKey", "ballast_deploy"],
    ["bootstrapSshPrivateKey", "ballast_bootstrap"],
  ] as const) {
    const key = inputs[name];
    if (key === undefined) continue;
    if (isLaterValue(key)) {
      secrets[name] = pulumi.secret(key);
    } else if (typeof key !== "string" || !key.includes("PRIVATE KEY")) {
      problems.push(
        `${configKey([name])}: must be a PEM/OpenSSH private key (set it with: pulumi config set --secret ballast:${name} < ~/.ssh/${file})`,
      );
    } else {
      secrets[name] = pulumi.secret(key);
    }
  }
  const values = inputs.secretValues;
  if (values !== undefined) {
    if (!isObject(values)) {
      problems.push(
        `${configKey(["secretValues"])}: must be an object of secret name -> value (pulumi config set --secret --path 'ballast:secretValues.openai-api-key' ...)`,
      );
    } else {
      for (const [name, value] of Object.entries(values)) {
        if (isLaterValue(value)) {
          secrets.values[name] = pulumi.secret(value);
        } else if (typeof value !== "string" || value.length === 0) {
          // Never echo the value: it is a secret.
          problems.push(`${configKey(["secretValues", name])}: must be a non-empty string`);
        } else {
          secrets.values[name] = pulumi.secret(value);
        }
      }
    }
  }
  return secrets;
}
