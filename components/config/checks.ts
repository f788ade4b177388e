/**
 * Checks across keys, run on the parsed config: what one field's schema cannot see
 * (secrets that must be supplied, names that must be unique, a migration that would drop
 * pgvector columns on prod, moving image tags outside dev ...). Problems refuse the config;
 * warnings are logged by `pulumi preview`/`up` and allowed.
 */
import { DEFAULT_RECEIVER } from "./alerting";
import { BACKUP_S3_SECRETS } from "./backups";
import { builtinSecrets, encryptionKeyRotationRefusal, reservedWorkloadNames } from "./builtins";
import { configKey, showValue } from "./errors";
import { imagePinProblem } from "./images";
import type { Environment, MonitoringConfig, PlatformConfig, ReceiverConfig } from "./types";

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
    "pgvector embedding columns (Unsupported(\"vector\") in Prisma) are dropped with their data " +
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
    ...Object.fromEntries(config.workers.map((w, i) => [w.name, configKey(["workers", i, "metrics"]) + " is not set"]).filter(([name]) => !scraped.includes(name))),
    ...Object.fromEntries(config.services.map((s, i) => [s.name, configKey(["services", i, "metrics"]) + " is not set"]).filter(([name]) => !scraped.includes(name))),
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
    for (const part of ["prometheus", "alertmanager", "grafana", "loki", "alloy", "nodeExporter", "cadvisor", "postgresExporter", "redisExporter", "blackboxExporter"] as const) {
      if (m[part].enabled) add(["monitoring", part, "image"], m[part].image);
    }
    if (m.tracing.enabled) add(["monitoring", "tracing", "image"], m.tracing.image);
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
      problems.push(`${configKey(["secrets", name])}: declared but no value supplied; run: pulumi config set --secret --path 'ballast:secretValues.${name}' <value>`);
    }
    if (name in builtinSecrets) problems.push(`${configKey(["secrets", name])}: "${name}" is a built-in secret; supply its value under ballast:secretValues instead`);
  }
  if (config.postgres.external && !supplied.includes("database-url")) {
    problems.push(
      `${configKey(["postgres", "external"])}: an external database needs its connection URL: pulumi config set --secret --path 'ballast:secretValues.database-url' 'postgresql://user:password@host:5432/db?sslmode=require'`,
    );
  }
  if (config.registry?.username && !supplied.includes("registry-password")) {
    problems.push(`${configKey(["registry", "username"])}: a registry login needs its password or token: pulumi config set --secret --path 'ballast:secretValues.registry-password' <token>`);
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
    if (!declared.has(secret)) return `unknown secret ${showValue(secret)}; allowed: built-in secrets (${Object.keys(builtinSecrets).join(", ")}) or names declared under ballast:secrets`;
    if ((secret === "redis-url" || secret === "redis-password") && !config.redis.enabled) return `${showValue(secret)} does not exist: ballast:redis.enabled is false (drop the entry with \`false\`)`;
    if (secret === "postgres-password" && config.postgres.external) return `"postgres-password" does not exist with an external database (ballast:postgres.external): use "database-url"`;
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
    if (name === "encryption-key") {
      problems.push(`${configKey(["rotation", name])}: refused (got ${counter}): ${encryptionKeyRotationRefusal}`);
    } else if (!builtin || !builtin.generated) {
      const rotatable = Object.entries(builtinSecrets)
        .filter(([, s]) => s.generated && !s.immutable)
        .map(([n]) => n);
      problems.push(`${configKey(["rotation", name])}: only generated secrets have a rotation counter; allowed: ${rotatable.join(", ")}`);
    }
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
        problems.push(`${configKey(["services", i, "allowFrom", j])}: ${showValue(peer)} is not a workload of this stack; allowed: ${[...seen.keys()].join(", ")}`);
      }
    }),
  );
  return problems;
}

function workloadProblems(config: PlatformConfig): string[] {
  const problems: string[] = [];
  if (config.app.image === undefined && config.app.build === undefined) {
    problems.push(`${configKey(["app", "image"])}: required: a pinned image (e.g. "ghcr.io/acme/app:1.4.2"), or ballast:app.build to build one from a Dockerfile`);
  }
  config.services.forEach((s, i) => {
    if (s.image === undefined && s.build === undefined) {
      problems.push(`${configKey(["services", i, "image"])}: required: a pinned image, or ballast:services[${i}].build to build one from a Dockerfile`);
    }
    if (s.storage && (s.replicas > 1 || s.autoscaling.enabled)) {
      problems.push(`${configKey(["services", i, "storage"])}: a service with persistent storage runs as one stateful replica; remove replicas/autoscaling or the storage`);
    }
    if (s.runAsRoot && s.runAsUser !== undefined) {
      problems.push(`${configKey(["services", i, "runAsUser"])}: conflicts with runAsRoot: true; set one of them`);
    }
  });
  const checkHealth = (path: (string | number)[], health: { liveness?: string; command?: string[]; port?: number } | undefined, hasPort: boolean) => {
    if (health?.liveness !== undefined && !hasPort && health.port === undefined) {
      problems.push(`${configKey([...path, "health", "port"])}: required for HTTP health paths on a workload without a port (or use health.command)`);
    }
  };
  config.workers.forEach((w, i) => checkHealth(["workers", i], w.health, w.metrics !== undefined));
  if (config.app.migration) {
    const refusal = checkMigrationSafety(config.environment, config.app.migration.command);
    if (refusal) problems.push(refusal);
  }
  if (config.postgres.external && config.postgres.hnswIndex) {
    problems.push(`${configKey(["postgres", "hnswIndex"])}: an external database's indexes are the migration's job (ballast:app.migration); Ballast ensures the HNSW index only on its own Postgres`);
  }
  for (const [i, worker] of config.workers.entries()) {
    if (worker.autoscaling.enabled && config.target === "compose") continue;
    if (worker.autoscaling.enabled && worker.replicas > worker.autoscaling.maxReplicas) {
      problems.push(`${configKey(["workers", i, "replicas"])}: ${worker.replicas} exceeds autoscaling.maxReplicas (${worker.autoscaling.maxReplicas})`);
    }
  }
  const builds = [
    config.app.build,
    ...config.workers.map((w) => w.build),
    ...config.cronJobs.map((c) => c.build),
    ...config.services.map((s) => s.build),
  ].filter((b) => b !== undefined);
  if (builds.length > 0 && config.target === "kubernetes" && !config.registry) {
    problems.push(`${configKey(["registry"])}: required when an image is built for Kubernetes: the cluster pulls from it (e.g. {server: "ghcr.io", username: "acme-bot"})`);
  }
  return problems;
}

function platformProblems(config: PlatformConfig): string[] {
  const problems: string[] = [];
  if (config.tls && !/^[^@\s]+@[^@\s]+\.[a-z]{2,}$/.test(config.acmeEmail)) {
    problems.push(`${configKey(["acmeEmail"])}: Let's Encrypt needs a contact address when ballast:tls is true (got ${showValue(config.acmeEmail)})`);
  }
  if (config.environment === "prod" && !config.tls) problems.push(`${configKey(["tls"])}: prod must serve HTTPS (got false); only dev may run without TLS`);
  if (config.proxy.acmeStaging && config.proxy.acmeDirectory !== "") {
    problems.push(`${configKey(["proxy", "acmeDirectory"])}: set either acmeDirectory or acmeStaging, not both (acmeStaging is Let's Encrypt's staging directory)`);
  }
  if (config.domain === "localhost" && config.tls) {
    problems.push(`${configKey(["domain"])}: "localhost" cannot get a Let's Encrypt certificate; set a real domain or ballast:tls false (dev only)`);
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
        problems.push(`${configKey([...base, "authorizedKeys"])}: required when the bootstrap is enabled: the deploy user's public key (the .pub of ballast:sshPrivateKey)`);
      }
      const everyone = bootstrap.fail2ban.ignoreFrom.filter((c) => /\/0$/.test(c));
      if (everyone.length > 0) {
        problems.push(`${configKey([...base, "fail2ban", "ignoreFrom"])}: ${everyone.map((c) => showValue(c)).join(", ")} would exempt every address and switch the sshd jail off`);
      }
    }
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
  if (!backups.s3) warnings.push("ballast:backups.s3 is not set: backups stay on the same host/cluster as the database and are lost with it");
  if (!backups.drill.enabled) {
    warnings.push("ballast:backups.drill.enabled is false: nobody proves that the backups restore");
  } else {
    if (backups.drill.tables.length === 0) warnings.push("ballast:backups.drill.tables is empty: the restore drill does not compare row counts");
    if (!backups.drill.freshness) warnings.push("ballast:backups.drill.freshness is not set: the restore drill cannot check the data against the RPO");
  }
  return warnings;
}

/** Every cross-key check of a parsed config. */
export function checkConfig(config: PlatformConfig, suppliedSecretNames: readonly string[]): CheckResult {
  const problems = [...platformProblems(config), ...workloadProblems(config), ...nameProblems(config), ...secretProblems(config, suppliedSecretNames), ...sloProblems(config)];
  const warnings = backupWarnings(config);
  // Every key renders on both targets: a Compose-only one is ignored on Kubernetes, and says so.
  if (config.target === "kubernetes" && config.proxy.extraHosts.length > 0) {
    warnings.push(`${configKey(["proxy", "extraHosts"])} is Compose only (Docker's extra_hosts) and ignored on Kubernetes: name hosts through the cluster's DNS`);
  }
  for (const { key, image } of imageKeys(config)) {
    const pin = imagePinProblem(key, image, config.environment);
    if (pin?.severity === "error") problems.push(pin.message);
    else if (pin) warnings.push(pin.message);
  }
  return { problems, warnings };
}
