/**
 * Platform: the root component. Builds every part's WorkloadSpecs (plain functions: app,
 * workers, cron jobs, datastores, proxy, services, backups, observability), derives the
 * network flows between them, and hands the resulting StackModel to the target the stack
 * config chose. Its own children are the components that own resources, named after it:
 * `<name>-images` (the image builds, only when something is built) and `<name>-secrets`.
 */
import * as pulumi from "@pulumi/pulumi";
import { appHost, appSpec } from "./app";
import { buildPlan, ImageBuilds, imageBuildRequests, REGISTRY_PASSWORD_SECRET, workloadImages } from "./build";
import { backupJobs } from "./backups/component";
import { grafanaUrl, instrumentWorkloads, monitoringWorkloads } from "./observability/component";
import {
  alertReceivers,
  currentPulumiContext,
  ENCRYPTION_KEY_PREVIOUS_SECRET,
  encryptionKeyGenerations,
  resolvePlatformArgs,
  rotationCounters,
  type PlatformArgs,
  type PlatformConfig,
  type SecretConfig,
} from "./config";
import { cronJobSpecs } from "./cron";
import { composeHostFit } from "./footprint";
import { bootstrapOptions, renderBootstrapScript } from "./host/bootstrap";
import { stackEndpoints } from "./names";
import { postgresWorkloads } from "./postgres";
import { proxyWorkloads } from "./proxy";
import { redisWorkloads } from "./redis";
import { Secrets } from "./secrets";
import { extraServiceSpecs } from "./services";
import { SECRET_REVISIONS_ENV, type StackModel, type WorkloadSpec } from "./spec";
import { ComposeTarget } from "./targets/compose";
import { KubernetesTarget } from "./targets/kubernetes";
import type { Target } from "./targets/target";
import { withVolumeOwners } from "./volume-owners";
import { workerSpecs } from "./workers";

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

    // The one component that builds (only when something is built): every image of the stack, by workload; the specs take the refs.
    const plan = buildPlan(config, secretInputs.values);
    const requests = imageBuildRequests(config);
    const builds = requests.length
      ? new ImageBuilds(`${name}-images`, { builds: requests, tag: plan.tag, push: plan.push, registry: plan.registry }, child)
      : undefined;
    const images = workloadImages(config, builds?.images ?? {});
    const app = appSpec(config, images.app);
    const backups = backupJobs(config, app);
    const monitoring = monitoringWorkloads(config);
    // The app (and workers) start only after the one-shot jobs (migration) completed.
    const beforeApp = backups.beforeApp.map((job) => job.name);
    const appWithJobs = { ...app, dependsOn: [...app.dependsOn, ...beforeApp] };

    const supplied = Object.keys(secretInputs.values);
    const specs = instrumentWorkloads(config, [
      ...proxyWorkloads(config),
      appWithJobs,
      ...workerSpecs(config, images.workers).map((w) => ({ ...w, dependsOn: [...w.dependsOn, ...beforeApp] })),
      ...cronJobSpecs(config, images.cronJobs),
      ...postgresWorkloads(config),
      ...redisWorkloads(config),
      ...extraServiceSpecs(config, images.services),
      ...backups.beforeApp,
      ...backups.scheduled,
      ...monitoring,
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
    const secrets = new Secrets(
      `${name}-secrets`,
      {
        used,
        endpoints: stackEndpoints(config),
        supplied: secretInputs.values,
        rotation: rotationCounters(config, supplied),
        ...(config.encryptionKeyRotation
          ? { encryptionKeyRotation: { previousKeyEnv: config.encryptionKeyRotation.previousKeyEnv, generations: encryptionKey } }
          : {}),
        receivers: alertReceivers(config.monitoring),
        declared: config.secrets,
      },
      child,
    );
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
    this.grafanaUrl = grafanaUrl(monitoring);
    this.registerOutputs({
      appUrl: this.appUrl,
      location: this.location,
      grafanaUrl: this.grafanaUrl ?? "disabled",
      target: config.target,
      workloads: workloads.map((w) => w.name),
    });
  }
}
