/**
 * Schema of `ballast:backups`: scheduled pg_dump with daily/weekly/monthly retention, the
 * offsite copy, and the restore drill. Defaults: ./defaults.ts.
 */
import { z } from "zod";
import { maxGapHours, parseCron } from "./cron";
import { imageRef } from "./images";
import { cronSchedule, resources, sqlIdentifier, tableName } from "./primitives";

const retentionSchema = z.strictObject({
  daily: z.number().int().min(1, { message: "must be an integer of at least 1: the newest backup is always kept" }).max(366),
  weekly: z.number().int().min(0).max(520),
  monthly: z.number().int().min(0).max(240),
});

const s3Schema = z.strictObject({
  /** S3 API endpoint; absent means AWS S3 itself. */
  endpoint: z
    .string()
    .regex(/^https?:\/\/[^\s/]+(\/[^\s]*)?$/, { message: 'must be an http(s) URL such as "https://s3.eu-central-1.amazonaws.com"' })
    .optional(),
  bucket: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, { message: "must be an S3 bucket name: 3-63 lower-case letters, digits, '.' and '-'" }),
  /** Key prefix inside the bucket (no leading or trailing '/'); "" stores at the bucket root. */
  prefix: z.string().regex(/^([A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*)?$/, {
    message: "must be a key prefix of path segments (letters, digits, '_', '.', '-') separated by '/', without leading or trailing '/'",
  }),
  region: z.string().regex(/^[a-z0-9-]{2,40}$/, { message: 'must be a region name such as "eu-central-1"' }),
  /** When the copy runs; hourly by default so a new dump is offsite within the hour. */
  schedule: cronSchedule,
  /** rclone image of the offsite job. */
  image: imageRef,
});

const drillSchema = z.strictObject({
  enabled: z.boolean(),
  /** Monthly by default (Dealix runbook: the drill is required monthly). */
  schedule: cronSchedule,
  /** Tables whose row counts must match the live database within `tolerancePercent`. */
  tables: z.array(tableName).max(50),
  tolerancePercent: z
    .number()
    .min(0, { message: "must be a percentage between 0 and 100" })
    .max(100, { message: "must be a percentage between 0 and 100" }),
  /** A timestamp column whose newest value in the restored copy must be within the RPO of the live one. */
  freshness: z.strictObject({ table: tableName, column: sqlIdentifier("column") }).optional(),
  /** The drill's goal (Dealix DoD: restore completes in at most 15 minutes); a slower drill fails. */
  timeoutMinutes: z
    .number()
    .int()
    .min(1)
    .max(24 * 60),
});

/**
 * An age X25519 public key as `age-keygen` prints it: "age1" and 58 bech32 characters.
 * (GPG keys are not taken: one format, one tool in the job image, one drill procedure.)
 */
export const AGE_RECIPIENT_PATTERN = /^age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}$/;

const encryptionSchema = z.strictObject({
  /** Public key every file of a backup set is encrypted to before it is written; the private key never reaches the backup job. */
  recipient: z.string().regex(AGE_RECIPIENT_PATTERN, {
    message:
      'must be an age public key: "age1" followed by 58 lower-case letters and digits, as `age-keygen` prints it (GPG keys are not accepted)',
  }),
});

function round(hours: number): number {
  return Math.round(hours * 10) / 10;
}

export const backupsSchema = z
  .strictObject({
    enabled: z.boolean(),
    /** When the backup runs (UTC). */
    schedule: cronSchedule,
    retention: retentionSchema,
    /** Size of the `backups` volume. */
    storageGiB: z.number().int().min(1).max(65536),
    /** Recovery point objective: the schedule must never leave a longer gap, the drill checks it, alerts use it. */
    rpoHours: z
      .number()
      .min(1)
      .max(24 * 31),
    /** A pg_dump that runs longer than this is killed and recorded as failed. */
    timeoutMinutes: z
      .number()
      .int()
      .min(5)
      .max(24 * 60),
    /** Offsite copy of every dump (rclone `copy --immutable`: never deletes or overwrites offsite). */
    s3: s3Schema.optional(),
    /** Also snapshot Redis (an RDB through `redis-cli --rdb`) into each backup set; needs ballast:redis.enabled. */
    redis: z.boolean(),
    /** Also archive the stack's non-secret config (and Traefik's acme.json on Compose) into each backup set. */
    config: z.boolean(),
    /** Client-side encryption of every file of a set to an age public key; the drill decrypts with the secret `backup-encryption-identity`. */
    encryption: encryptionSchema.optional(),
    drill: drillSchema,
    /** Image of the backup and drill jobs: bash, pg_dump, pg_restore, psql of the server's major version or newer. */
    image: imageRef,
    resources,
  })
  .superRefine((value, ctx) => {
    const cron = parseCron(value.schedule);
    if (typeof cron === "string") return;
    const gap = maxGapHours(cron);
    if (gap > value.rpoHours) {
      ctx.addIssue({
        code: "custom",
        path: ["schedule"],
        message:
          gap === Infinity
            ? `"${value.schedule}" (almost) never runs, so it cannot meet rpoHours ${value.rpoHours}`
            : `"${value.schedule}" leaves up to ${round(gap)} h between backups, longer than rpoHours ${value.rpoHours}: run it more often or raise rpoHours`,
      });
    }
  });

/** Secrets (by name) that the user supplies in `ballast:secretValues` when `backups.s3` is set. */
export const BACKUP_S3_SECRETS = {
  accessKeyId: "backup-s3-access-key-id",
  secretAccessKey: "backup-s3-secret-access-key",
} as const;

/** Secret (by name) holding the age identity (private key) the restore drill decrypts with; mounted into the drill only. */
export const BACKUP_ENCRYPTION_IDENTITY_SECRET = "backup-encryption-identity";
