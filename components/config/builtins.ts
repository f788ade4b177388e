/**
 * Names the config model reserves: secrets the stack generates itself and workload names
 * its own components use. Kept here so validation can refer to them without importing components.
 */

export interface BuiltinSecret {
  description: string;
  rotation: string;
  /** Generated with @pulumi/random unless supplied in `ballast:secretValues`. */
  generated: boolean;
  /** Derived from other secrets (connection URLs); follows their rotation. */
  derived: boolean;
  /** Must never change once data exists. */
  immutable: boolean;
}

export const builtinSecrets: Record<string, BuiltinSecret> = {
  "postgres-password": {
    description: "Password of the Postgres superuser (ballast:postgres.user): Postgres itself, the restore drill and the pgvector step",
    rotation:
      "bump ballast:rotation.postgres-password, pulumi up: the new password is set inside the running Postgres (ALTER ROLE) before its clients restart with it; Postgres itself does not restart",
    generated: true,
    derived: false,
    immutable: false,
  },
  "postgres-app-password": {
    description: "Password of the Postgres application role (ballast:postgres.roles.app), inside database-url",
    rotation:
      "bump ballast:rotation.postgres-app-password, pulumi up: the new password is set inside the running Postgres (ALTER ROLE) before its clients restart with it; Postgres itself does not restart",
    generated: true,
    derived: false,
    immutable: false,
  },
  "postgres-monitor-password": {
    description: "Password of the Postgres monitoring role (ballast:postgres.roles.monitor, pg_monitor): the postgres exporter",
    rotation:
      "bump ballast:rotation.postgres-monitor-password, pulumi up: the new password is set inside the running Postgres (ALTER ROLE) before its clients restart with it; Postgres itself does not restart",
    generated: true,
    derived: false,
    immutable: false,
  },
  "postgres-backup-password": {
    description: "Password of the Postgres backup role (ballast:postgres.roles.backup, pg_read_all_data): the backup job",
    rotation:
      "bump ballast:rotation.postgres-backup-password, pulumi up: the new password is set inside the running Postgres (ALTER ROLE) before its clients restart with it; Postgres itself does not restart",
    generated: true,
    derived: false,
    immutable: false,
  },
  "redis-password": {
    description: "Redis requirepass",
    rotation: "bump ballast:rotation.redis-password, pulumi up (Redis and its clients restart)",
    generated: true,
    derived: false,
    immutable: false,
  },
  "auth-secret": {
    description: "Session signing secret (AUTH_SECRET / JWT_SECRET)",
    rotation: "bump ballast:rotation.auth-secret, pulumi up; invalidates existing sessions",
    generated: true,
    derived: false,
    immutable: false,
  },
  "encryption-key": {
    description: "Encrypts stored API keys at rest (ENCRYPTION_KEY, AES-256-GCM)",
    rotation: "never: stored API keys could no longer be decrypted; re-encrypt all data first",
    generated: true,
    derived: false,
    immutable: true,
  },
  "grafana-admin-password": {
    description: "Grafana admin user password",
    rotation: "bump ballast:rotation.grafana-admin-password, pulumi up: Grafana restarts and resets its admin password to the new value",
    generated: true,
    derived: false,
    immutable: false,
  },
  "backup-s3-access-key-id": {
    description: "Access key id of the offsite backup bucket (ballast:backups.s3)",
    rotation:
      "create a new key at the storage provider, pulumi config set --secret --path 'ballast:secretValues.backup-s3-access-key-id', pulumi up, revoke the old key",
    generated: false,
    derived: false,
    immutable: false,
  },
  "backup-s3-secret-access-key": {
    description: "Secret access key of the offsite backup bucket (ballast:backups.s3)",
    rotation: "together with backup-s3-access-key-id",
    generated: false,
    derived: false,
    immutable: false,
  },
  "backup-encryption-identity": {
    description:
      "age identity (AGE-SECRET-KEY-1...) the restore drill decrypts encrypted backup sets with (ballast:backups.encryption); mounted into the drill only",
    rotation:
      "age-keygen a new pair, set ballast:backups.encryption.recipient to the new public key and this secret to the new identity, pulumi up; keep the old identity offline: sets written before still need it",
    generated: false,
    derived: false,
    immutable: false,
  },
  "alertmanager-receiver": {
    description: "Credential of the Alertmanager receiver (webhook URL, Slack URL, PagerDuty key or SMTP password)",
    rotation: "issue a new one at the receiver, pulumi config set --secret --path 'ballast:secretValues.alertmanager-receiver', pulumi up",
    generated: false,
    derived: false,
    immutable: false,
  },
  "registry-password": {
    description:
      "Password or token of the image registry login (ballast:registry.username): pushes built images, lets the host or cluster pull them",
    rotation:
      "create a new token at the registry, pulumi config set --secret --path 'ballast:secretValues.registry-password', pulumi up, revoke the old token",
    generated: false,
    derived: false,
    immutable: false,
  },
  "database-url": {
    description: "postgresql:// connection URL for the app, workers and jobs (supplied when ballast:postgres.external is true)",
    rotation: "follows postgres-app-password; an external database's URL: set the new one with pulumi config set --secret, pulumi up",
    generated: false,
    derived: true,
    immutable: false,
  },
  "redis-url": {
    description: "redis:// connection URL for the app, workers and jobs",
    rotation: "follows redis-password",
    generated: false,
    derived: true,
    immutable: false,
  },
};

/** Why the encryption key can never be rotated by bumping a counter (nyxcore runbook). */
export const encryptionKeyRotationRefusal =
  'the encryption key cannot be rotated: stored API keys were encrypted with it and could no longer be decrypted (nyxcore runbook, "ENCRYPTION_KEY mismatch"); re-encrypt the data with a new key first';

/** Workload names Ballast's own components use; user workers/cron jobs/services must not take them. */
export const reservedWorkloadNames = [
  "app",
  "postgres",
  "postgres-password-check",
  "redis",
  "traefik",
  "scheduler",
  "migrate",
  "prometheus",
  "alertmanager",
  "grafana",
  "loki",
  "alloy",
  "tempo",
  "jaeger",
  "node-exporter",
  "cadvisor",
  "postgres-exporter",
  "redis-exporter",
  "blackbox-exporter",
  "pgvector-ensure",
  "backup",
  "backup-offsite",
  "restore-drill",
] as const;
