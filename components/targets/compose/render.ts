/**
 * Pure renderer: StackModel -> one compose-spec project (typed object + YAML text).
 *
 * No Pulumi resources, no I/O. Secret values never reach this file: a secret env var
 * is rendered as `${NAME:?secret missing}` and docker compose fills it from the
 * release's `.env` (mode 0600) at deploy time. Every other `$` that comes from a spec
 * is doubled so compose passes it through literally instead of interpolating it
 * (a health check's `"$REDIS_PASSWORD"` is for the container's shell, not for compose).
 */
import { createHash } from "node:crypto";
import { isAbsolute } from "node:path";
import { Document, isScalar, isSeq, visit } from "yaml";
import { restartingSecretFiles, secretEnvName, type HealthCheckSpec, type StackModel, type WorkloadSpec } from "../../spec";
import type { ComposeConfig } from "../../config/types";
import { JOBS_PROFILE, renderCrontab } from "./cron";
import { shellQuote } from "./scripts";
import { assignNetworks, EGRESS_NETWORKS, isDatastore, isProxy, orderNetworks } from "./networks";
import { isOneShot, isRolling, isScheduledJob } from "./release";
import { routerFor } from "./routing";

export { isOneShot, isScheduledJob } from "./release";
import type {
  ComposeDocument,
  ComposeExternalVolume,
  ComposeHealthcheck,
  ComposeLogging,
  ComposeNetwork,
  ComposeSecretFile,
  ComposeService,
  ComposeServiceVolume,
  DependsOnCondition,
} from "./types";

export const DEFAULT_LOG_MAX_SIZE = "10m";
export const DEFAULT_LOG_MAX_FILES = 3;
/** tmpfs size for scratch volumes that give none: tmpfs counts against the container's memory. */
export const DEFAULT_SCRATCH_MIB = 64;
export const COMPOSE_FILE = "docker-compose.yml";

export interface ComposeRenderOptions {
  /** json-file rotation: size of one log file (`10m`). */
  logMaxSize?: string;
  /** json-file rotation: files kept per container. */
  logMaxFiles?: number;
}

export interface RenderedComposeProject {
  document: ComposeDocument;
  /** The `docker-compose.yml` text. */
  yaml: string;
  /** The scheduler's crontab, when the stack has jobs. */
  crontab?: string;
}

/** Where releases live on the host: `releases/<id>/` and the `current` link. */
export function releaseBaseDir(config: ComposeConfig): string {
  const base = config.mode === "ssh" ? config.ssh?.remoteDir : config.localDir;
  if (config.mode === "ssh" && !config.ssh) throw new Error('compose target: mode "ssh" needs ballast:compose.ssh');
  if (!base || !isAbsolute(base)) {
    throw new Error(`compose target: release directory "${base ?? ""}" must be an absolute path`);
  }
  return base.replace(/\/+$/, "");
}

export function edgeNetworkName(project: string): string {
  return `${project}_edge`;
}

/** Fixed name of a persistent volume; the deploy script creates it, compose only refers to it. */
export function externalVolumeName(project: string, volume: string): string {
  return `${project}_${volume}`;
}

/** Doubles `$` so compose keeps it literally. */
export function escapeInterpolation(text: string): string {
  return text.split("$").join("$$");
}

/** The compose interpolation that reads a secret from the release's `.env`. */
export function secretInterpolation(secret: string): string {
  return `\${${secretEnvName(secret)}:?secret missing}`;
}

/** `.env` variable holding the sha256 of a workload's secret files (drives recreation on rotation). */
export function secretFilesHashVariable(workload: WorkloadSpec): string {
  return `BALLAST_SECRET_FILES_SHA256_${secretEnvName(workload.name)}`;
}

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** Relative path of a config file inside the release. */
export function configFilePath(workload: WorkloadSpec, fileName: string): string {
  return `config/${workload.name}/${fileName}`;
}

/** Relative path of a secret file inside the release. */
export function secretFilePath(secret: string): string {
  return `secrets/${secret}`;
}

/**
 * sha256 over a workload's config files. Bind-mounted content is invisible to compose's
 * own change detection (the path stays `<base>/current/config/...`), so this label is
 * what makes a changed file recreate the container.
 */
export function configFilesHash(workload: WorkloadSpec): string {
  const parts = [...workload.configFiles]
    .sort((a, b) => a.name.localeCompare(b.name))
    .map((file) => `${file.name}\0${file.mountPath}\0${(file.mode ?? 0o444).toString(8)}\0${file.content}`);
  return sha256Hex(parts.join("\0\0"));
}

/**
 * Image text for the YAML. An image `pulumi up` builds and pushes is deployed by the digest
 * the push returns; before that (a render, a preview) it shows as `<repository>:built-at-deploy`.
 */
export function imageText(workload: WorkloadSpec): string {
  if (typeof workload.image === "string") return workload.image;
  return workload.builtFrom ? `${workload.builtFrom.repository}:built-at-deploy` : `built-at-deploy/${workload.name}:unresolved`;
}

function seconds(value: number): string {
  return `${value}s`;
}

function probeUrl(port: number, path: string, owner: string): string {
  if (!/^\/[A-Za-z0-9._~/%?=&-]*$/.test(path)) {
    throw new Error(`health check of ${owner}: path "${path}" must start with / and hold only URL path/query characters`);
  }
  return `http://127.0.0.1:${port}${path}`;
}

/**
 * HTTP probe as CMD-SHELL: the first of wget, curl, node or python3 found in the image does
 * a GET. The image therefore needs /bin/sh and one of those; a clear message says so when
 * none is there (then `health.command` replaces the probe).
 */
export function httpProbeCommand(port: number, path: string, timeoutSeconds: number, owner: string): string {
  const url = probeUrl(port, path, owner);
  return [
    // wget -q prints nothing on failure: say what failed, so the rollback message can quote it.
    `if command -v wget >/dev/null 2>&1; then wget -q -O /dev/null -T ${timeoutSeconds} ${shellQuote(url)} || { echo ${shellQuote(`GET ${url} failed`)} >&2; exit 1; };`,
    `elif command -v curl >/dev/null 2>&1; then curl -fsS -o /dev/null --max-time ${timeoutSeconds} ${shellQuote(url)};`,
    `elif command -v node >/dev/null 2>&1; then node -e "fetch('${url}').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))";`,
    // Slim Python images have neither wget nor curl.
    `elif command -v python3 >/dev/null 2>&1; then python3 -c "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('${url}', timeout=${timeoutSeconds}).status < 400 else 1)";`,
    `else echo 'health check needs wget, curl, node or python3 in the image (or set health.command)' >&2; exit 1; fi`,
  ].join(" ");
}

/** TCP probe as CMD-SHELL: nc, then bash's /dev/tcp, then node; the image needs /bin/sh and one of them. */
export function tcpProbeCommand(port: number, timeoutSeconds: number): string {
  return [
    `if command -v nc >/dev/null 2>&1; then nc -z -w ${timeoutSeconds} 127.0.0.1 ${port};`,
    `elif command -v bash >/dev/null 2>&1; then bash -c 'exec 3<>/dev/tcp/127.0.0.1/${port}';`,
    `elif command -v node >/dev/null 2>&1; then node -e "require('net').connect(${port}, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))";`,
    `else echo 'health check needs nc, bash or node in the image' >&2; exit 1; fi`,
  ].join(" ");
}

export function renderHealthcheck(health: HealthCheckSpec, owner: string): ComposeHealthcheck {
  const probes = [health.exec, health.http, health.tcp].filter((probe) => probe !== undefined).length;
  if (probes !== 1) throw new Error(`health check of ${owner}: set exactly one of exec, http, tcp (found ${probes})`);
  const timing = {
    interval: seconds(health.intervalSeconds),
    timeout: seconds(health.timeoutSeconds),
    retries: health.retries,
    start_period: seconds(health.startPeriodSeconds),
  };
  if (health.exec) {
    if (health.exec.length === 0) throw new Error(`health check of ${owner}: exec needs a command`);
    return { test: ["CMD", ...health.exec.map(escapeInterpolation)], ...timing };
  }
  if (health.http) {
    const command = httpProbeCommand(health.http.port, health.http.path, health.timeoutSeconds, owner);
    return { test: ["CMD-SHELL", escapeInterpolation(command)], ...timing };
  }
  const tcp = health.tcp as { port: number };
  return { test: ["CMD-SHELL", escapeInterpolation(tcpProbeCommand(tcp.port, health.timeoutSeconds))], ...timing };
}

/**
 * Compose has no CPU autoscaler: stateless services start at `minReplicas` (a worker scaled on a
 * queue is then moved within its bounds by autoscale.sh, and a release keeps its count); anything
 * publishing a port or holding state runs one.
 */
export function replicasFor(workload: WorkloadSpec): number | undefined {
  if (workload.role === "job") return undefined;
  if (workload.role !== "stateless") return 1;
  if (workload.ports.some((port) => port.publish !== undefined)) return 1;
  return workload.autoscaling?.minReplicas ?? workload.replicas;
}

function cpus(cores: number): string {
  return String(Number(cores.toFixed(3)));
}

function userFor(workload: WorkloadSpec): string | undefined {
  const { runAsRoot, runAsUser, runAsGroup } = workload.security;
  // Root is explicit only when the spec names uid 0 (an image whose own user is not root).
  if ((runAsRoot && runAsUser !== 0) || runAsUser === undefined) return undefined;
  return runAsGroup === undefined ? String(runAsUser) : `${runAsUser}:${runAsGroup}`;
}

/**
 * The PID limit (`deploy.resources.limits.pids`) unless the spec sets one: the stack's own code (app, workers, cron jobs, extra
 * services) may run worker processes; stateful workloads (Postgres forks one process per
 * connection, Traefik, Prometheus) a few hundred; exporters, agents and Ballast's jobs are one
 * program with its threads. Generous enough never to bind in normal work, low enough that a
 * fork bomb stays inside its container.
 */
export const DEFAULT_PIDS_LIMIT = { userCode: 2048, stateful: 1024, other: 512 } as const;

const userCodeComponents = new Set(["app", "workers", "cron", "services"]);

export function pidsLimitFor(workload: WorkloadSpec): number {
  if (workload.pidsLimit !== undefined) return workload.pidsLimit;
  if (userCodeComponents.has(workload.component)) return DEFAULT_PIDS_LIMIT.userCode;
  return workload.role === "stateful" ? DEFAULT_PIDS_LIMIT.stateful : DEFAULT_PIDS_LIMIT.other;
}

function checkFileName(owner: string, name: string): void {
  if (!/^[A-Za-z0-9._-]+$/.test(name) || name === "." || name === "..") {
    throw new Error(`${owner}: file name "${name}" must be a plain file name (letters, digits, . _ -)`);
  }
}

function volumesFor(workload: WorkloadSpec, stack: Iterable<WorkloadSpec>): { volumes: ComposeServiceVolume[]; tmpfs: string[] } {
  const volumes: ComposeServiceVolume[] = [];
  const tmpfs: string[] = [];
  for (const volume of workload.volumes) {
    switch (volume.kind) {
      case "persistent":
        if (!/^[a-zA-Z0-9._-]+$/.test(volume.name)) {
          throw new Error(`${workload.name}: volume name "${volume.name}" may hold only letters, digits, . _ -`);
        }
        volumes.push(`${volume.name}:${volume.mountPath}${volume.readOnly ? ":ro" : ""}`);
        break;
      case "scratch":
        tmpfs.push(`${volume.mountPath}:size=${volume.sizeMiB ?? DEFAULT_SCRATCH_MIB}m`);
        break;
      case "host":
        volumes.push({ type: "bind", source: volume.hostPath, target: volume.mountPath, read_only: volume.readOnly });
        break;
      case "docker-socket":
        volumes.push(`/var/run/docker.sock:${volume.mountPath}:ro`);
        break;
      case "stack-config":
        // The release's own non-secret files, one bind per file: deploy.sh writes the release
        // under umask 077, so its directories are the deploy user's alone, while the files are
        // 0444 (0644 for the compose file). .env and secrets/ stay out.
        volumes.push({ type: "bind", source: `./${COMPOSE_FILE}`, target: `${volume.mountPath}/${COMPOSE_FILE}`, read_only: true });
        for (const other of stack) {
          for (const file of other.configFiles) {
            const relative = configFilePath(other, file.name);
            volumes.push({ type: "bind", source: `./${relative}`, target: `${volume.mountPath}/${relative}`, read_only: true });
          }
        }
        break;
    }
  }
  for (const file of workload.configFiles) {
    checkFileName(`${workload.name} config file`, file.name);
    volumes.push({ type: "bind", source: `./${configFilePath(workload, file.name)}`, target: file.mountPath, read_only: true });
  }
  return { volumes, tmpfs };
}

function environmentFor(workload: WorkloadSpec): Record<string, string> | undefined {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(workload.env)) environment[name] = escapeInterpolation(value);
  for (const [name, secret] of Object.entries(workload.secretEnv)) {
    if (name in environment) throw new Error(`${workload.name}: ${name} is set both as plain env and as secret env`);
    environment[name] = secretInterpolation(secret);
  }
  return Object.keys(environment).length > 0 ? environment : undefined;
}

/**
 * `depends_on`: a service waits for its dependencies to be healthy (or started, without a
 * health check), and for one-shot steps to have completed successfully. A scheduled job
 * never runs on `up`, so nothing may wait for it.
 */
function dependsOnFor(
  workload: WorkloadSpec,
  byName: ReadonlyMap<string, WorkloadSpec>,
): Record<string, { condition: DependsOnCondition }> | undefined {
  if (workload.dependsOn.length === 0) return undefined;
  const dependsOn: Record<string, { condition: DependsOnCondition }> = {};
  for (const name of [...workload.dependsOn].sort()) {
    const dependency = byName.get(name);
    if (!dependency) throw new Error(`${workload.name} depends on ${name}, which is not in the stack`);
    if (isScheduledJob(dependency)) {
      throw new Error(
        `${workload.name} depends on ${name}, a scheduled job (${dependency.schedule}); only services and one-shot steps can be waited for`,
      );
    }
    dependsOn[name] = {
      condition: isOneShot(dependency) ? "service_completed_successfully" : dependency.health ? "service_healthy" : "service_started",
    };
  }
  return dependsOn;
}

/** A host address as Compose port mappings and curl --resolve write it: IPv6 in brackets. */
export function hostAddressLiteral(address: string): string {
  return address.includes(":") ? `[${address}]` : address;
}

/** `127.0.0.1:` / `[::1]:` before a published port bound to one address; nothing for every interface. */
function hostAddressPrefix(address: string | undefined): string {
  return address ? `${hostAddressLiteral(address)}:` : "";
}

function portsFor(workload: WorkloadSpec): string[] | undefined {
  const published = workload.ports.filter((port) => port.publish !== undefined);
  if (published.length === 0) return undefined;
  if (isDatastore(workload)) throw new Error(`${workload.name} is a datastore and must never publish a port`);
  if (!isProxy(workload)) throw new Error(`${workload.name} publishes a port; only the proxy publishes ports`);
  // Ordered by the published port (what dclint's ports rule sorts by), whatever the bind address.
  return [...published]
    .sort((a, b) => (a.publish ?? 0) - (b.publish ?? 0))
    .map((port) => `${hostAddressPrefix(port.publishAddress)}${port.publish}:${port.port}${port.protocol === "UDP" ? "/udp" : ""}`);
}

function labelsFor(workload: WorkloadSpec, secretFilesLabel: boolean): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(workload.labels)) labels[key] = escapeInterpolation(value);
  labels["ballast.component"] = workload.component;
  labels["ballast.role"] = workload.role;
  if (workload.configFiles.length > 0) labels["ballast.config-hash"] = configFilesHash(workload);
  if (secretFilesLabel) {
    labels["ballast.secret-files-hash"] = `\${${secretFilesHashVariable(workload)}:?secret files hash missing}`;
  }
  return labels;
}

/**
 * Key order inside a service: the grouping dclint's service-keys-order rule expects
 * (identity, dependencies, data, environment, network, runtime, metadata, security),
 * then the remaining keys alphabetically, so the rendered file reads the same way
 * every time and lints clean.
 */
const SERVICE_KEY_ORDER = [
  "image",
  "depends_on",
  "volumes",
  "secrets",
  "environment",
  "ports",
  "networks",
  "network_mode",
  "extra_hosts",
  "command",
  "entrypoint",
  "restart",
  "healthcheck",
  "logging",
  "labels",
  "user",
] as const;

export function orderServiceKeys(service: ComposeService): ComposeService {
  const grouped = SERVICE_KEY_ORDER.filter((key) => key in service);
  const rest = Object.keys(service)
    .filter((key) => !(SERVICE_KEY_ORDER as readonly string[]).includes(key))
    .sort();
  const entries = [...grouped, ...rest].map((key) => [key, service[key as keyof ComposeService]] as const);
  return Object.fromEntries(entries) as unknown as ComposeService;
}

interface ServiceContext {
  project: string;
  logging: ComposeLogging;
  byName: ReadonlyMap<string, WorkloadSpec>;
  networks: ReadonlyMap<string, string[]>;
}

export function renderService(workload: WorkloadSpec, context: ServiceContext): ComposeService {
  const { volumes, tmpfs } = volumesFor(workload, context.byName.values());
  const { security } = workload;
  const replicas = replicasFor(workload);
  const service: ComposeService = {
    image: imageText(workload),
    restart: workload.role === "job" ? "no" : "unless-stopped",
    logging: context.logging,
    deploy: {
      ...(replicas === undefined ? {} : { replicas }),
      resources: {
        // Compose refuses `pids_limit` beside other deploy limits: the PID limit lives here.
        limits: {
          cpus: cpus(workload.resources.limits.cpu),
          memory: `${workload.resources.limits.memoryMiB}M`,
          pids: pidsLimitFor(workload),
        },
        reservations: { cpus: cpus(workload.resources.requests.cpu), memory: `${workload.resources.requests.memoryMiB}M` },
      },
    },
    stop_grace_period: seconds(workload.stopGracePeriodSeconds),
    security_opt: ["no-new-privileges:true"],
    cap_drop: ["ALL"],
    read_only: security.readOnlyRootFilesystem,
  };
  if (workload.command) service.entrypoint = workload.command.map(escapeInterpolation);
  if (workload.args) service.command = workload.args.map(escapeInterpolation);
  const environment = environmentFor(workload);
  if (environment) service.environment = environment;
  if (workload.health) service.healthcheck = renderHealthcheck(workload.health, workload.name);
  if (isScheduledJob(workload)) service.profiles = [JOBS_PROFILE];
  if (security.addCapabilities.length > 0) service.cap_add = [...security.addCapabilities];
  const user = userFor(workload);
  if (user) service.user = user;
  if (security.privileged) service.privileged = true;
  if (security.hostPid) service.pid = "host";
  if (tmpfs.length > 0) service.tmpfs = tmpfs;
  if (volumes.length > 0) service.volumes = volumes;
  if (workload.secretFiles.length > 0) {
    service.secrets = workload.secretFiles.map((file) => ({ source: file.secret, target: file.mountPath }));
  }
  const dependsOn = dependsOnFor(workload, context.byName);
  if (dependsOn) service.depends_on = dependsOn;
  const ports = portsFor(workload);
  if (ports) service.ports = ports;
  if (workload.extraHosts && workload.extraHosts.length > 0) service.extra_hosts = [...workload.extraHosts];
  const networks = context.networks.get(workload.name) ?? [];
  if (security.hostNetwork) {
    service.network_mode = "host";
  } else if (networks.length === 0) {
    // Opens no connection (the volume-owners step): no network at all.
    service.network_mode = "none";
  } else {
    service.networks = [...networks];
  }
  // A live secret (taken in place) changes no label: its rotation must not recreate the container.
  service.labels = labelsFor(workload, restartingSecretFiles(workload).length > 0);
  if (workload.route) {
    const { rule, entryPoints, tls } = routerFor(workload.name, workload.route);
    service["x-ballast-route"] = { rule, entryPoints, ...(tls ? { tls } : {}) };
  }
  if (isScheduledJob(workload)) service["x-ballast-schedule"] = workload.schedule;
  return orderServiceKeys(service);
}

function checkModel(model: StackModel, project: string): void {
  if (!/^[a-z0-9][a-z0-9_-]*$/.test(project)) {
    throw new Error(`compose project name "${project}" must be lower-case letters, digits, - and _, starting with a letter or digit`);
  }
  const seen = new Set<string>();
  for (const workload of model.workloads) {
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(workload.name)) {
      throw new Error(`workload name "${workload.name}" is not a DNS-1123 label`);
    }
    if (seen.has(workload.name)) throw new Error(`workload name "${workload.name}" is used twice`);
    seen.add(workload.name);
  }
  const envNames = new Map<string, string>();
  const secrets = new Set<string>(model.workloads.flatMap((w) => [...Object.values(w.secretEnv), ...w.secretFiles.map((f) => f.secret)]));
  for (const secret of secrets) {
    checkFileName("secret", secret);
    const variable = secretEnvName(secret);
    const other = envNames.get(variable);
    if (other !== undefined && other !== secret) {
      throw new Error(`secrets ${other} and ${secret} both map to the .env variable ${variable}; rename one`);
    }
    envNames.set(variable, secret);
  }
}

/**
 * Renders the compose project. `config.project` names the project (and so the fixed
 * volume and network names); `releaseBaseDir(config)` is where the host's cron entries find
 * the current release.
 */
export function renderComposeProject(model: StackModel, config: ComposeConfig, options: ComposeRenderOptions = {}): RenderedComposeProject {
  const project = config.project;
  checkModel(model, project);
  const releaseBase = releaseBaseDir(config);
  const logging: ComposeLogging = {
    driver: "json-file",
    options: { "max-size": options.logMaxSize ?? DEFAULT_LOG_MAX_SIZE, "max-file": String(options.logMaxFiles ?? DEFAULT_LOG_MAX_FILES) },
  };
  const byName = new Map(model.workloads.map((w) => [w.name, w] as const));
  const networks = assignNetworks(model.workloads);
  const context: ServiceContext = { project, logging, byName, networks };

  const unordered: Record<string, ComposeService> = {};
  for (const workload of model.workloads) unordered[workload.name] = renderService(workload, context);

  // Scheduled jobs and the maintenance prune run from the host's cron (./cron.ts).
  const jobs = model.workloads.filter(isScheduledJob);
  const maintenanceSchedule = config.maintenance.enabled ? config.maintenance.schedule : undefined;
  const autoscale = model.workloads.some((w) => isRolling(w) && w.autoscaling?.queue !== undefined);
  const crontab =
    jobs.length > 0 || maintenanceSchedule !== undefined || autoscale
      ? renderCrontab(jobs, { project, releaseBase, composeCommand: config.composeCommand, maintenanceSchedule, autoscale })
      : undefined;
  const services = Object.fromEntries(
    Object.keys(unordered)
      .sort()
      .map((name) => [name, unordered[name]]),
  );

  const networkDefinitions: Record<string, ComposeNetwork> = {};
  for (const network of orderNetworks([...networks.values()].flat())) {
    networkDefinitions[network] = EGRESS_NETWORKS.includes(network)
      ? { name: `${project}_${network}`, driver: "bridge" }
      : { name: `${project}_${network}`, driver: "bridge", internal: true };
  }

  const document: ComposeDocument = { name: project, services, networks: networkDefinitions };
  const volumes: Record<string, ComposeExternalVolume> = {};
  for (const workload of model.workloads) {
    for (const volume of workload.volumes) {
      if (volume.kind === "persistent") volumes[volume.name] = { external: true, name: externalVolumeName(project, volume.name) };
    }
  }
  if (Object.keys(volumes).length > 0) document.volumes = volumes;
  const secretFiles: Record<string, ComposeSecretFile> = {};
  for (const workload of model.workloads) {
    for (const file of workload.secretFiles) secretFiles[file.secret] = { file: `./${secretFilePath(file.secret)}` };
  }
  if (Object.keys(secretFiles).length > 0) document.secrets = secretFiles;

  const header = [
    `# Rendered by Ballast for stack ${model.stack}: do not edit on the host, change the stack and deploy.`,
    "# Secret values are not in this file: ${NAME:?...} entries are filled from the release's .env (mode 0600).",
    "# Persistent volumes are external with fixed names: `docker compose down -v` cannot delete them.",
  ].join("\n");
  // YAML 1.1 quoting keeps values such as "no" and "22:22" strings for every YAML reader;
  // port mappings are always quoted and, when they bind every interface, say why.
  const bindsEveryInterface = model.workloads.some((w) => w.ports.some((p) => p.publish !== undefined && !p.publishAddress));
  const yamlDocument = new Document(document, { version: "1.1", aliasDuplicateObjects: false });
  visit(yamlDocument, {
    Pair(_, pair) {
      if (isScalar(pair.key) && pair.key.value === "ports" && isSeq(pair.value)) {
        for (const item of pair.value.items) if (isScalar(item)) item.type = "QUOTE_SINGLE";
        if (bindsEveryInterface) {
          pair.key.commentBefore = [
            " The proxy is the public entry point, so it listens on every interface.",
            " dclint disable-line no-unbound-port-interfaces",
          ].join("\n");
        }
      }
    },
  });
  const yaml = `${header}\n${yamlDocument.toString({ lineWidth: 0 })}`;
  return { document, yaml, crontab };
}

/** The persistent volumes of the model with their fixed host-side names. */
export function persistentVolumeNames(model: StackModel, project: string): string[] {
  const names = new Set<string>();
  for (const workload of model.workloads) {
    for (const volume of workload.volumes) if (volume.kind === "persistent") names.add(externalVolumeName(project, volume.name));
  }
  return [...names].sort();
}
