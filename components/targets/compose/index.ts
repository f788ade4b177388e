/**
 * The Compose target: the stack as one docker compose project on a single host,
 * deployed over SSH (staging/prod VPS) or on the local Docker engine (dev).
 *
 * `render` is pure and returns every file a reviewer needs (no secret values);
 * `deploy` renders the same files, adds `.env` and secret files as Pulumi secrets and
 * hands the bundle to one `@pulumi/command` Command (apply.ts) that runs deploy.sh: a
 * zero-downtime release for the stack's own services (docs/compose-release.md).
 */
import { isAbsolute, resolve } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import type { ComposeConfig } from "../../config/types";
import { dockerConfigJson, type PortSpec, type SecretName, type StackModel, type WorkloadSpec } from "../../spec";
import { targetResourceIdentity } from "../names";
import type { RenderedFile, SecretValues, Target, TargetOutputs, TargetOwner } from "../target";
import { applyHostBootstrap } from "./host";
import { applyRelease } from "./apply";
import { bundleId, encodeBundle, type BundleFile } from "./bundle";
import { envSecrets, fileSecrets, renderEnvExample, renderEnvText } from "./env";
import { isProxy } from "./networks";
import {
  COMPOSE_FILE,
  configFilePath,
  hostAddressLiteral,
  isScheduledJob,
  persistentVolumeNames,
  releaseBaseDir,
  renderComposeProject,
  secretFilePath,
  type ComposeRenderOptions,
} from "./render";
import { ComposeServiceRecord, serviceRecordProperties } from "./records";
import { releasePlan, type QueueScaledService } from "./release";
import { renderRouters, ROUTERS_FILE } from "./routing";
import {
  renderAutoscaleScript,
  renderDeployScript,
  renderDestroyScript,
  renderMaintenanceScript,
  type HealthGateSettings,
  type ScriptSettings,
} from "./scripts";

export { renderComposeProject, releaseBaseDir } from "./render";
export { renderEnvFile, renderEnvExample } from "./env";
export { renderCrontab, validateSchedule } from "./cron";
export { renderAutoscaleScript, renderDeployScript, renderDestroyScript, renderMaintenanceScript } from "./scripts";
export { releasePlan } from "./release";
export { renderRouters } from "./routing";
export { assignNetworks, joinNetworksForFlows } from "./networks";

export interface ComposeTargetOptions {
  /** Public domain of the stack. */
  domain: string;
  /** HTTPS through Traefik and Let's Encrypt; false only on dev. Must match the app route's `tls`. */
  tls: boolean;
  /** Path of the app's health endpoint, checked through the proxy after every deploy (`/api/health`). */
  healthUrlPath: string;
  /** Workload name of the app: its route is the health gate's host and the `appUrl`. */
  appName: string;
  /** Host of the app; default: the app route's host, else `domain`. */
  appHost?: string;
  /** Host port the proxy publishes for HTTP; default: the proxy's `web` port's `publish`. */
  httpPort?: number;
  /** Host port the proxy publishes for HTTPS; default: the proxy's `websecure` port's `publish`. */
  httpsPort?: number;
  /** SSH private key for `mode: "ssh"`, kept a Pulumi secret; without it the SSH agent authenticates. */
  sshPrivateKey?: pulumi.Output<string>;
  /** The bootstrap's own SSH private key (admin user, first contact), kept a Pulumi secret; without it the SSH agent authenticates. */
  bootstrapSshPrivateKey?: pulumi.Output<string>;
  /** Bound for `docker compose pull` on the host, seconds (default 900). */
  pullTimeoutSeconds?: number;
  /** Health-gate attempts and the pause between them (default 12 x 5 s, each attempt at most 5 s). */
  healthGateAttempts?: number;
  healthGateDelaySeconds?: number;
  /** json-file log rotation (default 10m x 3 files per container). */
  logMaxSize?: string;
  logMaxFiles?: number;
  /** Host preparation script (components/host) run over SSH before the first release; absent: not run. */
  bootstrapScript?: string;
}

const DEFAULT_PULL_TIMEOUT_SECONDS = 900;
/** The release's registry login, read only by `docker compose pull` (DOCKER_CONFIG). */
export const REGISTRY_CONFIG_FILE = ".docker/config.json";
const DEFAULT_HEALTH_GATE_ATTEMPTS = 12;
const DEFAULT_HEALTH_GATE_DELAY_SECONDS = 5;
/** Seconds after a scale-up before autoscale.sh scales a worker down (the HPA's default scale-down stabilisation). */
export const AUTOSCALE_COOLDOWN_SECONDS = 300;
/** Seconds Traefik may take to show a switched set of servers (its file provider reloads within ~1 s). */
const ROUTE_SWITCH_TIMEOUT_SECONDS = 30;

/** What the release command reads on stdin: deploy.sh (ending in a newline), then the bundle it unpacks. */
export function releaseStdin(deployScript: string, files: BundleFile[]): string {
  return `${deployScript.endsWith("\n") ? deployScript : `${deployScript}\n`}${encodeBundle(files)}`;
}

/** The host scripts of one release. */
export interface ReleaseScripts {
  deploy: string;
  destroy: string;
  maintenance: string;
  /** When workers scale on a queue: what the host's cron runs every minute. */
  autoscale?: string;
}

/** Files a release needs on the host that carry no secret, in bundle form. */
function plainBundleFiles(model: StackModel, composeYaml: string, crontab: string | undefined, scripts: ReleaseScripts): BundleFile[] {
  const files: BundleFile[] = [{ path: COMPOSE_FILE, mode: 0o644, content: composeYaml }];
  for (const workload of model.workloads) {
    for (const file of workload.configFiles) {
      files.push({ path: configFilePath(workload, file.name), mode: file.mode ?? 0o444, content: file.content });
    }
  }
  if (crontab !== undefined) files.push({ path: "crontab", mode: 0o644, content: crontab });
  files.push({ path: ROUTERS_FILE, mode: 0o644, content: renderRouters(model) });
  // deploy.sh runs from stdin; its copy in the release is for reading (and in the bundle hash).
  files.push({ path: "deploy.sh", mode: 0o500, content: scripts.deploy });
  files.push({ path: "destroy.sh", mode: 0o500, content: scripts.destroy });
  files.push({ path: "maintenance.sh", mode: 0o500, content: scripts.maintenance });
  if (scripts.autoscale !== undefined) files.push({ path: "autoscale.sh", mode: 0o500, content: scripts.autoscale });
  return files;
}

function proxyPort(proxy: WorkloadSpec | undefined, containerPort: number, name: string): PortSpec | undefined {
  return proxy?.ports.find((p) => p.name === name) ?? proxy?.ports.find((p) => p.port === containerPort);
}

/**
 * The address the health gate sends the app's host to: the proxy's bind address, or loopback when
 * it binds every interface (a wildcard address is not one to connect to).
 */
function healthGateAddress(address: string | undefined): string {
  if (!address || address === "0.0.0.0" || address === "::") return "127.0.0.1";
  return hostAddressLiteral(address);
}

export class ComposeTarget implements Target {
  readonly kind = "compose" as const;
  private readonly config: ComposeConfig;
  private readonly options: ComposeTargetOptions;

  constructor(config: ComposeConfig, options: ComposeTargetOptions) {
    // Relative local directories are taken from where Pulumi runs; the host paths must be absolute.
    this.config = config.mode === "local" && !isAbsolute(config.localDir) ? { ...config, localDir: resolve(config.localDir) } : config;
    this.options = options;
    if (config.keepReleases < 2) {
      throw new Error(
        `ballast:compose.keepReleases is ${config.keepReleases}; it must be at least 2 (the previous release is the rollback target)`,
      );
    }
  }

  private renderOptions(): ComposeRenderOptions {
    return { logMaxSize: this.options.logMaxSize, logMaxFiles: this.options.logMaxFiles };
  }

  /** Where the app answers: its host, and the proxy's published port for the stack's scheme. */
  private endpoint(model: StackModel): { host: string; port: number; origin: string; address: string } {
    const app = model.workloads.find((w) => w.name === this.options.appName);
    if (!app) throw new Error(`compose target: app workload "${this.options.appName}" is not in the stack`);
    const tls = this.options.tls;
    if (app.route && app.route.tls !== tls) {
      throw new Error(`compose target: the app route has tls=${app.route.tls} but the stack has tls=${tls}`);
    }
    const proxy = model.workloads.find(isProxy);
    const published = tls ? proxyPort(proxy, 443, "websecure") : proxyPort(proxy, 80, "web");
    const port = (tls ? this.options.httpsPort : this.options.httpPort) ?? published?.publish;
    if (port === undefined) {
      throw new Error(`compose target: the proxy publishes no ${tls ? "HTTPS" : "HTTP"} port, so the app cannot be reached`);
    }
    const host = this.options.appHost ?? app.route?.host ?? this.options.domain;
    const origin = `${tls ? "https" : "http"}://${host}${port === (tls ? 443 : 80) ? "" : `:${port}`}`;
    return { host, port, origin, address: healthGateAddress(published?.publishAddress) };
  }

  /** The public URL of the app (`https://app.example.com`, or `http://...:8080` on dev). */
  appUrl(model: StackModel): string {
    return this.endpoint(model).origin;
  }

  /** The post-deploy check: the app's health endpoint through the proxy, resolved to this host. */
  healthGate(model: StackModel): HealthGateSettings {
    const { host, port, origin, address } = this.endpoint(model);
    return {
      url: `${origin}${this.options.healthUrlPath}`,
      resolve: `${host}:${port}:${address}`,
      tls: this.options.tls,
      attempts: this.options.healthGateAttempts ?? DEFAULT_HEALTH_GATE_ATTEMPTS,
      delaySeconds: this.options.healthGateDelaySeconds ?? DEFAULT_HEALTH_GATE_DELAY_SECONDS,
    };
  }

  private pullTimeoutSeconds(): number {
    return this.options.pullTimeoutSeconds ?? DEFAULT_PULL_TIMEOUT_SECONDS;
  }

  /** Long enough for another deploy to pull, come up and roll back before this one gives up waiting. */
  private lockTimeoutSeconds(): number {
    return this.pullTimeoutSeconds() + 2 * this.config.deployTimeoutSeconds + 300;
  }

  private commonScriptSettings(model: StackModel): ScriptSettings {
    const longestGrace = Math.max(10, ...model.workloads.map((w) => w.stopGracePeriodSeconds));
    return {
      project: this.config.project,
      releaseBase: releaseBaseDir(this.config),
      composeCommand: this.config.composeCommand,
      volumes: persistentVolumeNames(model, this.config.project),
      hasJobs: model.workloads.some(isScheduledJob),
      stopTimeoutSeconds: longestGrace + 60,
      lockTimeoutSeconds: this.lockTimeoutSeconds(),
    };
  }

  /** Traefik's API on the host's loopback (the proxy's `admin` port), where deploy.sh confirms a switch. */
  private adminUrl(model: StackModel): string {
    const admin = model.workloads.find(isProxy)?.ports.find((p) => p.name === "admin");
    return admin?.publish !== undefined ? `http://127.0.0.1:${admin.publish}` : "";
  }

  /** deploy.sh, destroy.sh, maintenance.sh (and autoscale.sh with queue-scaled workers) of a release of this model. */
  scripts(model: StackModel): ReleaseScripts {
    const common = this.commonScriptSettings(model);
    const plan = releasePlan(model.workloads);
    if (plan.routed.length > 0 && this.adminUrl(model) === "") {
      throw new Error("compose target: routed services need the proxy's admin port (deploy.sh confirms each traffic switch through it)");
    }
    const oneShotTimeouts = Object.fromEntries(
      model.workloads
        .filter((w) => plan.oneShots.includes(w.name) || plan.preparers.includes(w.name))
        .map((w) => [w.name, w.jobTimeoutSeconds ?? 600]),
    );
    return {
      deploy: renderDeployScript({
        ...common,
        keepReleases: this.config.keepReleases,
        deployTimeoutSeconds: this.config.deployTimeoutSeconds,
        pullTimeoutSeconds: this.pullTimeoutSeconds(),
        healthGate: this.healthGate(model),
        plan,
        oneShotTimeouts,
        adminUrl: this.adminUrl(model),
        routeSwitchTimeoutSeconds: ROUTE_SWITCH_TIMEOUT_SECONDS,
        // A developer's own crontab is not the stack's: only a VPS runs scheduled jobs from cron.
        cron: this.config.mode === "ssh",
        maintenance: this.config.maintenance.enabled,
      }),
      destroy: renderDestroyScript({ ...common, allowDataLoss: model.allowDataLoss }),
      maintenance: renderMaintenanceScript({ ...common, buildCacheKeep: this.config.maintenance.buildCacheKeep }),
      ...(plan.scaled.length > 0 && { autoscale: this.autoscaleScript(model, common, plan.scaled) }),
    };
  }

  /** autoscale.sh: reads every queue in the one Redis that holds them, with the password variable of that container. */
  private autoscaleScript(model: StackModel, common: ScriptSettings, scaled: QueueScaledService[]): string {
    const stores = new Set(
      model.workloads.flatMap((w) =>
        w.autoscaling?.queue ? [`${w.autoscaling.queue.datastore}/${w.autoscaling.queue.passwordSecret}`] : [],
      ),
    );
    if (stores.size !== 1) throw new Error(`compose target: queue-scaled workers must read one Redis (got ${[...stores].join(", ")})`);
    const [store, secret] = [...stores][0].split("/");
    const redis = model.workloads.find((w) => w.name === store);
    const passwordEnv = redis && Object.entries(redis.secretEnv).find(([, name]) => name === secret)?.[0];
    if (!redis || !passwordEnv)
      throw new Error(`compose target: the queues are in "${store}", which is not a service of the stack holding the secret "${secret}"`);
    return renderAutoscaleScript({
      ...common,
      scaled,
      redisService: redis.name,
      redisPasswordEnv: passwordEnv,
      cooldownSeconds: AUTOSCALE_COOLDOWN_SECONDS,
    });
  }

  /**
   * Every file of a release, secret ones included, from plain values: what deploy() computes
   * inside an Output of the secrets, and what the script tests feed deploy.sh.
   */
  releaseFiles(model: StackModel, secretValues: Record<SecretName, string>): BundleFile[] {
    const project = renderComposeProject(model, this.config, this.renderOptions());
    const registry = model.registry;
    return [
      ...plainBundleFiles(model, project.yaml, project.crontab, this.scripts(model)),
      { path: ".env", mode: 0o600, content: renderEnvText(model, secretValues) },
      // The host pulls built images with this login (deploy.sh points DOCKER_CONFIG at it); never a persistent `docker login`.
      ...(registry
        ? [
            {
              path: REGISTRY_CONFIG_FILE,
              mode: 0o600,
              content: dockerConfigJson(registry.server, registry.username, secretValues[registry.passwordSecret]),
            },
          ]
        : []),
      // 0444: containers run as their own users and must read the bind-mounted file; the
      // release directory (0700) keeps other host users out.
      ...fileSecrets(model).map((secret) => ({ path: secretFilePath(secret), mode: 0o444, content: secretValues[secret] })),
    ];
  }

  render(model: StackModel): RenderedFile[] {
    const project = renderComposeProject(model, this.config, this.renderOptions());
    const files: RenderedFile[] = plainBundleFiles(model, project.yaml, project.crontab, this.scripts(model)).map(
      ({ path, mode, content }) => ({
        path,
        content,
        mode: path.endsWith(".sh") ? 0o755 : mode,
      }),
    );
    files.push({ path: ".env.example", content: renderEnvExample(model), mode: 0o644 });
    if (this.options.bootstrapScript && this.config.mode === "ssh") {
      files.push({ path: "host/bootstrap.sh", content: this.options.bootstrapScript, mode: 0o755 });
    }
    return files;
  }

  deploy(model: StackModel, secrets: SecretValues, owner: TargetOwner): TargetOutputs {
    // Images built by Pulumi are Outputs: the files are rendered once they are known.
    const images = pulumi.all(model.workloads.map((w) => w.image));
    const resolvedModel = images.apply((resolved): StackModel => ({
      ...model,
      workloads: model.workloads.map((w, i) => ({ ...w, image: resolved[i] })),
    }));
    const document = resolvedModel.apply((m) => renderComposeProject(m, this.config, this.renderOptions()).document);
    const secretNames = [
      ...new Set([...envSecrets(model), ...fileSecrets(model), ...(model.registry ? [model.registry.passwordSecret] : [])]),
    ];
    const missing = secretNames.filter((name) => secrets[name] === undefined);
    if (missing.length > 0) throw new Error(`compose target: no value for secret(s) ${missing.join(", ")}`);
    const secretValues = pulumi.all(Object.fromEntries(secretNames.map((name) => [name, secrets[name]])));
    const allFiles = pulumi.all([resolvedModel, secretValues]).apply(([m, values]) => this.releaseFiles(m, values));
    const bootstrap =
      this.options.bootstrapScript && this.config.mode === "ssh"
        ? applyHostBootstrap(this.config, this.options.bootstrapScript, owner, this.options.bootstrapSshPrivateKey)
        : undefined;
    const release = applyRelease(
      this.config,
      {
        // A sha256 over every file, all generated secrets included: it reveals nothing
        // usable and must be plain to name the release in the delete command.
        bundleId: pulumi.unsecret(allFiles.apply(bundleId)),
        // stdin: deploy.sh, then the bundle it reads (`bash -s`): the command line stays one short line.
        stdin: pulumi.secret(allFiles.apply((files) => releaseStdin(this.scripts(model).deploy, files))),
        releaseBase: releaseBaseDir(this.config),
      },
      owner,
      this.options.sshPrivateKey,
      bootstrap ? [bootstrap] : [],
    );
    // One record per service, after the release: the preview names what changes (records.ts).
    // Property names come from the render of the declaration (an image built by this update is
    // a leaf whose value comes later); values from the render with every image known.
    const declared = renderComposeProject(
      {
        ...model,
        workloads: model.workloads.map((w) => ({ ...w, image: typeof w.image === "string" ? w.image : "built-by-this-update" })),
      },
      this.config,
      this.renderOptions(),
    ).document;
    for (const workload of model.workloads) {
      const values = document.apply((d) => serviceRecordProperties(d, workload.name));
      const properties = Object.fromEntries(
        Object.keys(serviceRecordProperties(declared, workload.name)).map((key) => [key, values.apply((v) => v[key])]),
      );
      // `<platform>-<service>`, aliased to `<project>-<service>` (its name up to 862b775): the record is kept.
      const { name, aliases } = targetResourceIdentity(owner, this.config.project, { kind: "service-record", service: workload.name });
      new ComposeServiceRecord(name, { service: workload.name, properties }, { parent: owner.parent, aliases, dependsOn: [release] });
    }
    const appUrl = this.appUrl(model);
    const ssh = this.config.ssh;
    const location =
      this.config.mode === "ssh" && ssh
        ? `ssh ${ssh.user}@${ssh.host}:${releaseBaseDir(this.config)}${ssh.port === 22 ? "" : ` (port ${ssh.port})`}`
        : `local docker ${releaseBaseDir(this.config)}`;
    return {
      // Known only once the release command succeeded: the URL then answers.
      appUrl: release.id.apply(() => appUrl),
      location: pulumi.output(location),
    };
  }
}
