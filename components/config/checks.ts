/**
 * Checks across keys, run on the parsed config: what one field's schema cannot see
 * (secrets that must be supplied, names that must be unique, a migration that would drop
 * pgvector columns on prod, moving image tags outside dev ...). Problems refuse the config;
 * warnings are logged by `pulumi preview`/`up` and allowed.
 */
import { isIPv4 } from "node:net";
import { DEFAULT_RECEIVER } from "./alerting";
import { BACKUP_ENCRYPTION_IDENTITY_SECRET, BACKUP_S3_SECRETS } from "./backups";
import { builtinSecrets, encryptionKeyRotationRefusal, reservedWorkloadNames } from "./builtins";
import { configKey, showValue } from "./errors";
import { defaultImages, imagePinProblem } from "./images";
import { counterRotates, ROTATE_ALL, rotationCounters } from "./rotation";
import type { Environment, MonitoringConfig, PlatformConfig, ReceiverConfig, WorkerConfig } from "./types";

export interface CheckResult {
  problems: string[];
  warnings: string[];
}

/**
 * Commands that rewrite the schema from the model instead of applying reviewed
 * migrations. Matched on the whole command line, so `sh -c "npx prisma db push"` is
 * caught as well as `["npx", "prisma", "db", "push"]`.
 */
const SCHEMA_PUSHES: ReadonlyArray<{ pattern: RegExp; what: string }> = [
  { pattern: /\bprisma\s+db\s+push\b/, what: "`prisma db push`" },
  { pattern: /(^|[\s"'])--accept-data-loss\b/, what: "`--accept-data-loss`" },
  { pattern: /(^|[\s"'])--force-reset\b/, what: "`--force-reset`" },
  { pattern: /\bprisma\s+migrate\s+(reset|dev)\b/, what: "`prisma migrate reset/dev`" },
  { pattern: /\b(npm|pnpm|yarn|bun)\s+(run\s+)?db:push\b/, what: "a `db:push` script" },
  { pattern: /\bdrizzle-kit\s+push\b/, what: "`drizzle-kit push`" },
];

/** Refuses, on prod, a migration command that pushes the schema instead of applying migrations. */
export function checkMigrationSafety(environment: Environment, command: readonly string[]): string | undefined {
  if (environment !== "prod") return undefined;
  const line = command.join(" ");
  const hits = SCHEMA_PUSHES.filter((p) => p.pattern.test(line)).map((p) => p.what);
  if (hits.length === 0) return undefined;
  return (
    `ballast:app.migration.command: ${JSON.stringify(command)} is refused on prod: it uses ${hits.join(" and ")}, ` +
    "which makes the database match the schema file by dropping what the file does not describe; " +
    'pgvector embedding columns (Unsupported("vector") in Prisma) are dropped with their data ' +
    '(nyxcore runbook: "Never use db push on production — it drops pgvector embedding columns"). ' +
    'Allowed: a command that applies reviewed migration files, e.g. ["npx", "prisma", "migrate", "deploy"] ' +
    "or your own migration script; schema pushes are for dev and staging only."
  );
}

/** Does this Alertmanager receiver read the `alertmanager-receiver` secret? */
export function receiverNeedsSecret(receiver: ReceiverConfig): boolean {
  switch (receiver.type) {
    case "none":
      return false;
    case "webhook":
      return receiver.auth === "bearer";
    case "email":
      return receiver.username !== undefined;
    case "slack":
    case "pagerduty":
      return true;
  }
}

/** Name of the secret that holds a receiver's credential: `alertmanager-receiver` for the default, `alertmanager-receiver-<name>` for the others. */
export function receiverSecretName(receiver: string): string {
  return receiver === DEFAULT_RECEIVER ? "alertmanager-receiver" : `alertmanager-receiver-${receiver}`;
}

/** One Alertmanager receiver of the stack: its name in routes, its config key, and its secret when it reads one. */
export interface AlertReceiver {
  name: string;
  key: string[];
  config: ReceiverConfig;
  secret?: string;
}

/** The default receiver (`ops`) and the named ones, in declaration order. */
export function alertReceivers(monitoring: MonitoringConfig): AlertReceiver[] {
  const entry = (name: string, key: string[], config: ReceiverConfig): AlertReceiver => ({
    name,
    key,
    config,
    ...(receiverNeedsSecret(config) ? { secret: receiverSecretName(name) } : {}),
  });
  const base = ["monitoring", "alertmanager"];
  return [
    entry(DEFAULT_RECEIVER, [...base, "receiver"], monitoring.alertmanager.receiver),
    ...Object.entries(monitoring.alertmanager.receivers).map(([name, config]) => entry(name, [...base, "receivers", name], config)),
  ];
}

/** SLOs read the series of one scraped workload: its name must be one, with metrics. */
function sloProblems(config: PlatformConfig): string[] {
  if (!config.monitoring.enabled || !config.monitoring.prometheus.enabled) return [];
  const scraped = [
    ...(config.app.metrics ? [config.app.name] : []),
    ...config.workers.filter((w) => w.metrics).map((w) => w.name),
    ...config.services.filter((s) => s.metrics).map((s) => s.name),
  ];
  const withoutMetrics: Record<string, string> = {
    ...(config.app.metrics ? {} : { [config.app.name]: "ballast:app.metrics is false" }),
    ...Object.fromEntries(
      config.workers
        .map((w, i) => [w.name, configKey(["workers", i, "metrics"]) + " is not set"])
        .filter(([name]) => !scraped.includes(name)),
    ),
    ...Object.fromEntries(
      config.services
        .map((s, i) => [s.name, configKey(["services", i, "metrics"]) + " is not set"])
        .filter(([name]) => !scraped.includes(name)),
    ),
  };
  const allowed = scraped.length > 0 ? scraped.join(", ") : "none: no workload exposes metrics";
  const problems: string[] = [];
  config.monitoring.slos.forEach((slo, i) => {
    const key = configKey(["monitoring", "slos", i, "service"]);
    if (scraped.includes(slo.service)) return;
    const reason = withoutMetrics[slo.service];
    problems.push(
      reason
        ? `${key}: ${showValue(slo.service)} exposes no metrics (${reason}), so Prometheus has no series for this SLO; allowed: ${allowed}`
        : `${key}: ${showValue(slo.service)} is not a workload of this stack; allowed: ${allowed} (the app, workers and services Prometheus scrapes)`,
    );
  });
  return problems;
}

/** Every image key of the stack with its value (the images the moving-tag rule applies to). */
export function imageKeys(config: PlatformConfig): { key: string; image: string }[] {
  const images: { key: string; image: string }[] = [];
  const add = (path: (string | number)[], image: string | undefined) => {
    if (image !== undefined) images.push({ key: configKey(path), image });
  };
  add(["app", "image"], config.app.image);
  config.workers.forEach((w, i) => add(["workers", i, "image"], w.image === config.app.image ? undefined : w.image));
  config.cronJobs.forEach((c, i) => add(["cronJobs", i, "image"], c.image === config.app.image ? undefined : c.image));
  config.services.forEach((s, i) => add(["services", i, "image"], s.image));
  if (!config.postgres.external) add(["postgres", "image"], config.postgres.image);
  if (config.redis.enabled) add(["redis", "image"], config.redis.image);
  add(["proxy", "image"], config.proxy.image);
  if (config.backups.enabled) {
    add(["backups", "image"], config.backups.image === config.postgres.image ? undefined : config.backups.image);
    add(["backups", "s3", "image"], config.backups.s3?.image);
  }
  if (config.monitoring.enabled) {
    const m = config.monitoring;
    for (const part of [
      "prometheus",
      "alertmanager",
      "grafana",
      "loki",
      "alloy",
      "nodeExporter",
      "cadvisor",
      "postgresExporter",
      "redisExporter",
      "blackboxExporter",
    ] as const) {
      if (m[part].enabled) add(["monitoring", part, "image"], m[part].image);
    }
    if (m.tracing.enabled) add(["monitoring", "tracing", "image"], m.tracing.image);
    if (config.target === "compose" && (m.cadvisor.enabled || m.alloy.enabled))
      add(["monitoring", "dockerSocketProxy", "image"], m.dockerSocketProxy.image);
  }
  return images;
}

function secretProblems(config: PlatformConfig, supplied: readonly string[]): string[] {
  const problems: string[] = [];
  const receivers = alertReceivers(config.monitoring);
  const receiverSecrets = receivers.flatMap((r) => (r.secret && r.name !== DEFAULT_RECEIVER ? [r.secret] : []));
  const declared = new Set([...Object.keys(builtinSecrets), ...Object.keys(config.secrets), ...receiverSecrets]);
  const suppliable = (name: string) => !builtinSecrets[name]?.derived || (name === "database-url" && config.postgres.external);

  for (const name of supplied) {
    if (!declared.has(name) && name.startsWith("alertmanager-receiver-")) {
      const withSecret = receivers.filter((r) => r.secret && r.name !== DEFAULT_RECEIVER).map((r) => r.name);
      problems.push(
        `${configKey(["secretValues", name])}: there is no receiver ${showValue(name.slice("alertmanager-receiver-".length))} under ballast:monitoring.alertmanager.receivers that reads a credential; receivers with one: ${withSecret.length > 0 ? withSecret.join(", ") : "none"}`,
      );
    } else if (!declared.has(name)) {
      problems.push(
        `${configKey(["secretValues", name])}: secret "${name}" is not declared; declare it under ballast:secrets (with description and rotation) or use a built-in name (${Object.keys(builtinSecrets).join(", ")})`,
      );
    } else if (!suppliable(name)) {
      problems.push(
        `${configKey(["secretValues", name])}: "${name}" is derived from other secrets and cannot be supplied${name === "database-url" ? " (it can when ballast:postgres.external is true)" : ""}`,
      );
    }
  }
  for (const name of Object.keys(config.secrets)) {
    if (!supplied.includes(name)) {
      problems.push(
        `${configKey(["secrets", name])}: declared but no value supplied; run: pulumi config set --secret --path 'ballast:secretValues.${name}' <value>`,
      );
    }
    if (name in builtinSecrets)
      problems.push(`${configKey(["secrets", name])}: "${name}" is a built-in secret; supply its value under ballast:secretValues instead`);
  }
  if (config.postgres.external && !supplied.includes("database-url")) {
    problems.push(
      `${configKey(["postgres", "external"])}: an external database needs its connection URL: pulumi config set --secret --path 'ballast:secretValues.database-url' 'postgresql://user:password@host:5432/db?sslmode=require'`,
    );
  }
  if (config.registry?.username && !supplied.includes("registry-password")) {
    problems.push(
      `${configKey(["registry", "username"])}: a registry login needs its password or token: pulumi config set --secret --path 'ballast:secretValues.registry-password' <token>`,
    );
  }
  if (config.backups.enabled && config.backups.s3) {
    for (const name of [BACKUP_S3_SECRETS.accessKeyId, BACKUP_S3_SECRETS.secretAccessKey]) {
      if (!supplied.includes(name)) {
        problems.push(
          `ballast:secretValues.${name}: required because ballast:backups.s3 is set (offsite copy credentials); supply it with \`pulumi config set --secret --path 'ballast:secretValues.${name}' <value>\``,
        );
      }
    }
  }
  if (
    config.backups.enabled &&
    config.backups.encryption &&
    config.backups.drill.enabled &&
    !supplied.includes(BACKUP_ENCRYPTION_IDENTITY_SECRET)
  ) {
    problems.push(
      `ballast:secretValues.${BACKUP_ENCRYPTION_IDENTITY_SECRET}: required because ballast:backups.encryption is set and ballast:backups.drill.enabled is true (the drill decrypts the sets with it); supply the age identity with \`pulumi config set --secret --path 'ballast:secretValues.${BACKUP_ENCRYPTION_IDENTITY_SECRET}' "$(grep AGE-SECRET-KEY key.txt)"\``,
    );
  }
  const { monitoring } = config;
  if (monitoring.enabled && monitoring.prometheus.enabled && monitoring.alertmanager.enabled) {
    for (const receiver of receivers) {
      if (receiver.secret && !supplied.includes(receiver.secret)) {
        problems.push(
          `${configKey(receiver.key)}: the ${receiver.config.type} receiver needs its credential: pulumi config set --secret --path 'ballast:secretValues.${receiver.secret}' <value>`,
        );
      }
    }
  }

  const unavailable = (secret: string): string | undefined => {
    if (!declared.has(secret))
      return `unknown secret ${showValue(secret)}; allowed: built-in secrets (${Object.keys(builtinSecrets).join(", ")}) or names declared under ballast:secrets`;
    if ((secret === "redis-url" || secret === "redis-password") && !config.redis.enabled)
      return `${showValue(secret)} does not exist: ballast:redis.enabled is false (drop the entry with \`false\`)`;
    if (secret.startsWith("postgres-") && secret in builtinSecrets && config.postgres.external)
      return `${showValue(secret)} does not exist with an external database (ballast:postgres.external): use "database-url"`;
    return undefined;
  };
  const checkSecretEnv = (path: (string | number)[], secretEnv: Record<string, string>) => {
    for (const [envName, secret] of Object.entries(secretEnv)) {
      const problem = unavailable(secret);
      if (problem) problems.push(`${configKey([...path, "secretEnv", envName])}: ${problem}`);
    }
  };
  checkSecretEnv(["app"], config.app.secretEnv);
  config.workers.forEach((w, i) => checkSecretEnv(["workers", i], w.secretEnv));
  config.cronJobs.forEach((c, i) => checkSecretEnv(["cronJobs", i], c.secretEnv));
  config.services.forEach((s, i) => checkSecretEnv(["services", i], s.secretEnv));

  for (const [name, counter] of Object.entries(config.rotation)) {
    const builtin = builtinSecrets[name];
    if (name === ROTATE_ALL) continue;
    if (name === "encryption-key" && !config.encryptionKeyRotation) {
      problems.push(`${configKey(["rotation", name])}: refused (got ${counter}): ${encryptionKeyRotationRefusal}`);
    } else if (!builtin || !builtin.generated) {
      const rotatable = Object.keys(builtinSecrets).filter((n) => counterRotates(config, n));
      problems.push(
        `${configKey(["rotation", name])}: only generated secrets have a rotation counter; allowed: ${[ROTATE_ALL, ...rotatable].join(", ")}`,
      );
    } else if (supplied.includes(name)) {
      problems.push(
        `${configKey(["rotation", name])}: "${name}" is supplied in ballast:secretValues, so a counter cannot change it: set the new value with pulumi config set --secret --path 'ballast:secretValues.${name}' <value>, then pulumi up`,
      );
    }
  }
  problems.push(...encryptionKeyRotationProblems(config, supplied));
  return problems;
}

/**
 * The re-encryption window of `ballast:encryptionKeyRotation`: the app holds two keys, so a
 * rotation may start only when the previous one's re-encryption is finished, and `reencrypted`
 * can name only the current generation or the one before.
 */
function encryptionKeyRotationProblems(config: PlatformConfig, supplied: readonly string[]): string[] {
  const opted = config.encryptionKeyRotation;
  if (!opted) return [];
  const problems: string[] = [];
  const readers = [
    config.app.secretEnv,
    ...config.workers.map((w) => w.secretEnv),
    ...config.cronJobs.map((c) => c.secretEnv),
    ...config.services.map((s) => s.secretEnv),
  ];
  if (!readers.some((secretEnv) => Object.values(secretEnv).includes("encryption-key"))) {
    problems.push(
      `${configKey(["encryptionKeyRotation"])}: no workload reads "encryption-key"; map it first, e.g. ballast:app.secretEnv.ENCRYPTION_KEY: encryption-key (allowed only for an app that decrypts with ${opted.previousKeyEnv} as well)`,
    );
  }
  if (supplied.includes("encryption-key")) {
    problems.push(
      `${configKey(["encryptionKeyRotation"])}: "encryption-key" is supplied in ballast:secretValues, so Ballast cannot keep its previous value for a re-encryption window; drop ballast:encryptionKeyRotation and rotate it by hand (runbook, "Secrets")`,
    );
    return problems;
  }
  const current = rotationCounters(config, supplied)["encryption-key"] ?? 0;
  const reencrypted = opted.reencrypted;
  if (reencrypted > current) {
    problems.push(
      `${configKey(["encryptionKeyRotation", "reencrypted"])}: ${reencrypted} is ahead of the key's generation ${current} (ballast:rotation.encryption-key + ballast:rotation.all); allowed: ${current === 0 ? "0" : `${current - 1} (re-encryption under way) or ${current} (done: the previous key is dropped)`}`,
    );
  } else if (current - reencrypted > 1) {
    const key = config.rotation["encryption-key"] !== undefined ? ["rotation", "encryption-key"] : ["rotation", ROTATE_ALL];
    problems.push(
      `${configKey(key)}: refused: it makes encryption-key generation ${current} while the data is re-encrypted only to generation ${reencrypted}, and the app holds one previous key (${opted.previousKeyEnv}); ` +
        `finish the open re-encryption first: re-encrypt the data to generation ${reencrypted + 1}, set ballast:encryptionKeyRotation.reencrypted to ${reencrypted + 1}, pulumi up, then rotate`,
    );
  }
  return problems;
}

function nameProblems(config: PlatformConfig): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const claim = (name: string, key: string, reserved: readonly string[]) => {
    if (reserved.includes(name)) {
      problems.push(`${key}: name ${showValue(name)} is used by Ballast itself; reserved names: ${reserved.join(", ")}`);
    } else if (seen.has(name)) {
      problems.push(`${key}: name ${showValue(name)} is already used by ${seen.get(name)}; workload names must be unique`);
    } else {
      seen.set(name, key);
    }
  };
  // The app, database and cache names are the stack's choice; Ballast's other workloads keep theirs.
  const fixed = reservedWorkloadNames.filter((n) => n !== "app" && n !== "postgres" && n !== "redis");
  claim(config.app.name, configKey(["app", "name"]), fixed);
  if (!config.postgres.external) claim(config.postgres.name, configKey(["postgres", "name"]), fixed);
  if (config.redis.enabled) claim(config.redis.name, configKey(["redis", "name"]), fixed);
  const builtIn = new Set(seen.keys());
  const userReserved = [...reservedWorkloadNames, ...builtIn];
  config.workers.forEach((w, i) => claim(w.name, configKey(["workers", i, "name"]), userReserved));
  config.cronJobs.forEach((c, i) => claim(c.name, configKey(["cronJobs", i, "name"]), userReserved));
  config.services.forEach((s, i) => claim(s.name, configKey(["services", i, "name"]), userReserved));
  config.services.forEach((s, i) =>
    s.allowFrom.forEach((peer, j) => {
      if (!seen.has(peer)) {
        problems.push(
          `${configKey(["services", i, "allowFrom", j])}: ${showValue(peer)} is not a workload of this stack; allowed: ${[...seen.keys()].join(", ")}`,
        );
      }
    }),
  );
  return problems;
}

/** The in-stack database's roles are distinct logins: none may be another, or the superuser. */
function postgresRoleProblems(config: PlatformConfig): string[] {
  if (config.postgres.external) return [];
  const problems: string[] = [];
  const taken = new Map<string, string>([[config.postgres.user, configKey(["postgres", "user"])]]);
  for (const kind of ["app", "monitor", "backup"] as const) {
    const name = config.postgres.roles[kind];
    const other = taken.get(name);
    if (other)
      problems.push(
        `${configKey(["postgres", "roles", kind])}: role ${showValue(name)} is already ${other}; each role must have its own name`,
      );
    else taken.set(name, configKey(["postgres", "roles", kind]));
  }
  return problems;
}

/**
 * How a worker scales must work on the stack's target: a queue trigger reads the stack's Redis
 * (through KEDA on Kubernetes, the host's cron on Compose); Compose has no CPU autoscaler, so an
 * enabled autoscaling without a queue is refused there rather than silently run at its minimum.
 */
function workerScalingProblems(config: PlatformConfig, worker: WorkerConfig, i: number): string[] {
  const key = (...path: string[]) => configKey(["workers", i, ...path]);
  const { autoscaling } = worker;
  const queue = autoscaling.queue;
  if (queue) {
    if (!autoscaling.enabled) {
      return [
        `${key("autoscaling", "enabled")}: false, but autoscaling.queue is set; set enabled true to scale on the queue, or remove the queue`,
      ];
    }
    const problems: string[] = [];
    if (!config.redis.enabled) {
      problems.push(
        `${key("autoscaling", "queue")}: the queue is read from the stack's Redis, but ballast:redis.enabled is false; enable Redis or remove the queue`,
      );
    }
    if (config.target === "kubernetes" && !config.kubernetes.keda.enabled) {
      problems.push(
        `${key("autoscaling", "queue")}: scaling on queue length on Kubernetes needs KEDA (https://keda.sh) on the cluster; install it and set ballast:kubernetes.keda.enabled true, or remove the queue to scale on CPU (autoscaling.cpuTargetPercent)`,
      );
    }
    return problems;
  }
  if (!autoscaling.enabled) return [];
  if (config.target === "compose") {
    return [
      `${key("autoscaling", "enabled")}: true without a queue trigger, but Compose has no CPU autoscaler; set enabled false and the fixed count in ${key("replicas")}, or add autoscaling.queue {kind, name, targetPerReplica} to scale on queue length`,
    ];
  }
  if (worker.replicas > autoscaling.maxReplicas)
    return [`${key("replicas")}: ${worker.replicas} exceeds autoscaling.maxReplicas (${autoscaling.maxReplicas})`];
  return [];
}

function workloadProblems(config: PlatformConfig): string[] {
  const problems: string[] = [];
  if (config.app.image === undefined && config.app.build === undefined) {
    problems.push(
      `${configKey(["app", "image"])}: required: a pinned image (e.g. "ghcr.io/acme/app:1.4.2"), or ballast:app.build to build one from a Dockerfile`,
    );
  }
  config.services.forEach((s, i) => {
    if (s.image === undefined && s.build === undefined) {
      problems.push(
        `${configKey(["services", i, "image"])}: required: a pinned image, or ballast:services[${i}].build to build one from a Dockerfile`,
      );
    }
    if (s.storage && (s.replicas > 1 || s.autoscaling.enabled)) {
      problems.push(
        `${configKey(["services", i, "storage"])}: a service with persistent storage runs as one stateful replica; remove replicas/autoscaling or the storage`,
      );
    }
    if (s.runAsRoot && s.runAsUser !== undefined) {
      problems.push(`${configKey(["services", i, "runAsUser"])}: conflicts with runAsRoot: true; set one of them`);
    }
  });
  const checkHealth = (
    path: (string | number)[],
    health: { liveness?: string; command?: string[]; port?: number } | undefined,
    hasPort: boolean,
  ) => {
    if (health?.liveness !== undefined && !hasPort && health.port === undefined) {
      problems.push(
        `${configKey([...path, "health", "port"])}: required for HTTP health paths on a workload without a port (or use health.command)`,
      );
    }
  };
  config.workers.forEach((w, i) => checkHealth(["workers", i], w.health, w.metrics !== undefined));
  if (config.app.migration) {
    const refusal = checkMigrationSafety(config.environment, config.app.migration.command);
    if (refusal) problems.push(refusal);
  }
  problems.push(...postgresRoleProblems(config));
  if (config.postgres.external && config.postgres.hnswIndex) {
    problems.push(
      `${configKey(["postgres", "hnswIndex"])}: an external database's indexes are the migration's job (ballast:app.migration); Ballast ensures the HNSW index only on its own Postgres`,
    );
  }
  config.workers.forEach((worker, i) => problems.push(...workerScalingProblems(config, worker, i)));
  const builds = [
    config.app.build,
    ...config.workers.map((w) => w.build),
    ...config.cronJobs.map((c) => c.build),
    ...config.services.map((s) => s.build),
  ].filter((b) => b !== undefined);
  if (builds.length > 0 && config.target === "kubernetes" && !config.registry) {
    problems.push(
      `${configKey(["registry"])}: required when an image is built for Kubernetes: the cluster pulls from it (e.g. {server: "ghcr.io", username: "acme-bot"})`,
    );
  }
  return problems;
}

function platformProblems(config: PlatformConfig): string[] {
  const problems: string[] = [];
  if (config.tls && !/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/.test(config.acmeEmail)) {
    problems.push(
      `${configKey(["acmeEmail"])}: Let's Encrypt needs a contact address when ballast:tls is true (got ${showValue(config.acmeEmail)})`,
    );
  }
  // The app reaches an external Postgres on its own port; egress to public addresses allows only the listed ports.
  const egressPorts = config.kubernetes.internetEgressPorts;
  if (config.target === "kubernetes" && config.postgres.external && egressPorts.every((port) => port === 443)) {
    problems.push(
      `${configKey(["kubernetes", "internetEgressPorts"])}: ${showValue(egressPorts)} lets the app reach public addresses on HTTPS only, but ballast:postgres.external is true: add the external database's port (5432, or 6543 for Supabase's pooler)`,
    );
  }
  if (config.environment === "prod" && !config.tls)
    problems.push(`${configKey(["tls"])}: prod must serve HTTPS (got false); only dev may run without TLS`);
  if (config.proxy.acmeStaging && config.proxy.acmeDirectory !== "") {
    problems.push(
      `${configKey(["proxy", "acmeDirectory"])}: set either acmeDirectory or acmeStaging, not both (acmeStaging is Let's Encrypt's staging directory)`,
    );
  }
  if (config.domain === "localhost" && config.tls) {
    problems.push(
      `${configKey(["domain"])}: "localhost" cannot get a Let's Encrypt certificate; set a real domain or ballast:tls false (dev only)`,
    );
  }
  if (config.target === "compose" && config.compose.mode === "ssh") {
    if (!config.compose.ssh) {
      problems.push(`${configKey(["compose", "ssh"])}: required when ballast:compose.mode is "ssh" (host, user, hostKey, remoteDir)`);
    } else if (!config.compose.ssh.hostKey && config.environment !== "dev") {
      problems.push(
        `${configKey(["compose", "ssh", "hostKey"])}: required for ${config.environment}: without a pinned host key any host key is accepted (get it with: ssh-keyscan -t ed25519 ${config.compose.ssh.host})`,
      );
    }
    const bootstrap = config.compose.bootstrap;
    if (bootstrap.enabled) {
      const base = ["compose", "bootstrap"];
      if (bootstrap.sshAllowFrom.length === 0) {
        problems.push(
          `${configKey([...base, "sshAllowFrom"])}: required when the bootstrap is enabled: the CIDR ranges SSH may come from (your office, VPN or CI egress, e.g. ["203.0.113.0/24"]); ufw drops SSH from anywhere else. Set ballast:compose.bootstrap.enabled false to prepare the host yourself`,
        );
      }
      if (bootstrap.authorizedKeys.length === 0) {
        problems.push(
          `${configKey([...base, "authorizedKeys"])}: required when the bootstrap is enabled: the deploy user's public key (the .pub of ballast:sshPrivateKey)`,
        );
      }
      problems.push(...bootstrapIdentityProblems(bootstrap, config.compose.ssh?.user));
      const everyone = bootstrap.fail2ban.ignoreFrom.filter((c) => /\/0$/.test(c));
      if (everyone.length > 0) {
        problems.push(
          `${configKey([...base, "fail2ban", "ignoreFrom"])}: ${everyone.map((c) => showValue(c)).join(", ")} would exempt every address and switch the sshd jail off`,
        );
      }
    }
  }
  problems.push(...grafanaAccessProblems(config));
  return problems;
}

/** The key of a public key line (type and base64), without its comment. */
const keyOf = (line: string) => line.split(" ").slice(0, 2).join(" ");

/**
 * The bootstrap's own identity: an admin user other than root and the deploy user, with keys
 * of its own. One key for both would let whoever holds the deploy key (CI) change the host as
 * root, and would keep root logins on (docs/security.md, finding 8).
 */
function bootstrapIdentityProblems(bootstrap: PlatformConfig["compose"]["bootstrap"], deployUser: string | undefined): string[] {
  const base = ["compose", "bootstrap"];
  const problems: string[] = [];
  if (bootstrap.adminUser === "root") {
    problems.push(
      `${configKey([...base, "adminUser"])}: must not be root: root may not log in over SSH once the host is bootstrapped; use a user of its own such as "ballast-admin" (got "root")`,
    );
  } else if (bootstrap.adminUser === deployUser) {
    problems.push(
      `${configKey([...base, "adminUser"])}: must differ from ballast:compose.ssh.user: the bootstrap logs in with its own user and key, not the deploy user's (got ${showValue(bootstrap.adminUser)})`,
    );
  }
  if (bootstrap.adminKeys.length === 0) {
    problems.push(
      `${configKey([...base, "adminKeys"])}: required when the bootstrap is enabled: the public key of ballast:bootstrapSshPrivateKey, which later runs of the bootstrap log in with as ${bootstrap.adminUser} (root logins are switched off)`,
    );
  }
  const deployKeys = new Set([...bootstrap.authorizedKeys, ...bootstrap.operatorKeys].map(keyOf));
  bootstrap.adminKeys.forEach((line, i) => {
    if (deployKeys.has(keyOf(line))) {
      problems.push(
        `${configKey([...base, "adminKeys", i])}: is also in authorizedKeys or operatorKeys; the bootstrap key (root on the host) and the deploy user's keys must be different keys (got ${showValue(line)})`,
      );
    }
  });
  return problems;
}

/** Docker's default address pools: on Compose a Docker gateway address is what Traefik sees for IPv6 and hairpinned clients. */
const dockerPools = ["172.16.0.0/12", "192.168.0.0/16"];

function ipv4Span(range: string): [bigint, bigint] | undefined {
  const [address, prefix = "32"] = range.split("/");
  if (!isIPv4(address)) return undefined;
  const start = address.split(".").reduce((acc, octet) => (acc << 8n) + BigInt(Number(octet)), 0n);
  const size = 1n << BigInt(32 - Number(prefix));
  const first = (start / size) * size;
  return [first, first + size - 1n];
}

function grafanaAccessProblems(config: PlatformConfig): string[] {
  const { monitoring } = config;
  if (!monitoring.enabled || !monitoring.grafana.enabled) return [];
  const key = configKey(["monitoring", "grafana", "allowFrom"]);
  const ranges = monitoring.grafana.allowFrom;
  // An enabled bootstrap without SSH ranges is reported under sshAllowFrom; setting those fixes both.
  const bootstrap = config.compose.bootstrap;
  if (ranges.length === 0 && config.target === "compose" && bootstrap.enabled && bootstrap.sshAllowFrom.length === 0) return [];
  if (ranges.length === 0) {
    return [
      `${key}: required on ${config.environment}: the address ranges that may reach Grafana (on Compose it follows ballast:compose.bootstrap.sshAllowFrom, which is empty here), e.g. ["203.0.113.0/24"]; ["0.0.0.0/0", "::/0"] lets everyone reach the login page`,
    ];
  }
  if (config.target !== "compose") return [];
  const pools = dockerPools.map((pool) => ipv4Span(pool)!);
  const overlapping = ranges.filter((range) => {
    const span = ipv4Span(range);
    return span !== undefined && !range.endsWith("/0") && pools.some(([start, end]) => span[0] <= end && start <= span[1]);
  });
  return overlapping.length === 0
    ? []
    : [
        `${key}: ${overlapping.map((r) => showValue(r)).join(", ")} overlaps Docker's own networks (${dockerPools.join(", ")}): on Compose Traefik sees IPv6 and hairpinned clients as a Docker gateway address, so the range would let them all in; list the public addresses your team comes from (office, VPN egress)`,
      ];
}

/** Image repositories of each tracing backend: the rendered config only works with its own backend. */
const tracingImageRepositories = { tempo: /(^|\/)tempo$/, jaeger: /(^|\/)(jaeger|all-in-one)$/ } as const;

/** A tracing image of the other backend would start with a config it cannot read (Tempo's YAML for Jaeger, or the reverse). */
function tracingProblems(config: PlatformConfig): string[] {
  const tracing = config.monitoring.tracing;
  if (!config.monitoring.enabled || !tracing.enabled) return [];
  const repository = tracing.image.split("@")[0].replace(/:[^/]*$/, "");
  const other = tracing.backend === "tempo" ? "jaeger" : "tempo";
  if (tracing.backend === "jaeger" && /(^|\/)all-in-one$/.test(repository)) {
    return [
      `${configKey(["monitoring", "tracing", "image"])}: ${showValue(tracing.image)} is Jaeger v1, which cannot read the Jaeger v2 config Ballast renders; use jaegertracing/jaeger:2.x (default ${defaultImages.jaeger})`,
    ];
  }
  if (!tracingImageRepositories[other].test(repository)) return [];
  return [
    `${configKey(["monitoring", "tracing", "image"])}: ${showValue(tracing.image)} is a ${other} image but ballast:monitoring.tracing.backend is "${tracing.backend}"; ` +
      `use a ${tracing.backend} image (default ${tracing.backend === "tempo" ? defaultImages.tempo : defaultImages.jaeger}) or set backend "${other}"`,
  ];
}

/** What the backup set needs from the rest of the stack and from the job image. */
function backupProblems(config: PlatformConfig): string[] {
  const { backups } = config;
  if (!backups.enabled) return [];
  const problems: string[] = [];
  if (backups.redis && !config.redis.enabled) {
    problems.push(
      `${configKey(["backups", "redis"])}: true, but ballast:redis.enabled is false: there is no Redis to snapshot (set backups.redis false or enable Redis)`,
    );
  }
  // The default image follows the database image (pg_dump of the right version), which has no redis-cli, redis-server or age.
  const needs = [
    ...(backups.redis ? ["redis-cli and redis-server (backups.redis)"] : []),
    ...(backups.encryption ? ["age (backups.encryption)"] : []),
  ];
  if (needs.length > 0 && backups.image === config.postgres.image) {
    problems.push(
      `${configKey(["backups", "image"])}: ${showValue(backups.image)} is the database image, which lacks ${needs.join(" and ")}: build components/backups/image/Dockerfile (FROM your database image) and set ballast:backups.image to it`,
    );
  }
  return problems;
}

/** Allowed, but weaker than the runbooks ask: logged on every preview. */
function backupWarnings(config: PlatformConfig): string[] {
  const { backups, environment } = config;
  if (environment === "dev") return [];
  if (!backups.enabled) {
    return [
      config.postgres.external
        ? "ballast:backups.enabled is false: the external database's own backups (point-in-time recovery) are the only copy"
        : `ballast:backups.enabled is false on ${environment}: nothing backs up the database`,
    ];
  }
  const warnings: string[] = [];
  if (!backups.s3)
    warnings.push("ballast:backups.s3 is not set: backups stay on the same host/cluster as the database and are lost with it");
  else if (!backups.encryption)
    warnings.push(
      "ballast:backups.s3 is set without ballast:backups.encryption: the offsite copy is readable by whoever can read the bucket",
    );
  if (!backups.drill.enabled) {
    warnings.push("ballast:backups.drill.enabled is false: nobody proves that the backups restore");
  } else {
    if (backups.drill.tables.length === 0)
      warnings.push("ballast:backups.drill.tables is empty: the restore drill does not compare row counts");
    if (!backups.drill.freshness)
      warnings.push("ballast:backups.drill.freshness is not set: the restore drill cannot check the data against the RPO");
  }
  return warnings;
}

/** Every cross-key check of a parsed config. */
export function checkConfig(config: PlatformConfig, suppliedSecretNames: readonly string[]): CheckResult {
  const problems = [
    ...platformProblems(config),
    ...workloadProblems(config),
    ...nameProblems(config),
    ...tracingProblems(config),
    ...backupProblems(config),
    ...secretProblems(config, suppliedSecretNames),
    ...sloProblems(config),
  ];
  const warnings = backupWarnings(config);
  // Every key renders on both targets: a Compose-only one is ignored on Kubernetes, and says so.
  if (config.target === "kubernetes" && config.proxy.extraHosts.length > 0) {
    warnings.push(
      `${configKey(["proxy", "extraHosts"])} is Compose only (Docker's extra_hosts) and ignored on Kubernetes: name hosts through the cluster's DNS`,
    );
  }
  // deploy.sh installs no crontab on a developer's own engine, so nothing runs autoscale.sh there.
  if (config.target === "compose" && config.compose.mode === "local") {
    config.workers.forEach((w, i) => {
      if (w.autoscaling.enabled && w.autoscaling.queue) {
        warnings.push(
          `${configKey(["workers", i, "autoscaling", "queue"])}: compose.mode is "local": no crontab runs autoscale.sh, so the worker stays at its minimum (${w.autoscaling.minReplicas})`,
        );
      }
    });
  }
  for (const { key, image } of imageKeys(config)) {
    const pin = imagePinProblem(key, image, config.environment);
    if (pin?.severity === "error") problems.push(pin.message);
    else if (pin) warnings.push(pin.message);
  }
  return { problems, warnings };
}
