/**
 * Platform: the root component. Builds every component's WorkloadSpecs, derives the
 * network flows between them, creates the secrets they use, and hands the resulting
 * StackModel to the target the stack config chose.
 */
import * as pulumi from "@pulumi/pulumi";
import { App, appHost } from "./app";
import { buildPlan, REGISTRY_PASSWORD_SECRET } from "./build";
import { Backups } from "./backups/component";
import { Observability } from "./observability/component";
import {
  currentPulumiContext,
  ENCRYPTION_KEY_PREVIOUS_SECRET,
  encryptionKeyGenerations,
  resolvePlatformArgs,
  rotationCounters,
  type PlatformArgs,
  type PlatformConfig,
  type SecretConfig,
} from "./config";
import { CronJobs } from "./cron";
import { composeHostFit } from "./footprint";
import { bootstrapOptions, renderBootstrapScript } from "./host/bootstrap";
import { Postgres } from "./postgres";
import { Proxy } from "./proxy";
import { Redis } from "./redis";
import { Secrets } from "./secrets";
import { ExtraServices } from "./services";
import { SECRET_REVISIONS_ENV, type StackModel, type WorkloadSpec } from "./spec";
import { ComposeTarget } from "./targets/compose";
import { KubernetesTarget } from "./targets/kubernetes";
import type { Target } from "./targets/target";
import { withVolumeOwners } from "./volume-owners";
import { WorkerPool } from "./workers";

export type { PlatformArgs } from "./config";

/** Secrets that grant access to a datastore, by the datastore's component: whoever holds one may connect to it. */
const datastoreCredentials: Record<string, string[]> = {
  postgres: ["database-url", "postgres-password", "postgres-app-password", "postgres-monitor-password", "postgres-backup-password"],
  redis: ["redis-url", "redis-password"],
};

/**
 * Pure: completes `network.allowFrom` from what the specs already say: a workload that
 * holds a datastore's credentials may reach that datastore; Prometheus may reach every
 * workload that exposes metrics.
 */
export function wireNetwork(workloads: WorkloadSpec[]): WorkloadSpec[] {
  const names = new Set(workloads.map((w) => w.name));
  return workloads.map((target) => {
    const allowed = new Set(target.network.allowFrom);
    const credentials = target.role === "stateful" ? datastoreCredentials[target.component] : undefined;
    for (const client of workloads) {
      if (client.name === target.name) continue;
      if (credentials && Object.values(client.secretEnv).some((secret) => credentials.includes(secret))) allowed.add(client.name);
    }
    if (target.metrics && names.has("prometheus") && target.name !== "prometheus") allowed.add("prometheus");
    const allowFrom = [...allowed].filter((name) => names.has(name) && name !== target.name).sort();
    return { ...target, network: { ...target.network, allowFrom } };
  });
}

/** Secrets whose value is built from (or kept beside) another secret, so they change when it is rotated. */
const derivedFrom: Record<string, string> = {
  "database-url": "postgres-app-password",
  "redis-url": "redis-password",
  [ENCRYPTION_KEY_PREVIOUS_SECRET]: "encryption-key",
};

/**
 * Pure: stamps the rotation counters of the secrets a workload uses into a plain env var,
 * so bumping `ballast:rotation.<secret>` changes the pod template / container config and
 * rolls exactly the workloads that use the secret (a Kubernetes Secret change alone restarts nothing).
 * `rotation` holds effective counters (`rotationCounters`: own + `all`). A secret the workload
 * takes in place (`liveSecrets`: Postgres' own password) does not restart it.
 */
export function stampSecretRevisions(workloads: WorkloadSpec[], rotation: Record<string, number>): WorkloadSpec[] {
  return workloads.map((w) => {
    const used = new Set<string>();
    const live = new Set((w.liveSecrets ?? []).map((s) => s.secret));
    for (const secret of [...Object.values(w.secretEnv), ...w.secretFiles.map((f) => f.secret)]) {
      if (!live.has(secret)) used.add(derivedFrom[secret] ?? secret);
    }
    const revisions = [...used]
      .filter((s) => (rotation[s] ?? 0) > 0)
      .sort()
      .map((s) => `${s}=${rotation[s]}`);
    return revisions.length ? { ...w, env: { ...w.env, [SECRET_REVISIONS_ENV]: revisions.join(",") } } : w;
  });
}

/**
 * Pure: during an encryption key's re-encryption window, every workload that reads
 * `encryption-key` also gets the previous key, as `previousKeyEnv`.
 */
export function withPreviousEncryptionKey(workloads: WorkloadSpec[], previousKeyEnv: string): WorkloadSpec[] {
  return workloads.map((w) =>
    Object.values(w.secretEnv).includes("encryption-key")
      ? { ...w, secretEnv: { ...w.secretEnv, [previousKeyEnv]: ENCRYPTION_KEY_PREVIOUS_SECRET } }
      : w,
  );
}

/** Pure: the secret names the workloads reference (env and files). */
export function usedSecrets(workloads: WorkloadSpec[]): Set<string> {
  const used = new Set<string>();
  for (const w of workloads) {
    Object.values(w.secretEnv).forEach((s) => used.add(s));
    w.secretFiles.forEach((f) => used.add(f.secret));
  }
  return used;
}

/** Pure: picks the target implementation for the stack config. */
export function targetFor(config: PlatformConfig, secrets: SecretConfig): Target {
  if (config.target === "compose") {
    return new ComposeTarget(config.compose, {
      domain: config.domain,
      tls: config.tls,
      // The release gate checks deep health (every dependency) through the proxy.
      healthUrlPath: config.app.health.deep ?? config.app.health.readiness ?? "/",
      appName: config.app.name,
      appHost: appHost(config),
      httpPort: config.proxy.httpPort,
      httpsPort: config.proxy.httpsPort,
      sshPrivateKey: secrets.sshPrivateKey,
      bootstrapSshPrivateKey: secrets.bootstrapSshPrivateKey,
      bootstrapScript:
        config.compose.mode === "ssh" && config.compose.bootstrap.enabled
          ? renderBootstrapScript(
              bootstrapOptions(config.compose, config.compose.bootstrap, {
                httpPort: config.proxy.httpPort,
                httpsPort: config.proxy.httpsPort,
              }),
            )
          : undefined,
    });
  }
  return new KubernetesTarget(config.kubernetes, {
    tls: config.tls,
    acmeEmail: config.acmeEmail,
    ingressControllerNamespace: config.kubernetes.ingressControllerNamespace,
  });
}

/**
 * The whole stack: `args` is the declaration (every key of a stack file's `ballast:` namespace,
 * documented with its default in ./config/args), validated with every default merged before
 * anything is registered: a bad declaration throws one ConfigError naming each bad key.
 */
export class Platform extends pulumi.ComponentResource {
  /** The validated declaration, every default merged. */
  readonly config: PlatformConfig;
  /** Everything the target deploys, without secret values: what `npm run render` writes. */
  readonly model: StackModel;
  readonly target: Target;
  readonly appUrl: pulumi.Output<string>;
  readonly location: pulumi.Output<string>;
  /** Grafana behind Traefik, when monitoring is on. */
  readonly grafanaUrl?: string;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    const resolved = resolvePlatformArgs(args, currentPulumiContext());
    super("ballast:platform:Platform", name, {}, opts);
    for (const warning of resolved.warnings) pulumi.log.warn(warning, this);
    const { config, secrets: secretInputs } = resolved;
    this.config = config;
    const child = { parent: this };

    const build = buildPlan(config, secretInputs.values);
    const proxy = new Proxy("proxy", { config }, child);
    const app = new App("app", { config, build }, child);
    const workers = new WorkerPool("workers", { config, appImage: app.image, build }, child);
    const cron = new CronJobs("cron", { config, appImage: app.image, build }, child);
    const postgres = new Postgres("postgres", { config }, child);
    const redis = new Redis("redis", { config }, child);
    const services = new ExtraServices("services", { config, build }, child);
    const backups = new Backups("backups", { config, app: app.spec }, child);
    const observability = new Observability("observability", { config }, child);
    // The app (and workers) start only after the one-shot jobs (migration) completed.
    const beforeApp = backups.beforeApp.map((job) => job.name);
    const appSpec = { ...app.spec, dependsOn: [...app.spec.dependsOn, ...beforeApp] };

    const supplied = Object.keys(secretInputs.values);
    const specs = observability.instrument([
      ...(proxy.spec ? [proxy.spec] : []),
      appSpec,
      ...workers.specs.map((w) => ({ ...w, dependsOn: [...w.dependsOn, ...beforeApp] })),
      ...cron.specs,
      ...(postgres.spec ? [postgres.spec] : []),
      ...(postgres.passwordCheck ? [postgres.passwordCheck] : []),
      ...(redis.spec ? [redis.spec] : []),
      ...services.specs,
      ...backups.beforeApp,
      ...backups.scheduled,
      ...observability.specs,
    ]);
    // Compose: volumes with a non-root owner are given to it before anything starts.
    const declared = wireNetwork(config.target === "compose" ? withVolumeOwners(specs, config.proxy.image) : specs);
    const encryptionKey = encryptionKeyGenerations(config, supplied);
    const keyed =
      config.encryptionKeyRotation && encryptionKey.previous !== undefined
        ? withPreviousEncryptionKey(declared, config.encryptionKeyRotation.previousKeyEnv)
        : declared;
    const workloads = stampSecretRevisions(keyed, rotationCounters(config, supplied));

    // The target pulls built images with the registry login when the stack has one.
    const registry = config.registry?.username
      ? { server: config.registry.server, username: config.registry.username, passwordSecret: REGISTRY_PASSWORD_SECRET }
      : undefined;
    const used = usedSecrets(workloads);
    if (registry) used.add(registry.passwordSecret);
    const secrets = new Secrets("secrets", { config, supplied: secretInputs.values, used }, child);
    this.model = {
      project: config.target === "compose" ? config.compose.project : config.project,
      stack: config.stack,
      domain: config.domain,
      workloads,
      secrets: secrets.specs,
      allowDataLoss: config.allowDataLoss,
      ...(registry ? { registry } : {}),
    };

    if (config.target === "compose") {
      // Over-committed limits on one VPS end in OOM kills under load: say so in every preview.
      for (const problem of composeHostFit(workloads, config.host).problems) pulumi.log.warn(problem, this);
    }
    this.target = targetFor(config, secretInputs);
    const deployed = this.target.deploy(this.model, secrets.values, { name, parent: this });
    this.appUrl = deployed.appUrl;
    this.location = deployed.location;
    this.grafanaUrl = observability.grafanaUrl;
    this.registerOutputs({
      appUrl: this.appUrl,
      location: this.location,
      grafanaUrl: this.grafanaUrl ?? "disabled",
      target: config.target,
      workloads: workloads.map((w) => w.name),
    });
  }
}
