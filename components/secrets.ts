/**
 * Secrets: generated with @pulumi/random unless supplied in `ballast:secretValues`,
 * always Pulumi secrets, handed to targets by name. The encryption key is protected:
 * a change that would replace it fails the update instead of silently locking every
 * stored API key (nyxcore runbook, "ENCRYPTION_KEY mismatch").
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import {
  builtinSecrets,
  DEFAULT_RECEIVER,
  ENCRYPTION_KEY_PREVIOUS_SECRET,
  type AlertReceiver,
  type EncryptionKeyGenerations,
  type SecretConfig,
} from "./config";
import type { StackEndpoints } from "./names";
import type { SecretSpec } from "./spec";
import type { SecretValues } from "./targets/target";
import { childUrn, LEGACY_SECRETS } from "./upgrades";

/** The encryption key's two-key rotation, as the Secrets component needs it. */
export interface EncryptionKeyRotationArgs {
  /** The variable the app reads the previous key from (`ballast:encryptionKeyRotation.previousKeyEnv`). @default none: required */
  previousKeyEnv: string;
  /** The generations to declare (`encryptionKeyGenerations`): the current one, and the previous one during re-encryption. @default none: required */
  generations: EncryptionKeyGenerations;
}

export interface SecretsArgs {
  /**
   * Secret names some workload uses (as an environment variable or a file): only these are
   * generated or handed on, so a stack without Grafana gets no Grafana password.
   * @default none: required
   */
  used: ReadonlySet<string>;
  /**
   * Where the stack's Postgres and Redis answer (`stackEndpoints`): `database-url` and `redis-url`
   * are built from them; an external database brings its own credentials inside `database-url`.
   * @default none: required
   */
  endpoints: StackEndpoints;
  /**
   * Values supplied in `ballast:secretValues`, already Pulumi secrets. A supplied built-in secret is
   * not generated; a declared or supplied-only secret must be here.
   * @default {} (every built-in secret generated)
   */
  supplied?: SecretConfig["values"];
  /**
   * Each generated secret's effective rotation counter (`rotationCounters`: its own plus `all`):
   * bumping one regenerates that secret.
   * @default {} (every secret at generation 0)
   */
  rotation?: Record<string, number>;
  /**
   * The encryption key's two-key rotation (`ballast:encryptionKeyRotation`): the variable the app
   * reads the previous key from, and the key generations to keep.
   * @default undefined (one protected key that never rotates)
   */
  encryptionKeyRotation?: EncryptionKeyRotationArgs;
  /**
   * Alertmanager's receivers (`alertReceivers`): a named receiver with a credential reads it from
   * the supplied secret `alertmanager-receiver-<name>`.
   * @default [] (no named receiver)
   */
  receivers?: AlertReceiver[];
  /**
   * Secrets the team declares (`ballast:secrets`): what each is and how to rotate it; values in `supplied`.
   * @default {}
   */
  declared?: Record<string, { description: string; rotation: string }>;
}

/**
 * The stack's secrets, named `<name>-<secret>` (`<name>-encryption-key-<n>` for a rotated key's
 * generation n). Up to 862b775 the component was named `secrets` and its children by the secret
 * alone: each carries an alias to that URN, so an upgrade keeps every generated value.
 */
export class Secrets extends pulumi.ComponentResource {
  /** Every secret value by name, all Pulumi secrets. */
  readonly values: SecretValues;
  /** What each secret is and how to rotate it (for targets and the runbook). */
  readonly specs: SecretSpec[];
  private readonly prefix: string;
  /** This component's URN as 862b775 named it: its children's old parent. */
  private readonly legacyUrn: pulumi.Output<string>;

  constructor(name: string, args: SecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ballast:secrets:Secrets", name, {}, { ...opts, aliases: [...(opts?.aliases ?? []), { name: LEGACY_SECRETS.name }] });
    this.prefix = name;
    const parentUrn = opts?.parent ? opts.parent.urn : undefined;
    this.legacyUrn = parentUrn
      ? parentUrn.apply((urn) => childUrn(urn, LEGACY_SECRETS.type, LEGACY_SECRETS.name))
      : pulumi.createUrn(LEGACY_SECRETS.name, LEGACY_SECRETS.type);
    const { used, endpoints } = args;
    const supplied = args.supplied ?? {};
    const counters = args.rotation ?? {};
    const values: SecretValues = {};
    const specs: SecretSpec[] = [];

    const needed = (secret: string) =>
      used.has(secret) ||
      (secret === "postgres-app-password" && used.has("database-url")) ||
      (secret === "redis-password" && (used.has("redis-url") || used.has("redis-password")));

    const rotation = args.encryptionKeyRotation;
    for (const [secretName, builtin] of Object.entries(builtinSecrets)) {
      if (builtin.derived || !needed(secretName)) continue;
      // An external database brings its own credentials inside database-url.
      if (secretName.startsWith("postgres-") && endpoints.postgres.kind === "external") continue;
      if (secretName === "encryption-key" && rotation && supplied[secretName] === undefined) {
        const keys = this.encryptionKeys(rotation.generations);
        values[secretName] = keys.current;
        specs.push({
          name: secretName,
          description: builtin.description,
          rotation: twoKeyRotation(rotation.previousKeyEnv),
          immutable: false,
        });
        if (keys.previous && used.has(ENCRYPTION_KEY_PREVIOUS_SECRET)) {
          values[ENCRYPTION_KEY_PREVIOUS_SECRET] = keys.previous;
          specs.push({
            name: ENCRYPTION_KEY_PREVIOUS_SECRET,
            description: `The encryption key before the last rotation (${rotation.previousKeyEnv}), kept while the stored data is re-encrypted`,
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
    for (const receiver of args.receivers ?? []) {
      if (!receiver.secret || receiver.name === DEFAULT_RECEIVER || !used.has(receiver.secret)) continue;
      values[receiver.secret] = supplied[receiver.secret];
      specs.push({
        name: receiver.secret,
        description: `Credential of the Alertmanager receiver \`${receiver.name}\` (${receiver.config.type}: ${receiver.config.type === "slack" ? "incoming-webhook URL" : receiver.config.type === "pagerduty" ? "Events API v2 routing key" : receiver.config.type === "email" ? "SMTP password" : "bearer token"})`,
        rotation: `issue a new one at the receiver, pulumi config set --secret --path 'ballast:secretValues.${receiver.secret}', pulumi up`,
        immutable: false,
      });
    }
    for (const [secretName, declared] of Object.entries(args.declared ?? {})) {
      values[secretName] = supplied[secretName];
      specs.push({ name: secretName, description: declared.description, rotation: declared.rotation, immutable: false });
    }

    this.values = values;
    this.specs = specs;
    this.registerOutputs({ names: specs.map((s) => s.name) });
  }

  /** Options of a child: parented here, aliased to the name it had under `secrets` up to 862b775. */
  private childOptions(resourceName: string): pulumi.CustomResourceOptions {
    return { parent: this, aliases: [{ name: resourceName, parent: this.legacyUrn }] };
  }

  /**
   * The encryption keys of an app that reads two: one RandomBytes per generation (generation 0 keeps
   * the original resource name, so opting in changes nothing). The generation before the current
   * one stays declared: protected while the data may still be encrypted with it, unprotected once
   * re-encrypted, so the next rotation can drop it. No keeper: a key's value never changes.
   */
  private encryptionKeys(generations: EncryptionKeyGenerations): { current: pulumi.Output<string>; previous?: pulumi.Output<string> } {
    const key = (generation: number, protect: boolean) => {
      const resourceName = generation === 0 ? "encryption-key" : `encryption-key-${generation}`;
      const bytes = new random.RandomBytes(
        `${this.prefix}-${resourceName}`,
        { length: 32 },
        { ...this.childOptions(resourceName), protect, additionalSecretOutputs: ["hex", "base64"] },
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
        `${this.prefix}-${secretName}`,
        { length: 32 },
        { ...this.childOptions(secretName), protect: true, additionalSecretOutputs: ["hex", "base64"] },
      );
      return pulumi.secret(key.hex);
    }
    const password = new random.RandomPassword(
      `${this.prefix}-${secretName}`,
      { length: 32, special: false, keepers: { rotation: String(rotation) } },
      { ...this.childOptions(secretName), additionalSecretOutputs: ["result"] },
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
