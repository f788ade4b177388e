/**
 * prometheus.yml for both targets.
 *
 * Compose: targets by Compose service DNS name; app and workers through DNS A-record
 * discovery so every replica is scraped, the rest as static targets (a stopped single
 * container then shows as `up == 0` instead of vanishing).
 * Kubernetes: pods of the stack namespace that carry `prometheus.io/scrape: "true"` (the
 * kubernetes target annotates every workload with `metrics`), and the kubelet's cAdvisor
 * through the API server proxy.
 *
 * Only fields Prometheus 2.42 (Debian's promtool) already knows are written; 2.53 runs it.
 * Series labels are made target-neutral here, so rules and dashboards need no variants:
 * `job` is the workload name, cAdvisor series carry `container` (workload) and `replica`.
 */
import type { MonitoringConfig } from "../config";
import { monitoringNames, monitoringPaths, monitoringPorts, type ObservabilityContext } from "./context";
import { partsOf, stackNamespacesOf } from "./parts";
import { toYaml } from "./yaml";

type RelabelAction = "replace" | "keep" | "drop" | "labeldrop" | "labelkeep" | "labelmap";

interface RelabelConfig {
  source_labels?: string[];
  separator?: string;
  regex?: string;
  target_label?: string;
  replacement?: string;
  action?: RelabelAction;
}

interface StaticConfig {
  targets: string[];
  labels?: Record<string, string>;
}

interface DnsSdConfig {
  names: string[];
  type: "A";
  port: number;
  refresh_interval: string;
}

interface KubernetesSdConfig {
  role: "pod" | "node";
  namespaces?: { names: string[] };
}

interface ScrapeConfig {
  job_name: string;
  metrics_path?: string;
  params?: Record<string, string[]>;
  scheme?: "http" | "https";
  static_configs?: StaticConfig[];
  dns_sd_configs?: DnsSdConfig[];
  kubernetes_sd_configs?: KubernetesSdConfig[];
  tls_config?: { ca_file?: string; insecure_skip_verify?: boolean };
  authorization?: { credentials_file: string };
  relabel_configs?: RelabelConfig[];
  metric_relabel_configs?: RelabelConfig[];
}

interface PrometheusConfig {
  global: {
    scrape_interval: string;
    scrape_timeout: string;
    evaluation_interval: string;
    external_labels: Record<string, string>;
  };
  rule_files: string[];
  alerting?: { alertmanagers: { api_version: "v2"; static_configs: StaticConfig[] }[] };
  scrape_configs: ScrapeConfig[];
}

/** One Compose scrape job. */
export interface ComposeScrapeJob {
  job: string;
  host: string;
  port: number;
  path: string;
  /** `dns`: every replica behind the service name; `static`: the one container. */
  discovery: "dns" | "static";
}

export interface PrometheusRenderOptions {
  /** Rule files as Prometheus sees them (tests point them at temp files). */
  ruleFiles: string[];
  /** Directory holding `token` and `ca.crt` of the pod's service account (Kubernetes). */
  serviceAccountDir: string;
}

export const defaultPrometheusPaths: PrometheusRenderOptions = {
  ruleFiles: [monitoringPaths.prometheusRules],
  serviceAccountDir: monitoringPaths.serviceAccount,
};

/** Every target Prometheus scrapes on Compose, in a stable order. */
export function composeScrapeJobs(monitoring: MonitoringConfig, ctx: ObservabilityContext): ComposeScrapeJob[] {
  const parts = partsOf(monitoring, ctx);
  const n = monitoringNames;
  const ports = monitoringPorts;
  const jobs: ComposeScrapeJob[] = [];
  if (ctx.app.metrics)
    jobs.push({ job: ctx.app.name, host: ctx.app.name, port: ctx.app.metrics.port, path: ctx.app.metrics.path, discovery: "dns" });
  for (const replicated of [...ctx.workers, ...ctx.services]) {
    if (replicated.metrics) {
      jobs.push({
        job: replicated.name,
        host: replicated.name,
        port: replicated.metrics.port,
        path: replicated.metrics.path,
        discovery: "dns",
      });
    }
  }
  const fixed = (name: string, port: number, path = "/metrics"): ComposeScrapeJob => ({
    job: name,
    host: name,
    port,
    path,
    discovery: "static",
  });
  jobs.push(fixed(ctx.proxyName, ports.proxyMetrics));
  jobs.push(fixed(n.prometheus, ports.prometheus));
  if (parts.alertmanager) jobs.push(fixed(n.alertmanager, ports.alertmanager));
  if (parts.nodeExporter) jobs.push(fixed(n.nodeExporter, ports.nodeExporter));
  if (parts.cadvisor) jobs.push(fixed(n.cadvisor, ports.cadvisor));
  if (parts.postgresExporter) jobs.push(fixed(n.postgresExporter, ports.postgresExporter));
  if (parts.redisExporter) jobs.push(fixed(n.redisExporter, ports.redisExporter));
  if (parts.blackboxExporter) jobs.push(fixed(n.blackboxExporter, ports.blackboxExporter));
  if (parts.loki) jobs.push(fixed(n.loki, ports.loki));
  if (parts.alloy) jobs.push(fixed(n.alloy, ports.alloy));
  if (parts.grafana) jobs.push(fixed(n.grafana, ports.grafana));
  if (parts.tempo) jobs.push(fixed(n.tempo, ports.tempo));
  if (parts.jaeger) jobs.push(fixed(n.jaeger, ports.jaegerMetrics));
  return jobs;
}

/** cAdvisor on Compose: keep this project's containers, name them like Kubernetes does. */
function composeCadvisorRelabels(project: string): RelabelConfig[] {
  return [
    { source_labels: ["container_label_com_docker_compose_project"], regex: escapeRegex(project), action: "keep" },
    { source_labels: ["container_label_com_docker_compose_service"], target_label: "container" },
    { source_labels: ["name"], target_label: "replica" },
    // The cgroup id and raw labels only add cardinality once `container`/`replica` exist.
    { regex: "id|name|container_label_com_docker_compose_project|container_label_com_docker_compose_service", action: "labeldrop" },
  ];
}

function composeScrapeConfigs(monitoring: MonitoringConfig, ctx: ObservabilityContext): ScrapeConfig[] {
  return composeScrapeJobs(monitoring, ctx).map((job) => {
    const config: ScrapeConfig = { job_name: job.job, metrics_path: job.path };
    if (job.discovery === "dns") {
      config.dns_sd_configs = [{ names: [job.host], type: "A", port: job.port, refresh_interval: "30s" }];
    } else {
      config.static_configs = [{ targets: [`${job.host}:${job.port}`] }];
    }
    if (job.job === monitoringNames.cadvisor) config.metric_relabel_configs = composeCadvisorRelabels(ctx.project);
    return config;
  });
}

function kubernetesScrapeConfigs(
  monitoring: MonitoringConfig,
  ctx: ObservabilityContext,
  options: PrometheusRenderOptions,
): ScrapeConfig[] {
  const pods: ScrapeConfig = {
    job_name: "kubernetes-pods",
    // The application's namespace and the per-node agents' (node-exporter, Alloy).
    kubernetes_sd_configs: [{ role: "pod", namespaces: { names: stackNamespacesOf(monitoring, ctx) } }],
    relabel_configs: [
      { source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_scrape"], regex: "true", action: "keep" },
      { source_labels: ["__meta_kubernetes_pod_phase"], regex: "Pending|Succeeded|Failed", action: "drop" },
      { source_labels: ["__meta_kubernetes_pod_container_init"], regex: "true", action: "drop" },
      { source_labels: ["__meta_kubernetes_pod_annotation_prometheus_io_path"], regex: "(.+)", target_label: "__metrics_path__" },
      // Pod IP + annotated port; IPv6 pod IPs need brackets.
      {
        source_labels: ["__meta_kubernetes_pod_ip", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
        regex: "([^:]+);(\\d+)",
        replacement: "$1:$2",
        target_label: "__address__",
      },
      {
        source_labels: ["__meta_kubernetes_pod_ip", "__meta_kubernetes_pod_annotation_prometheus_io_port"],
        regex: "(.+:.+);(\\d+)",
        replacement: "[$1]:$2",
        target_label: "__address__",
      },
      // job = workload name: the container name, or the app.kubernetes.io/name label when set.
      { source_labels: ["__meta_kubernetes_pod_container_name"], target_label: "job" },
      { source_labels: ["__meta_kubernetes_pod_label_app_kubernetes_io_name"], regex: "(.+)", target_label: "job" },
      { source_labels: ["__meta_kubernetes_namespace"], target_label: "namespace" },
      { source_labels: ["__meta_kubernetes_pod_name"], target_label: "pod" },
      { source_labels: ["__meta_kubernetes_pod_node_name"], target_label: "node" },
    ],
  };
  const configs: ScrapeConfig[] = [pods];
  if (partsOf(monitoring, ctx).containerMetrics) {
    configs.push({
      job_name: "kubelet-cadvisor",
      scheme: "https",
      // Node discovery gives each kubelet's address and port (10250); scraped directly with
      // `nodes/metrics`, not through the API server's node proxy (whose `get` also allows exec).
      kubernetes_sd_configs: [{ role: "node" }],
      // Kubelet serving certificates are self-signed on most clusters (kubeadm, k3s, kind): the
      // connection is encrypted, the token authenticates Prometheus, the kubelet's name is unchecked.
      tls_config: { insecure_skip_verify: true },
      authorization: { credentials_file: `${options.serviceAccountDir}/token` },
      metrics_path: "/metrics/cadvisor",
      relabel_configs: [{ source_labels: ["__meta_kubernetes_node_name"], target_label: "node" }],
      metric_relabel_configs: [
        { source_labels: ["namespace"], regex: stackNamespacesOf(monitoring, ctx).map(escapeRegex).join("|"), action: "keep" },
        // Pod-level and pause-container cgroups are not workloads.
        { source_labels: ["container"], regex: "|POD", action: "drop" },
        { source_labels: ["pod"], target_label: "replica" },
        // Without the per-incarnation id/name a restarted container continues its series,
        // so changes(container_start_time_seconds) counts restarts as on Compose.
        { regex: "id|name", action: "labeldrop" },
      ],
    });
  }
  return configs;
}

/** Job name of the deep-health probe (DeepHealthFailing reads `probe_success{job="deep-health"}`). */
export const DEEP_HEALTH_JOB = "deep-health";

/** The blackbox exporter probing the app's deep health through the stack's network, on both targets. */
function deepHealthScrapeConfig(ctx: ObservabilityContext): ScrapeConfig | undefined {
  const deep = ctx.app.deepHealth;
  if (!deep) return undefined;
  return {
    job_name: DEEP_HEALTH_JOB,
    metrics_path: "/probe",
    params: { module: ["http_2xx"] },
    static_configs: [{ targets: [`http://${ctx.app.name}:${deep.port}${deep.path}`] }],
    relabel_configs: [
      { source_labels: ["__address__"], target_label: "__param_target" },
      { source_labels: ["__param_target"], target_label: "instance" },
      { target_label: "__address__", replacement: `${monitoringNames.blackboxExporter}:${monitoringPorts.blackboxExporter}` },
    ],
  };
}

/** Pure: prometheus.yml text for the context's target. */
export function renderPrometheusConfig(
  monitoring: MonitoringConfig,
  ctx: ObservabilityContext,
  options: PrometheusRenderOptions = defaultPrometheusPaths,
): string {
  const interval = monitoring.prometheus.scrapeIntervalSeconds;
  const config: PrometheusConfig = {
    global: {
      scrape_interval: `${interval}s`,
      scrape_timeout: `${Math.min(10, interval)}s`,
      evaluation_interval: `${interval}s`,
      external_labels: { project: ctx.project, environment: ctx.environment },
    },
    rule_files: options.ruleFiles,
    scrape_configs: [
      ...(ctx.target === "compose" ? composeScrapeConfigs(monitoring, ctx) : kubernetesScrapeConfigs(monitoring, ctx, options)),
      ...(partsOf(monitoring, ctx).blackboxExporter ? [deepHealthScrapeConfig(ctx)].filter((c): c is ScrapeConfig => c !== undefined) : []),
    ],
  };
  if (partsOf(monitoring, ctx).alertmanager) {
    config.alerting = {
      alertmanagers: [
        { api_version: "v2", static_configs: [{ targets: [`${monitoringNames.alertmanager}:${monitoringPorts.alertmanager}`] }] },
      ],
    };
  }
  return toYaml(config, "Rendered by Ballast (components/observability/prometheus.ts). Do not edit.");
}

/** Command-line flags: retention by time, and by size so a full volume cannot crash Prometheus. */
export function prometheusArgs(monitoring: MonitoringConfig): string[] {
  // Keep 10 % of the volume free for the WAL and compaction headroom.
  const retentionMiB = Math.floor(monitoring.prometheus.storageGiB * 1024 * 0.9);
  return [
    `--config.file=${monitoringPaths.prometheusConfig}`,
    `--storage.tsdb.path=${monitoringPaths.prometheusData}`,
    `--storage.tsdb.retention.time=${monitoring.prometheus.retentionDays}d`,
    `--storage.tsdb.retention.size=${retentionMiB}MB`,
    `--web.listen-address=:${monitoringPorts.prometheus}`,
  ];
}

function escapeRegex(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
