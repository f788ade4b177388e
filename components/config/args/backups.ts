/** Backups (`ballast:backups`): scheduled pg_dump with retention, the offsite copy, encryption and the restore drill. */
import type { ResourcesArgs } from "./shared";

/** How many backup sets are kept: the newest of each day, ISO week and month. */
export interface BackupRetentionArgs {
  /**
   * Daily sets kept (1-366): the newest backup is always kept.
   * @default 7
   */
  daily?: number;
  /**
   * Weekly sets kept, the newest of each ISO week (0-520).
   * @default 4
   */
  weekly?: number;
  /**
   * Monthly sets kept, the newest of each month (0-240).
   * @default 6
   */
  monthly?: number;
}

/**
 * The offsite copy of every backup set to an S3 bucket with rclone (`copy --immutable`: it never deletes or
 * overwrites offsite). The keys are the secrets `backup-s3-access-key-id` and `backup-s3-secret-access-key`.
 */
export interface BackupS3CopyArgs {
  /**
   * S3 API endpoint, an http(s) URL such as `"https://s3.eu-central-1.amazonaws.com"`; absent means AWS S3 itself.
   * @default none (AWS S3)
   */
  endpoint?: string;
  /**
   * Bucket name: 3-63 lower-case letters, digits, '.' and '-'.
   * @default none (required)
   */
  bucket: string;
  /**
   * Key prefix inside the bucket, path segments without a leading or trailing '/'; `""` stores at the bucket root.
   * @default ""
   */
  prefix?: string;
  /**
   * Region of the bucket, such as `"eu-central-1"`.
   * @default "us-east-1"
   */
  region?: string;
  /**
   * When the copy runs (five-field cron, UTC); hourly, so a new dump is offsite within the hour.
   * @default "45 * * * *"
   */
  schedule?: string;
  /**
   * rclone image of the offsite job, pinned.
   * @default "rclone/rclone:1.68.2"
   */
  image?: string;
}

/** Client-side encryption of every file of a backup set (local and offsite) with age. */
export interface BackupEncryptionArgs {
  /**
   * The age public key (`age1` and 58 characters, as `age-keygen` prints it) every file is encrypted to; GPG keys are
   * not taken. The private key is the secret `backup-encryption-identity`, mounted into the drill only.
   * @default none (required)
   */
  recipient: string;
}

/** A timestamp column the drill checks: its newest value in the restored copy must be within `rpoHours` of the live one. */
export interface DrillFreshnessArgs {
  /**
   * Table of the column, optionally schema-qualified (`"leads"`, `"public.leads"`).
   * @default none (required)
   */
  table: string;
  /**
   * The timestamp column (a Postgres identifier).
   * @default none (required)
   */
  column: string;
}

/**
 * The restore drill: restores the newest set into a scratch database and checks row counts, freshness and
 * duration; with the set's Redis snapshot loaded (key count) and its config archive listed.
 */
export interface RestoreDrillArgs {
  /**
   * Run the drill on its schedule.
   * @default true
   */
  enabled?: boolean;
  /**
   * When the drill runs (five-field cron, UTC); monthly, as the runbooks require.
   * @default "30 4 1 * *" (the 1st of each month, 04:30)
   */
  schedule?: string;
  /**
   * Tables whose row counts in the restored copy must match the live database within `tolerancePercent` (at most 50;
   * `"leads"` or `"public.leads"`).
   * @default []
   */
  tables?: string[];
  /**
   * Allowed difference of the row counts, in percent (0-100).
   * @default 5
   */
  tolerancePercent?: number;
  /**
   * The freshness check against the RPO.
   * @default none (no freshness check)
   */
  freshness?: DrillFreshnessArgs;
  /**
   * The drill's goal in minutes (1-1440): a slower restore fails. The RestoreDrillTooSlow alert follows it unless
   * `monitoring.alerts.restoreDrillMaxMinutes` is set.
   * @default 15
   */
  timeoutMinutes?: number;
}

/** Backups of the stack's Postgres (and optionally Redis and config) into the `backups` volume. */
export interface BackupsArgs {
  /**
   * Scheduled `pg_dump -Fc` into the `backups` volume. A managed database backs itself up, so with an external one this is opt-in.
   * @default true (false with `postgres.external: true`)
   */
  enabled?: boolean;
  /**
   * When the backup runs (five-field cron, UTC); it must never leave a gap longer than `rpoHours`.
   * @default "15 3 * * *" (daily, 03:15)
   */
  schedule?: string;
  /**
   * Backup sets kept per day, ISO week and month.
   * @default daily 7, weekly 4, monthly 6; see {@link BackupRetentionArgs}
   */
  retention?: BackupRetentionArgs;
  /**
   * Size of the `backups` volume in GiB (1-65536).
   * @default 20
   */
  storageGiB?: number;
  /**
   * Recovery point objective in hours (1-744): the schedule check, the drill's freshness check and the BackupTooOld
   * alert (unless `monitoring.alerts.rpoHours` is set) use it.
   * @default 24
   */
  rpoHours?: number;
  /**
   * Minutes after which a running pg_dump is killed and recorded as failed (5-1440).
   * @default 120
   */
  timeoutMinutes?: number;
  /**
   * Offsite copy of every set; without it the backups are lost with the host or cluster.
   * @default none (off); when given, see {@link BackupS3CopyArgs}
   */
  s3?: BackupS3CopyArgs;
  /**
   * Also snapshot Redis (an RDB through `redis-cli --rdb`) into each set; needs `redis.enabled` and an `image` with
   * redis-cli and redis-server.
   * @default false
   */
  redis?: boolean;
  /**
   * Also archive the stack's non-secret config into each set: on Compose the release's compose file, `config/` and
   * Traefik's `acme.json`; on Kubernetes every ConfigMap.
   * @default true
   */
  config?: boolean;
  /**
   * Encrypt every file of a set to an age public key; needs an `image` with `age`.
   * @default none (off); when given, see {@link BackupEncryptionArgs}
   */
  encryption?: BackupEncryptionArgs;
  /**
   * The monthly restore drill.
   * @default on, "30 4 1 * *", no tables, 5 %, no freshness check, 15 minutes; see {@link RestoreDrillArgs}
   */
  drill?: RestoreDrillArgs;
  /**
   * Image of the backup and drill jobs: bash, pg_dump, pg_restore and psql of the server's major version or newer
   * (`components/backups/image/Dockerfile` adds redis-cli and age).
   * @default the `postgres.image` ("pgvector/pgvector:0.8.0-pg16")
   */
  image?: string;
  /**
   * CPU and memory of the backup and drill jobs.
   * @default cpu 1, memory "512Mi"; cpu 0.25, memory "128Mi" (small)
   */
  resources?: ResourcesArgs;
}
