/**
 * The exporters: node-exporter (host metrics, every node), cAdvisor (container metrics,
 * Compose only: Kubernetes uses the kubelet's), postgres-exporter (with Ballast's backup
 * queries) and redis-exporter. Credentials arrive as secret env, never inline.
 */
import { resourceSpec } from "../resources";
import { NOBODY_SECURITY, workload, type VolumeSpec, type WorkloadSpec } from "../spec";
import type { MonitoringConfig } from "../config";
import { monitoringNames, monitoringPaths, monitoringPorts, type ObservabilityContext } from "./context";
import { renderPostgresExporterQueries } from "./postgres-queries";
import { dockerApiEndpoint } from "./docker-api";
import { httpProbe } from "./probes";

const component = "observability";
const scrapedOnly = { fromProxy: false, allowFrom: [monitoringNames.prometheus], egressInternet: false };

const hostMount = (name: string, hostPath: string, mountPath: string): VolumeSpec => ({
  kind: "host",
  name,
  hostPath,
  mountPath,
  readOnly: true,
});

export function nodeExporterWorkload(monitoring: MonitoringConfig, ctx: ObservabilityContext): WorkloadSpec {
  const port = monitoringPorts.nodeExporter;
  return workload({
    name: monitoringNames.nodeExporter,
    component,
    role: "agent",
    description: "Host metrics (CPU, memory, disks, filesystems) for Prometheus, one per node.",
    image: monitoring.nodeExporter.image,
    args: [
      "--path.procfs=/host/proc",
      "--path.sysfs=/host/sys",
      "--path.rootfs=/host/root",
      `--web.listen-address=:${port}`,
      // Container and kubelet mounts would double-count the host's disks.
      "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run|var/lib/docker/.+|var/lib/kubelet/.+|var/lib/containers/.+)($|/)",
    ],
    ports: [{ name: "metrics", port }],
    resources: resourceSpec(monitoring.nodeExporter.resources),
    volumes: [hostMount("proc", "/proc", "/host/proc"), hostMount("sys", "/sys", "/host/sys"), hostMount("root", "/", "/host/root")],
    metrics: { port, path: "/metrics" },
    health: httpProbe(ctx.target, port, "/", { imageHasWget: true }),
    network: scrapedOnly,
    // No host PID namespace: the host's /proc is mounted read-only at /host/proc, and that procfs
    // shows the host's processes and system-wide counters (/proc/stat, /proc/meminfo) whatever the
    // container's PID namespace. No enabled collector reads /proc/self or signals a process.
    security: { ...NOBODY_SECURITY },
  });
}

/** Compose only; on Kubernetes Prometheus scrapes the kubelet's embedded cAdvisor instead. */
export function cadvisorWorkload(monitoring: MonitoringConfig, ctx: ObservabilityContext): WorkloadSpec {
  const port = monitoringPorts.cadvisor;
  return workload({
    name: monitoringNames.cadvisor,
    component,
    role: "agent",
    description: "Per-container CPU, memory, restarts and OOM kills for Prometheus (Docker host).",
    image: monitoring.cadvisor.image,
    args: [
      `--port=${port}`,
      "--docker_only=true",
      // Container metadata through the read-only Docker API proxy, never the socket itself.
      `--docker=${dockerApiEndpoint()}`,
      "--housekeeping_interval=30s",
      // Only the Compose labels become metric labels: bounded cardinality, and prometheus.ts keys on them.
      "--store_container_labels=false",
      "--whitelisted_container_labels=com.docker.compose.project,com.docker.compose.service",
      "--disable_metrics=percpu,sched,tcp,udp,disk,diskIO,network,hugetlb,referenced_memory,cpu_topology,resctrl,process,advtcp,memory_numa",
    ],
    ports: [{ name: "metrics", port }],
    resources: resourceSpec(monitoring.cadvisor.resources),
    // Read-only views of the host instead of privileged mode.
    volumes: [
      hostMount("rootfs", "/", "/rootfs"),
      hostMount("sys", "/sys", "/sys"),
      // Container layer metadata: without it cAdvisor cannot attach to Docker containers.
      hostMount("docker-data", "/var/lib/docker", "/var/lib/docker"),
    ],
    metrics: { port, path: "/metrics" },
    health: httpProbe(ctx.target, port, "/healthz", { imageHasWget: true }),
    network: scrapedOnly,
    // Root reads other containers' cgroup files and layer metadata; still unprivileged, no capabilities added.
    security: { readOnlyRootFilesystem: true, addCapabilities: [], runAsRoot: true, privileged: false, hostPid: false, hostNetwork: false },
  });
}

export function postgresExporterWorkload(monitoring: MonitoringConfig, ctx: ObservabilityContext): WorkloadSpec {
  const port = monitoringPorts.postgresExporter;
  const pg = ctx.postgres;
  return workload({
    name: monitoringNames.postgresExporter,
    component,
    role: "stateless",
    description: "PostgreSQL metrics and backup/restore-drill freshness (from ballast.backup_runs) for Prometheus.",
    image: monitoring.postgresExporter.image,
    args: [`--web.listen-address=:${port}`, `--extend.query-path=${monitoringPaths.postgresExporterQueries}`],
    ports: [{ name: "metrics", port }],
    // In-stack: host, user and password apart; an external database: its whole URL (with its own sslmode).
    // In-stack it logs in as the monitoring role (pg_monitor), never the superuser.
    env:
      pg.kind === "in-stack"
        ? { DATA_SOURCE_URI: `${pg.host}:${pg.port}/${pg.database}?sslmode=disable`, DATA_SOURCE_USER: pg.roles.monitor }
        : {},
    secretEnv: pg.kind === "in-stack" ? { DATA_SOURCE_PASS: "postgres-monitor-password" } : { DATA_SOURCE_NAME: "database-url" },
    resources: resourceSpec(monitoring.postgresExporter.resources),
    configFiles: [{ name: "queries.yaml", mountPath: monitoringPaths.postgresExporterQueries, content: renderPostgresExporterQueries() }],
    metrics: { port, path: "/metrics" },
    health: httpProbe(ctx.target, port, "/", { imageHasWget: true }),
    network: { ...scrapedOnly, egressInternet: pg.kind === "external" },
    security: { ...NOBODY_SECURITY },
  });
}

export function redisExporterWorkload(monitoring: MonitoringConfig, ctx: ObservabilityContext): WorkloadSpec {
  const port = monitoringPorts.redisExporter;
  const redis = ctx.redis;
  if (!redis) throw new Error("redis-exporter needs the stack's Redis");
  return workload({
    name: monitoringNames.redisExporter,
    component,
    role: "stateless",
    description: "Redis metrics (memory vs maxmemory, clients, hit ratio, evictions) for Prometheus.",
    image: monitoring.redisExporter.image,
    ports: [{ name: "metrics", port }],
    env: { REDIS_ADDR: `redis://${redis.host}:${redis.port}`, REDIS_EXPORTER_WEB_LISTEN_ADDRESS: `:${port}` },
    secretEnv: { REDIS_PASSWORD: "redis-password" },
    resources: resourceSpec(monitoring.redisExporter.resources),
    metrics: { port, path: "/metrics" },
    health: httpProbe(ctx.target, port, "/health", { imageHasWget: false }),
    network: scrapedOnly,
    // The image's own unprivileged user.
    security: {
      readOnlyRootFilesystem: true,
      addCapabilities: [],
      runAsRoot: false,
      privileged: false,
      hostPid: false,
      hostNetwork: false,
      runAsUser: 59000,
      runAsGroup: 59000,
    },
  });
}

/** blackbox.yml: one module, an HTTP GET that must answer 2xx within 5 s. */
export function renderBlackboxConfig(): string {
  return [
    "# Rendered by Ballast (components/observability/exporters.ts). Do not edit.",
    "modules:",
    "  http_2xx:",
    "    prober: http",
    "    timeout: 5s",
    "    http:",
    "      preferred_ip_protocol: ip4",
    "      follow_redirects: false",
    "",
  ].join("\n");
}

/** Probes the app's deep health from inside the stack (DeepHealthFailing). */
export function blackboxExporterWorkload(monitoring: MonitoringConfig, ctx: ObservabilityContext): WorkloadSpec {
  const port = monitoringPorts.blackboxExporter;
  return workload({
    name: monitoringNames.blackboxExporter,
    component,
    role: "stateless",
    description: `Probes ${ctx.app.name}'s deep health (${ctx.app.deepHealth?.path ?? "-"}) for the DeepHealthFailing alert.`,
    image: monitoring.blackboxExporter.image,
    args: [`--config.file=${monitoringPaths.blackboxConfig}`, `--web.listen-address=:${port}`],
    ports: [{ name: "metrics", port }],
    resources: resourceSpec(monitoring.blackboxExporter.resources),
    sizedBy: "ballast:monitoring.blackboxExporter.resources",
    configFiles: [{ name: "blackbox.yml", mountPath: monitoringPaths.blackboxConfig, content: renderBlackboxConfig() }],
    metrics: { port, path: "/metrics" },
    health: httpProbe(ctx.target, port, "/-/healthy", { imageHasWget: true }),
    network: scrapedOnly,
    security: { ...NOBODY_SECURITY },
  });
}
