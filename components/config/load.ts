/**
 * The one place that reads Pulumi config. `readPlatformConfig()` reads the `ballast:`
 * namespace of the running stack; `parsePlatformConfig()` is the pure core, used by tests
 * and by `npm run render`. All problems are collected and thrown together as a ConfigError
 * before any resource exists.
 */
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import { builtinSecrets, encryptionKeyRotationRefusal, reservedWorkloadNames } from "./builtins";
import { checkBackupSecrets, checkMigrationSafety } from "../backups/config";
import { bootstrapProblems } from "../host/config";
import { receiverNeedsSecret } from "../observability/alertmanager";
import { applyMonitoringSizing } from "../observability/config";
import { ConfigError, configKey, nearestKey, showValue } from "./errors";
import { environmentDefaults, itemDefaults, sshDefaults, type JsonObject } from "./presets";
import { platformInputSchema, secretConfigKeys } from "./schema";
import type { Environment, PlatformConfig, SecretConfig } from "./types";

export const configNamespace = "ballast";

/** Raw stack config as Pulumi hands it over: `ballast:key` -> string (objects JSON-encoded). */
export type RawConfig = Record<string, string>;

export interface LoadedConfig {
  config: PlatformConfig;
  secrets: SecretConfig;
}

/** Reads the running stack's config. The only function in Ballast that touches Pulumi config. */
export function readPlatformConfig(): LoadedConfig {
  return parsePlatformConfig(pulumi.runtime.allConfig(), pulumi.getStack(), pulumi.getProject());
}

/** Pure: validates raw config for a stack; throws ConfigError listing every problem. */
export function parsePlatformConfig(raw: RawConfig, stack: string, project: string): LoadedConfig {
  const problems: string[] = [];
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

  const secretInputs: Record<string, unknown> = {};
  for (const key of secretConfigKeys) {
    if (key in values) {
      secretInputs[key] = values[key];
      delete values[key];
    }
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

  const merged = mergeWithDefaults(values, environment, stack, project);
  const parsed = platformInputSchema.safeParse(merged);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((issue) => describeIssue(issue, merged)));
    throw new ConfigError(problems);
  }

  const monitoring = applyMonitoringSizing(parsed.data.monitoring, environment);
  // One RPO and one drill goal for the stack: the alerts follow ballast:backups unless set explicitly.
  const givenAlerts = (isObject(values.monitoring) && isObject(values.monitoring.alerts) ? values.monitoring.alerts : {}) as JsonObject;
  if (!("rpoHours" in givenAlerts)) monitoring.alerts.rpoHours = parsed.data.backups.rpoHours;
  if (!("restoreDrillMaxMinutes" in givenAlerts)) monitoring.alerts.restoreDrillMaxMinutes = parsed.data.backups.drill.timeoutMinutes;
  const config: PlatformConfig = { project, stack, ...parsed.data, monitoring };
  const secrets = readSecretInputs(secretInputs, problems);
  problems.push(...crossFieldProblems(config, Object.keys(secrets.values)));
  if (problems.length > 0) throw new ConfigError(problems);
  return { config, secrets };
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
  const allowed: Environment[] = ["dev", "staging", "prod"];
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

/** Deep merge of plain objects; arrays and scalars from `override` replace `base`. */
export function deepMerge(base: JsonObject, override: JsonObject): JsonObject {
  const result: JsonObject = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = result[key];
    result[key] = isObject(current) && isObject(value) ? deepMerge(current, value) : value;
  }
  return result;
}

function mergeWithDefaults(values: JsonObject, environment: Environment, stack: string, project: string): JsonObject {
  const merged = deepMerge(environmentDefaults(environment, stack, project), { ...values, environment });
  const compose = merged.compose as JsonObject;
  if (isObject(compose.ssh)) compose.ssh = deepMerge(sshDefaults, compose.ssh);
  const appImage = isObject(merged.app) ? (merged.app.image ?? null) : null;
  for (const list of ["workers", "cronJobs", "services"] as const) {
    const items = merged[list];
    if (Array.isArray(items)) {
      merged[list] = items.map((item) => (isObject(item) ? deepMerge(itemDefaults(environment, list, appImage), item) : item));
    }
  }
  return merged;
}

/** Follows an issue path into the merged input to show the offending value. */
function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let node: unknown = root;
  for (const part of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[part as string];
  }
  return node;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const key = configKey(issue.path);
  const got = `(got ${showValue(valueAt(input, issue.path))})`;
  switch (issue.code) {
    case "unrecognized_keys": {
      const parent = valueAt(input, issue.path);
      const known = Object.keys(shapeAt(issue.path) ?? {}).filter((k) => !(isObject(parent) && k in parent && issue.keys.includes(k)));
      return issue.keys
        .map((unknown) => {
          const suggestion = nearestKey(unknown, known);
          const unknownKey = configKey([...issue.path, unknown]);
          return `${unknownKey}: unknown key${suggestion ? `; did you mean ${configKey([...issue.path, suggestion])}?` : ""}${known.length ? ` (allowed here: ${known.join(", ")})` : ""}`;
        })
        .join("; ");
    }
    case "invalid_type":
      return valueAt(input, issue.path) === undefined
        ? `${key}: required, expected ${issue.expected}`
        : `${key}: expected ${issue.expected} ${got}`;
    case "invalid_value":
      return `${key}: must be one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")} ${got}`;
    case "too_small":
      return `${key}: must be at least ${String(issue.minimum)}${issue.origin === "array" ? " items" : issue.origin === "string" ? " characters" : ""} ${got}`;
    case "too_big":
      return `${key}: must be at most ${String(issue.maximum)}${issue.origin === "array" ? " items" : issue.origin === "string" ? " characters" : ""} ${got}`;
    case "invalid_key":
      return `${key}: invalid key name: ${issue.issues.map((inner) => inner.message).join("; ")}`;
    case "invalid_element":
      return `${key}: invalid entry: ${issue.issues.map((inner) => inner.message).join("; ")}`;
    case "invalid_union":
      return `${key}: ${issue.errors.flat().map((inner) => inner.message)[0] ?? "invalid value"} ${got}`;
    default:
      return `${key}: ${issue.message} ${got}`;
  }
}

/** The zod object shape at a path, to list allowed keys for "did you mean" suggestions. */
function shapeAt(path: ReadonlyArray<PropertyKey>): Record<string, unknown> | undefined {
  let schema: unknown = platformInputSchema;
  for (const part of path) {
    schema = unwrap(schema);
    if (typeof part === "number") {
      schema = (schema as { element?: unknown }).element;
    } else {
      const shape = (schema as { shape?: Record<string, unknown> }).shape;
      schema = shape?.[part as string];
    }
    if (schema === undefined) return undefined;
  }
  return (unwrap(schema) as { shape?: Record<string, unknown> }).shape;
}

/** Sees through optional/pipe/transform wrappers to the object or array schema inside. */
function unwrap(schema: unknown): unknown {
  let current = schema as { def?: { type?: string; innerType?: unknown; in?: unknown } } | undefined;
  for (let depth = 0; depth < 10 && current?.def; depth++) {
    const def = current.def;
    if (def.type === "optional" || def.type === "default" || def.type === "nullable") current = def.innerType as typeof current;
    else if (def.type === "pipe") current = def.in as typeof current;
    else break;
  }
  return current;
}

function readSecretInputs(inputs: Record<string, unknown>, problems: string[]): SecretConfig {
  const secrets: SecretConfig = { values: {} };
  const key = inputs.sshPrivateKey;
  if (key !== undefined) {
    if (typeof key !== "string" || !key.includes("PRIVATE KEY")) {
      problems.push(`${configKey(["sshPrivateKey"])}: must be a PEM/OpenSSH private key (set it with: pulumi config set --secret ballast:sshPrivateKey < ~/.ssh/id_ed25519)`);
    } else {
      secrets.sshPrivateKey = pulumi.secret(key);
    }
  }
  const values = inputs.secretValues;
  if (values !== undefined) {
    if (!isObject(values)) {
      problems.push(`${configKey(["secretValues"])}: must be an object of secret name -> value (pulumi config set --secret --path 'ballast:secretValues.openai-api-key' ...)`);
    } else {
      for (const [name, value] of Object.entries(values)) {
        if (typeof value !== "string" || value.length === 0) {
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

function crossFieldProblems(config: PlatformConfig, suppliedSecretNames: string[]): string[] {
  const problems: string[] = [];
  const declaredSecrets = new Set([...Object.keys(builtinSecrets), ...Object.keys(config.secrets)]);

  for (const name of suppliedSecretNames) {
    if (!declaredSecrets.has(name)) {
      problems.push(
        `${configKey(["secretValues", name])}: secret "${name}" is not declared; declare it under ballast:secrets (with description and rotation) or use a built-in name (${Object.keys(builtinSecrets).join(", ")})`,
      );
    } else if (builtinSecrets[name]?.derived) {
      problems.push(`${configKey(["secretValues", name])}: "${name}" is derived from other secrets and cannot be supplied`);
    }
  }
  for (const name of Object.keys(config.secrets)) {
    if (!suppliedSecretNames.includes(name)) {
      problems.push(
        `${configKey(["secrets", name])}: declared but no value supplied; run: pulumi config set --secret --path 'ballast:secretValues.${name}' <value>`,
      );
    }
    if (name in builtinSecrets) problems.push(`${configKey(["secrets", name])}: "${name}" is a built-in secret; supply its value under ballast:secretValues instead`);
  }

  const checkSecretEnv = (path: (string | number)[], secretEnv: Record<string, string>) => {
    for (const [envName, secret] of Object.entries(secretEnv)) {
      if (!declaredSecrets.has(secret)) {
        problems.push(
          `${configKey([...path, "secretEnv", envName])}: unknown secret ${showValue(secret)}; allowed: built-in secrets (${Object.keys(builtinSecrets).join(", ")}) or names declared under ballast:secrets`,
        );
      }
    }
  };
  checkSecretEnv(["app"], config.app.secretEnv);
  config.workers.forEach((w, i) => checkSecretEnv(["workers", i], w.secretEnv));
  config.cronJobs.forEach((c, i) => checkSecretEnv(["cronJobs", i], c.secretEnv));
  config.services.forEach((s, i) => checkSecretEnv(["services", i], s.secretEnv));

  for (const [name, counter] of Object.entries(config.rotation)) {
    const builtin = builtinSecrets[name];
    if (name === "encryption-key") {
      problems.push(`${configKey(["rotation", name])}: refused (got ${counter}): ${encryptionKeyRotationRefusal}`);
    } else if (!builtin || !builtin.generated) {
      const rotatable = Object.entries(builtinSecrets)
        .filter(([, s]) => s.generated && !s.immutable)
        .map(([n]) => n);
      problems.push(`${configKey(["rotation", name])}: only generated secrets have a rotation counter; allowed: ${rotatable.join(", ")}`);
    }
  }

  if (config.app.migration) {
    const refusal = checkMigrationSafety(config.environment, config.app.migration.command);
    if (refusal) problems.push(refusal);
  }
  problems.push(...checkBackupSecrets(config.backups, suppliedSecretNames));
  problems.push(...bootstrapProblems({ target: config.target, mode: config.compose.mode, bootstrap: config.compose.bootstrap }));
  const { monitoring } = config;
  if (monitoring.enabled && monitoring.alertmanager.enabled && receiverNeedsSecret(monitoring.alertmanager.receiver) && !suppliedSecretNames.includes("alertmanager-receiver")) {
    problems.push(
      `${configKey(["monitoring", "alertmanager", "receiver"])}: the ${monitoring.alertmanager.receiver.type} receiver needs its credential: pulumi config set --secret --path 'ballast:secretValues.alertmanager-receiver' <value>`,
    );
  }

  const seen = new Map<string, string>();
  const claim = (name: string, key: string) => {
    if ((reservedWorkloadNames as readonly string[]).includes(name)) {
      problems.push(`${key}: name ${showValue(name)} is used by Ballast itself; reserved names: ${reservedWorkloadNames.join(", ")}`);
    } else if (seen.has(name)) {
      problems.push(`${key}: name ${showValue(name)} is already used by ${seen.get(name)}; workload names must be unique`);
    } else {
      seen.set(name, key);
    }
  };
  config.workers.forEach((w, i) => claim(w.name, configKey(["workers", i, "name"])));
  config.cronJobs.forEach((c, i) => claim(c.name, configKey(["cronJobs", i, "name"])));
  config.services.forEach((s, i) => claim(s.name, configKey(["services", i, "name"])));
  config.services.forEach((s, i) =>
    s.allowFrom.forEach((peer, j) => {
      if (!seen.has(peer) && peer !== "app") {
        problems.push(`${configKey(["services", i, "allowFrom", j])}: ${showValue(peer)} is not a workload of this stack; allowed: app, ${[...seen.keys()].join(", ")}`);
      }
    }),
  );

  if (config.tls && !/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/.test(config.acmeEmail)) {
    problems.push(`${configKey(["acmeEmail"])}: Let's Encrypt needs a contact address when ballast:tls is true (got ${showValue(config.acmeEmail)})`);
  }
  if (config.environment === "prod" && !config.tls) {
    problems.push(`${configKey(["tls"])}: prod must serve HTTPS (got false); only dev may run without TLS`);
  }
  if (config.domain === "localhost" && config.tls) {
    problems.push(`${configKey(["domain"])}: "localhost" cannot get a Let's Encrypt certificate; set a real domain or ballast:tls false (dev only)`);
  }
  if (config.target === "compose") {
    if (config.compose.mode === "ssh") {
      if (!config.compose.ssh) {
        problems.push(`${configKey(["compose", "ssh"])}: required when ballast:compose.mode is "ssh" (host, user, hostKey, remoteDir)`);
      } else if (!config.compose.ssh.hostKey && config.environment !== "dev") {
        problems.push(
          `${configKey(["compose", "ssh", "hostKey"])}: required for ${config.environment}: without a pinned host key any host key is accepted (get it with: ssh-keyscan -t ed25519 ${config.compose.ssh.host})`,
        );
      }
    }
  }
  for (const [i, worker] of config.workers.entries()) {
    if (worker.autoscaling.enabled && config.target === "compose") continue;
    if (worker.autoscaling.enabled && worker.replicas > worker.autoscaling.maxReplicas) {
      problems.push(`${configKey(["workers", i, "replicas"])}: ${worker.replicas} exceeds autoscaling.maxReplicas (${worker.autoscaling.maxReplicas})`);
    }
  }
  return problems;
}
