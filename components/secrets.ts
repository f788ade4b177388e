/**
 * Secrets: generated with @pulumi/random unless supplied in `ballast:secretValues`,
 * always Pulumi secrets, handed to targets by name. The encryption key is protected:
 * a change that would replace it fails the update instead of silently locking every
 * stored API key (nyxcore runbook, "ENCRYPTION_KEY mismatch").
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  alertReceivers,
  builtinSecrets,
  DEFAULT_RECEIVER,
  ENCRYPTION_KEY_PREVIOUS_SECRET,
  encryptionKeyGenerations,
  rotationCounters,
  type EncryptionKeyGenerations,
  type PlatformConfig,
  type SecretConfig,
} from "./config";
import { stackEndpoints } from "./names";
import type { SecretSpec } from "./spec";
import type { SecretValues } from "./targets/target";

export interface SecretsArgs {
  /** Validated stack config (rotation counters, declared user secrets, Postgres app role and database). */
  config: PlatformConfig;
  /** Values supplied through `ballast:secretValues`, already Pulumi secrets. */
  supplied: SecretConfig["values"];
  /** Secret names some workload uses; only these are generated (no Grafana password without Grafana). */
  used: ReadonlySet<string>;
}

export class Secrets extends pulumi.ComponentResource {
  /** Every secret value by name, all Pulumi secrets. */
  readonly values: SecretValues;
  /** What each secret is and how to rotate it (for targets and the runbook). */
  readonly specs: SecretSpec[];

  constructor(name: string, args: SecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ballast:secrets:Secrets", name, {}, opts);
    const { config, supplied, used } = args;
    const values: SecretValues = {};
    const specs: SecretSpec[] = [];

    const needed = (secret: string) =>
      used.has(secret) ||
      (secret === "postgres-app-password" && used.has("database-url")) ||
      (secret === "redis-password" && (used.has("redis-url") || used.has("redis-password")));

    const endpoints = stackEndpoints(config);
    const counters = rotationCounters(config, Object.keys(supplied));
    for (const [secretName, builtin] of Object.entries(builtinSecrets)) {
      if (builtin.derived || !needed(secretName)) continue;
      // An external database brings its own credentials inside database-url.
      if (secretName.startsWith("postgres-") && endpoints.postgres.kind === "external") continue;
      if (secretName === "encryption-key" && config.encryptionKeyRotation && supplied[secretName] === undefined) {
        const keys = this.encryptionKeys(encryptionKeyGenerations(config, Object.keys(supplied)));
        values[secretName] = keys.current;
        specs.push({
          name: secretName,
          description: builtin.description,
          rotation: twoKeyRotation(config.encryptionKeyRotation.previousKeyEnv),
          immutable: false,
        });
        if (keys.previous && used.has(ENCRYPTION_KEY_PREVIOUS_SECRET)) {
          values[ENCRYPTION_KEY_PREVIOUS_SECRET] = keys.previous;
          specs.push({
            name: ENCRYPTION_KEY_PREVIOUS_SECRET,
            description: `The encryption key before the last rotation (${config.encryptionKeyRotation.previousKeyEnv}), kept while the stored data is re-encrypted`,
            rotation: "dropped when ballast:encryptionKeyRotation.reencrypted reaches the key's generation",
            immutable: true,
          });
        }
        continue;
      }
      const value =
        supplied[secretName] ?? (builtin.generated ? this.generate(secretName, counters[secretName] ?? 0, builtin.immutable) : undefined);
      // Supplied-only secrets (S3 keys, receiver credentials) are checked by config validation.
      if (value === undefined)
        throw new Error(
          `secret "${secretName}" is used but has no value: pulumi config set --secret --path 'ballast:secretValues.${secretName}' <value>`,
        );
      values[secretName] = value;
      specs.push({ name: secretName, description: builtin.description, rotation: builtin.rotation, immutable: builtin.immutable });
    }

    const postgres = endpoints.postgres;
    if (used.has("database-url")) {
      values["database-url"] =
        postgres.kind === "external"
          ? pulumi.secret(supplied["database-url"])
          : pulumi.secret(
              pulumi.interpolate`postgresql://${postgres.roles.app}:${values["postgres-app-password"]}@${postgres.host}:${postgres.port}/${postgres.database}`,
            );
      specs.push({ name: "database-url", ...pick(builtinSecrets["database-url"]) });
    }
    if (used.has("redis-url") && endpoints.redis) {
      values["redis-url"] = pulumi.secret(
        pulumi.interpolate`redis://:${values["redis-password"]}@${endpoints.redis.host}:${endpoints.redis.port}/0`,
      );
      specs.push({ name: "redis-url", ...pick(builtinSecrets["redis-url"]) });
    }
    // Named Alertmanager receivers read `alertmanager-receiver-<name>`; config validation made sure it is supplied.
    for (const receiver of alertReceivers(config.monitoring)) {
      if (!receiver.secret || receiver.name === DEFAULT_RECEIVER || !used.has(receiver.secret)) continue;
      values[receiver.secret] = supplied[receiver.secret];
      specs.push({
        name: receiver.secret,
        description: `Credential of the Alertmanager receiver \`${receiver.name}\` (${receiver.config.type}: ${receiver.config.type === "slack" ? "incoming-webhook URL" : receiver.config.type === "pagerduty" ? "Events API v2 routing key" : receiver.config.type === "email" ? "SMTP password" : "bearer token"})`,
        rotation: `issue a new one at the receiver, pulumi config set --secret --path 'ballast:secretValues.${receiver.secret}', pulumi up`,
        immutable: false,
      });
    }
    for (const [secretName, declared] of Object.entries(config.secrets)) {
      values[secretName] = supplied[secretName];
      specs.push({ name: secretName, description: declared.description, rotation: declared.rotation, immutable: false });
    }

    this.values = values;
    this.specs = specs;
    this.registerOutputs({ names: specs.map((s) => s.name) });
  }

  /**
   * The encryption keys of an app that reads two: one RandomBytes per generation (generation 0 keeps
   * the original resource name, so opting in changes nothing). The generation before the current
   * one stays declared: protected while the data may still be encrypted with it, unprotected once
   * re-encrypted, so the next rotation can drop it. No keeper: a key's value never changes.
   */
  private encryptionKeys(generations: EncryptionKeyGenerations): { current: pulumi.Output<string>; previous?: pulumi.Output<string> } {
    const key = (generation: number, protect: boolean) => {
      const bytes = new random.RandomBytes(
        generation === 0 ? "encryption-key" : `encryption-key-${generation}`,
        { length: 32 },
        { parent: this, protect, additionalSecretOutputs: ["hex", "base64"] },
      );
      return pulumi.secret(bytes.hex);
    };
    const current = key(generations.current, true);
    if (generations.current === 0) return { current };
    const previous = key(generations.current - 1, generations.previous !== undefined);
    return generations.previous === undefined ? { current } : { current, previous };
  }

  /** A URL-safe random secret; the rotation counter is a keeper, so bumping it regenerates the value. */
  private generate(secretName: string, rotation: number, immutable: boolean): pulumi.Output<string> {
    if (immutable) {
      // 32 random bytes as hex: the AES-256 key format the runbooks' apps expect.
      const key = new random.RandomBytes(
        secretName,
        { length: 32 },
        { parent: this, protect: true, additionalSecretOutputs: ["hex", "base64"] },
      );
      return pulumi.secret(key.hex);
    }
    const password = new random.RandomPassword(
      secretName,
      { length: 32, special: false, keepers: { rotation: String(rotation) } },
      { parent: this, additionalSecretOutputs: ["result"] },
    );
    return pulumi.secret(password.result);
  }
}

/** How the encryption key rotates when the app reads two keys (`ballast:encryptionKeyRotation`). */
export function twoKeyRotation(previousKeyEnv: string): string {
  return (
    `bump ballast:rotation.encryption-key (or ballast:rotation.all), pulumi up: its users get the new key and the old one as ${previousKeyEnv}; ` +
    "re-encrypt the stored data, then set ballast:encryptionKeyRotation.reencrypted to the new generation and pulumi up: the old key is dropped"
  );
}

function pick(builtin: { description: string; rotation: string; immutable: boolean }) {
  return { description: builtin.description, rotation: builtin.rotation, immutable: builtin.immutable };
}
