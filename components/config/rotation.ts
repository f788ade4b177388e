/**
 * Rotation counters: what `ballast:rotation` means once read. A secret's effective counter is
 * its own counter plus `ballast:rotation.all` (the "rotate all" switch): bumping `all` by one
 * adds one to every generated, rotatable secret at once, so each is regenerated exactly once,
 * and a later per-secret bump still adds on top. Pure: config in, numbers out.
 */
import { z } from "zod";
import { builtinSecrets } from "./builtins";
import { envName } from "./primitives";

/** The `ballast:rotation` key that bumps every generated, rotatable secret at once. */
export const ROTATE_ALL = "all";

/** The secret that holds the previous encryption key during a re-encryption window. */
export const ENCRYPTION_KEY_PREVIOUS_SECRET = "encryption-key-previous";

/**
 * `ballast:encryptionKeyRotation`: the opt-in that makes `encryption-key` rotatable, for an app
 * that decrypts with two keys (the current one and `previousKeyEnv`) while it re-encrypts.
 */
export const encryptionKeyRotationSchema = z.strictObject({
  /** Env var the app reads the previous key from (the current one stays where `secretEnv` maps it). */
  previousKeyEnv: envName,
  /** The key generation the stored data is re-encrypted to; the previous key is dropped when it reaches the current one. */
  reencrypted: z.number().int().min(0),
});

interface RotationConfig {
  rotation: Record<string, number>;
  encryptionKeyRotation?: z.output<typeof encryptionKeyRotationSchema>;
}

/** Whether a counter may rotate this built-in: generated, and not the encryption key unless the app holds two keys. */
export function counterRotates(config: RotationConfig, secret: string): boolean {
  const builtin = builtinSecrets[secret];
  if (!builtin?.generated) return false;
  return !builtin.immutable || (secret === "encryption-key" && config.encryptionKeyRotation !== undefined);
}

/**
 * Effective counter of every built-in a counter rotates, by name: its own plus `all`. A supplied
 * value (`ballast:secretValues`) is not generated, so no counter applies to it.
 */
export function rotationCounters(config: RotationConfig, supplied: ReadonlySet<string> | readonly string[]): Record<string, number> {
  const isSupplied = (name: string) => (Array.isArray(supplied) ? supplied.includes(name) : (supplied as ReadonlySet<string>).has(name));
  const all = config.rotation[ROTATE_ALL] ?? 0;
  const counters: Record<string, number> = {};
  for (const name of Object.keys(builtinSecrets)) {
    if (!counterRotates(config, name) || isSupplied(name)) continue;
    const counter = (config.rotation[name] ?? 0) + all;
    if (counter > 0) counters[name] = counter;
  }
  return counters;
}

/** The encryption key's generations: the current one, and the previous one while data is re-encrypted. */
export interface EncryptionKeyGenerations {
  current: number;
  /** Present during the re-encryption window (`reencrypted` < `current`): the app reads it as its previous key. */
  previous?: number;
}

export function encryptionKeyGenerations(
  config: RotationConfig,
  supplied: ReadonlySet<string> | readonly string[],
): EncryptionKeyGenerations {
  const current = rotationCounters(config, supplied)["encryption-key"] ?? 0;
  const reencrypted = config.encryptionKeyRotation?.reencrypted ?? current;
  return reencrypted < current ? { current, previous: current - 1 } : { current };
}
