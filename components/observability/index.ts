/**
 * Observability as WorkloadSpecs: Prometheus, Alertmanager, Grafana, Loki, Alloy, the
 * exporters and (optionally) Tempo, each with its rendered config files. Pure: config and
 * context in, specs out. Only Grafana is public (`grafana.<domain>`); every other port is
 * reachable only from the workloads listed in its `network.allowFrom`.
 */
import { restrictedRanges } from "../config/defaults";
import type { ConfigFileSpec, KubernetesApiAccess, SecretSpec, WorkloadSpec } from "../spec";
import { NOBODY_SECURITY, workload } from "../spec";
import { resourceSpec } from "../resources";
import { alertReceivers, DEFAULT_RECEIVER } from "../config";
import { alertmanagerArgs, namedReceiverSecretPath, renderAlertmanagerConfig } from "./alertmanager";
import { alloyArgs, anonymisationLabel, renderAlloyConfig } from "./alloy";
import type { MonitoringConfig } from "../config";
import { monitoringNames, monitoringPaths, monitoringPorts, type ObservabilityContext } from "./context";
import { dockerSocketProxyWorkload } from "./docker-api";
import {
  blackboxExporterWorkload,
  cadvisorWorkload,
  nodeExporterWorkload,
  postgresExporterWorkload,
  redisExporterWorkload,
} from "./exporters";
import { grafanaAdminPasswordSecret, grafanaCommand, grafanaEnv, grafanaFiles, grafanaHost } from "./grafana";
import { lokiArgs, renderLokiConfig } from "./loki";
import { partsOf, type EnabledParts } from "./parts";
import { httpProbe } from "./probes";
import { renderJaegerConfig } from "./jaeger";
import { defaultPrometheusPaths, prometheusArgs, renderPrometheusConfig } from "./prometheus";
import { alertGroups, renderAlertRules, renderTeamRules, teamRuleGroups } from "./rules";
import { sloRuleGroups } from "./slos";
import { renderTempoConfig } from "./tempo";
import { tracedWorkloads } from "./tracing";

export type { ObservabilityContext } from "./context";
export { monitoringNames, monitoringPorts } from "./context";
export { tracedWorkloads, tracingCollector, tracingEnv, withTracingEnv } from "./tracing";
export { enabledParts } from "./parts";

const component = "observability";
const names = monitoringNames;
const ports = monitoringPorts;

const watchList = ["list", "watch"];

/**
 * Prometheus on Kubernetes: watch pods of the namespace; list nodes and read their kubelets'
 * metrics directly (`nodes/metrics`). Never `nodes/proxy`: its `get` also opens exec into any
 * pod over WebSocket (kubernetes/kubernetes#136550).
 */
function prometheusApiAccess(parts: EnabledParts): KubernetesApiAccess {
  return {
    namespacedRules: [{ apiGroups: [""], resources: ["pods"], verbs: watchList }],
    clusterRules: parts.containerMetrics
      ? [
          { apiGroups: [""], resources: ["nodes"], verbs: watchList },
          { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
        ]
      : [],
    kubeletPort: parts.containerMetrics,
  };
}

function allowFrom(ranges: string[] | undefined): { allowFrom?: string[] } {
  return ranges ? { allowFrom: ranges } : {};
}

/** Prometheus's rule files: Ballast's, and the team's beside them when the stack declares any. */
function prometheusRuleFiles(monitoring: MonitoringConfig, ctx: ObservabilityContext): ConfigFileSpec[] {
  const team = teamRuleGroups(monitoring, ctx);
  return [
    {
      name: "ballast.rules.yml",
      mountPath: monitoringPaths.prometheusRules,
      content: renderAlertRules(alertGroups(monitoring, ctx), sloRuleGroups(monitoring)),
    },
    ...(team.length > 0
      ? [{ name: "team.rules.yml", mountPath: monitoringPaths.prometheusTeamRules, content: renderTeamRules(team) }]
      : []),
  ];
}

function prometheusWorkload(monitoring: MonitoringConfig, ctx: ObservabilityContext, parts: EnabledParts): WorkloadSpec {
  const port = ports.prometheus;
  const ruleFiles = prometheusRuleFiles(monitoring, ctx);
  return workload({
    name: names.prometheus,
    component,
    role: "stateful",
    description: `Metrics: scrapes the app, workers, proxy, exporters and itself; evaluates alert rules; keeps ${monitoring.prometheus.retentionDays} days.`,
    image: monitoring.prometheus.image,
    args: prometheusArgs(monitoring),
    ports: [{ name: "http", port }],
    resources: resourceSpec(monitoring.prometheus.resources),
    volumes: [
      { kind: "persistent", name: "prometheus-data", mountPath: monitoringPaths.prometheusData, sizeGiB: monitoring.prometheus.storageGiB },
    ],
    configFiles: [
      {
        name: "prometheus.yml",
        mountPath: monitoringPaths.prometheusConfig,
        content: renderPrometheusConfig(monitoring, ctx, { ...defaultPrometheusPaths, ruleFiles: ruleFiles.map((f) => f.mountPath) }),
      },
      ...ruleFiles,
    ],
    metrics: { port, path: "/metrics" },
    // A large WAL takes minutes to replay after a restart.
    health: httpProbe(ctx.target, port, "/-/ready", { imageHasWget: true, startPeriodSeconds: 300 }),
    network: { fromProxy: false, allowFrom: parts.grafana ? [names.grafana] : [], egressInternet: false },
    security: {
      ...NOBODY_SECURITY,
      fsGroup: 65534,
      ...(ctx.target === "kubernetes" ? { kubernetesApi: prometheusApiAccess(parts) } : {}),
    },
    stopGracePeriodSeconds: 120,
  });
}

function alertmanagerWorkload(monitoring: MonitoringConfig, ctx: ObservabilityContext, parts: EnabledParts): WorkloadSpec {
  const port = ports.alertmanager;
  const receivers = alertReceivers(monitoring);
  const notifying = [...new Set(receivers.filter((r) => r.config.type !== "none").map((r) => r.config.type))];
  return workload({
    name: names.alertmanager,
    component,
    role: "stateful",
    description: `Alert routing and inhibition; notifies via ${notifying.length === 0 ? "nobody (receiver type none)" : notifying.join(", ")}.`,
    image: monitoring.alertmanager.image,
    args: alertmanagerArgs(),
    ports: [{ name: "http", port }],
    resources: resourceSpec(monitoring.alertmanager.resources),
    // Silences and the notification log survive restarts.
    volumes: [
      {
        kind: "persistent",
        name: "alertmanager-data",
        mountPath: monitoringPaths.alertmanagerData,
        sizeGiB: monitoring.alertmanager.storageGiB,
      },
    ],
    configFiles: [
      { name: "alertmanager.yml", mountPath: monitoringPaths.alertmanagerConfig, content: renderAlertmanagerConfig(monitoring) },
    ],
    secretFiles: receivers.flatMap((r) =>
      r.secret
        ? [
            {
              secret: r.secret,
              mountPath: r.name === DEFAULT_RECEIVER ? monitoringPaths.alertmanagerReceiverSecret : namedReceiverSecretPath(r.name),
            },
          ]
        : [],
    ),
    metrics: { port, path: "/metrics" },
    health: httpProbe(ctx.target, port, "/-/ready", { imageHasWget: true }),
    network: {
      fromProxy: false,
      allowFrom: [names.prometheus, ...(parts.grafana ? [names.grafana] : [])],
      // Slack, PagerDuty, SMTP relays and webhooks are outside the stack.
      egressInternet: notifying.length > 0,
    },
    security: {
      ...NOBODY_SECURITY,
      fsGroup: 65534,
    },
  });
}

function grafanaWorkload(monitoring: MonitoringConfig, ctx: ObservabilityContext, parts: EnabledParts): WorkloadSpec {
  const port = ports.grafana;
  return workload({
    name: names.grafana,
    component,
    role: "stateful",
    description: `Dashboards and log search at ${grafanaHost(monitoring, ctx)}; datasources and dashboards are provisioned from code.`,
    image: monitoring.grafana.image,
    ports: [{ name: "http", port }],
    command: grafanaCommand,
    env: grafanaEnv(monitoring, ctx),
    secretEnv: { GF_SECURITY_ADMIN_PASSWORD: grafanaAdminPasswordSecret },
    resources: resourceSpec(monitoring.grafana.resources),
    volumes: [
      { kind: "persistent", name: "grafana-data", mountPath: monitoringPaths.grafanaData, sizeGiB: monitoring.grafana.storageGiB },
      { kind: "scratch", name: "grafana-tmp", mountPath: "/tmp", sizeMiB: 64 },
    ],
    configFiles: grafanaFiles(monitoring, parts, ctx).files,
    route: {
      host: grafanaHost(monitoring, ctx),
      pathPrefix: "/",
      port,
      tls: ctx.tls,
      ...allowFrom(restrictedRanges(monitoring.grafana.allowFrom)),
    },
    metrics: { port, path: "/metrics" },
    health: httpProbe(ctx.target, port, "/api/health", { imageHasWget: true, startPeriodSeconds: 60 }),
    network: { fromProxy: true, allowFrom: parts.prometheus ? [names.prometheus] : [], egressInternet: false },
    security: {
      readOnlyRootFilesystem: true,
      addCapabilities: [],
      runAsRoot: false,
      privileged: false,
      hostPid: false,
      hostNetwork: false,
      runAsUser: 472,
      fsGroup: 472,
    },
  });
}

function lokiWorkload(monitoring: MonitoringConfig, ctx: ObservabilityContext, parts: EnabledParts): WorkloadSpec {
  const port = ports.loki;
  return workload({
    name: names.loki,
    component,
    role: "stateful",
    description: `Log store: container logs from Alloy, kept ${monitoring.loki.retentionDays} days (compactor retention).`,
    image: monitoring.loki.image,
    args: lokiArgs(),
    ports: [{ name: "http", port }],
    resources: resourceSpec(monitoring.loki.resources),
    volumes: [{ kind: "persistent", name: "loki-data", mountPath: monitoringPaths.lokiData, sizeGiB: monitoring.loki.storageGiB }],
    configFiles: [{ name: "loki.yaml", mountPath: monitoringPaths.lokiConfig, content: renderLokiConfig(monitoring) }],
    metrics: { port, path: "/metrics" },
    health: httpProbe(ctx.target, port, "/ready", { imageHasWget: false, startPeriodSeconds: 60 }),
    network: {
      fromProxy: false,
      allowFrom: [
        ...(parts.alloy ? [names.alloy] : []),
        ...(parts.grafana ? [names.grafana] : []),
        ...(parts.prometheus ? [names.prometheus] : []),
      ],
      egressInternet: false,
    },
    security: {
      readOnlyRootFilesystem: true,
      addCapabilities: [],
      runAsRoot: false,
      privileged: false,
      hostPid: false,
      hostNetwork: false,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
    },
    stopGracePeriodSeconds: 60,
  });
}

function alloyWorkload(monitoring: MonitoringConfig, ctx: ObservabilityContext, parts: EnabledParts): WorkloadSpec {
  const port = ports.alloy;
  const kubernetes = ctx.target === "kubernetes";
  return workload({
    name: names.alloy,
    component,
    role: "agent",
    description: "Log shipper: container logs to Loki, health/metrics requests dropped, client IPs anonymised.",
    image: monitoring.alloy.image,
    args: alloyArgs(),
    ports: [{ name: "http", port }],
    resources: resourceSpec(monitoring.alloy.resources),
    volumes: [
      // Compose: container logs come through the read-only Docker API proxy (docker-api.ts).
      ...(kubernetes
        ? [{ kind: "host" as const, name: "pod-logs", hostPath: "/var/log/pods", mountPath: "/var/log/pods", readOnly: true }]
        : []),
      // Read positions: losing them on restart re-sends recent lines, which Loki deduplicates.
      { kind: "scratch", name: "alloy-data", mountPath: monitoringPaths.alloyData, sizeMiB: 256 },
    ],
    configFiles: [{ name: "config.alloy", mountPath: monitoringPaths.alloyConfig, content: renderAlloyConfig(monitoring, ctx) }],
    labels: { ...anonymisationLabel },
    metrics: { port, path: "/metrics" },
    health: httpProbe(ctx.target, port, "/-/ready", { imageHasWget: false }),
    network: { fromProxy: false, allowFrom: parts.prometheus ? [names.prometheus] : [], egressInternet: false },
    security: {
      readOnlyRootFilesystem: true,
      addCapabilities: [],
      // Kubernetes: the kubelet's log files are root-only. Compose: nothing on the host is read
      // (logs come over the network), so the unprivileged nobody user.
      runAsRoot: kubernetes,
      ...(kubernetes ? {} : { runAsUser: 65534, runAsGroup: 65534 }),
      privileged: false,
      hostPid: false,
      hostNetwork: false,
      ...(kubernetes
        ? { kubernetesApi: { clusterRules: [], namespacedRules: [{ apiGroups: [""], resources: ["pods"], verbs: watchList }] } }
        : {}),
    },
  });
}

/**
 * Who may reach the tracing collector: the traced workloads on the OTLP ports only (exactly
 * them), Grafana on the query port and Prometheus on the metrics port.
 */
function collectorNetwork(ctx: ObservabilityContext, parts: EnabledParts, queryPort: string, metricsPort: string): WorkloadSpec["network"] {
  const senders = tracedWorkloads(ctx);
  const grafana = parts.grafana ? [names.grafana] : [];
  const prometheus = parts.prometheus ? [names.prometheus] : [];
  const readers: Record<string, string[]> =
    metricsPort === queryPort ? { [queryPort]: [...grafana, ...prometheus] } : { [queryPort]: grafana, [metricsPort]: prometheus };
  const portsOnlyFrom = { "otlp-grpc": senders, "otlp-http": senders, ...readers };
  return { fromProxy: false, allowFrom: [...senders, ...grafana, ...prometheus], portsOnlyFrom, egressInternet: false };
}

const otlpPorts = [
  { name: "otlp-grpc", port: ports.otlpGrpc },
  { name: "otlp-http", port: ports.otlpHttp },
];

function tempoWorkload(monitoring: MonitoringConfig, ctx: ObservabilityContext, parts: EnabledParts): WorkloadSpec {
  const port = ports.tempo;
  return workload({
    name: names.tempo,
    component,
    role: "stateful",
    description: `Traces: OTLP from app, workers, cron jobs and traced services, kept ${monitoring.tracing.retentionHours} hours.`,
    image: monitoring.tracing.image,
    args: [`-config.file=${monitoringPaths.tempoConfig}`],
    ports: [{ name: "http", port }, ...otlpPorts],
    resources: resourceSpec(monitoring.tracing.resources),
    volumes: [{ kind: "persistent", name: "tempo-data", mountPath: monitoringPaths.tempoData, sizeGiB: monitoring.tracing.storageGiB }],
    configFiles: [{ name: "tempo.yaml", mountPath: monitoringPaths.tempoConfig, content: renderTempoConfig(monitoring) }],
    metrics: { port, path: "/metrics" },
    health: httpProbe(ctx.target, port, "/ready", { imageHasWget: false, startPeriodSeconds: 60 }),
    network: collectorNetwork(ctx, parts, "http", "http"),
    security: {
      readOnlyRootFilesystem: true,
      addCapabilities: [],
      runAsRoot: false,
      privileged: false,
      hostPid: false,
      hostNetwork: false,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
    },
  });
}

/** Jaeger v2 all-in-one: OTLP in, Badger on a persistent volume, query API/UI for Grafana. */
function jaegerWorkload(monitoring: MonitoringConfig, ctx: ObservabilityContext, parts: EnabledParts): WorkloadSpec {
  return workload({
    name: names.jaeger,
    component,
    role: "stateful",
    description: `Traces (Jaeger, Badger storage): OTLP from app, workers, cron jobs and traced services, kept ${monitoring.tracing.retentionHours} hours.`,
    image: monitoring.tracing.image,
    args: [`--config=${monitoringPaths.jaegerConfig}`],
    ports: [{ name: "http", port: ports.jaegerQuery }, ...otlpPorts, { name: "metrics", port: ports.jaegerMetrics }],
    resources: resourceSpec(monitoring.tracing.resources),
    volumes: [{ kind: "persistent", name: "jaeger-data", mountPath: monitoringPaths.jaegerData, sizeGiB: monitoring.tracing.storageGiB }],
    configFiles: [{ name: "config.yaml", mountPath: monitoringPaths.jaegerConfig, content: renderJaegerConfig(monitoring) }],
    metrics: { port: ports.jaegerMetrics, path: "/metrics" },
    // The health extension's port is for the probe only (the kubelet, or busybox wget inside the alpine-based image on Compose).
    health: httpProbe(ctx.target, ports.jaegerHealth, "/status", { imageHasWget: true, startPeriodSeconds: 60 }),
    network: collectorNetwork(ctx, parts, "http", "metrics"),
    security: {
      readOnlyRootFilesystem: true,
      addCapabilities: [],
      runAsRoot: false,
      privileged: false,
      hostPid: false,
      hostNetwork: false,
      runAsUser: 10001,
      runAsGroup: 10001,
      fsGroup: 10001,
    },
    // Badger flushes its memtables on SIGTERM.
    stopGracePeriodSeconds: 60,
  });
}

/** Every monitoring workload the config enables, in a stable order. */
export function observabilityWorkloads(monitoring: MonitoringConfig, ctx: ObservabilityContext): WorkloadSpec[] {
  const parts = partsOf(monitoring, ctx);
  const specs: WorkloadSpec[] = [];
  if (parts.prometheus) specs.push(prometheusWorkload(monitoring, ctx, parts));
  if (parts.alertmanager) specs.push(alertmanagerWorkload(monitoring, ctx, parts));
  if (parts.grafana) specs.push(grafanaWorkload(monitoring, ctx, parts));
  if (parts.loki) specs.push(lokiWorkload(monitoring, ctx, parts));
  if (parts.alloy) specs.push(alloyWorkload(monitoring, ctx, parts));
  if (parts.tempo) specs.push(tempoWorkload(monitoring, ctx, parts));
  if (parts.jaeger) specs.push(jaegerWorkload(monitoring, ctx, parts));
  if (parts.nodeExporter) specs.push(nodeExporterWorkload(monitoring, ctx));
  if (parts.cadvisor) specs.push(cadvisorWorkload(monitoring, ctx));
  if (parts.dockerSocketProxy) specs.push(dockerSocketProxyWorkload(monitoring, parts));
  if (parts.postgresExporter) specs.push(postgresExporterWorkload(monitoring, ctx));
  if (parts.redisExporter) specs.push(redisExporterWorkload(monitoring, ctx));
  if (parts.blackboxExporter) specs.push(blackboxExporterWorkload(monitoring, ctx));
  return specs.map((spec) => ({ ...spec, sizedBy: `ballast:monitoring.${partKey[spec.name] ?? spec.name}.resources` }));
}

/** Workload name -> its `ballast:monitoring.<part>` key. */
const partKey: Record<string, string> = Object.fromEntries(
  Object.entries(monitoringNames).map(([part, name]) => [name, part === "tempo" || part === "jaeger" ? "tracing" : part]),
);

/**
 * The stack's other workloads with the monitoring peers that must reach them added to
 * `network.allowFrom`: Prometheus to every workload that declares `metrics`, each exporter
 * to its datastore. The Platform passes its full workload list through this once.
 */
export function scrapedBy(workloads: WorkloadSpec[], monitoring: MonitoringConfig, ctx: ObservabilityContext): WorkloadSpec[] {
  const parts = partsOf(monitoring, ctx);
  return workloads.map((spec) => {
    const extra: string[] = [];
    if (parts.prometheus && spec.metrics && spec.name !== names.prometheus) extra.push(names.prometheus);
    if (parts.postgresExporter && spec.name === ctx.postgres.service) extra.push(names.postgresExporter);
    if (parts.redisExporter && spec.name === ctx.redis?.host) extra.push(names.redisExporter);
    if (parts.blackboxExporter && spec.name === ctx.app.name) extra.push(names.blackboxExporter);
    const allowFrom = [...new Set([...spec.network.allowFrom, ...extra])];
    return allowFrom.length === spec.network.allowFrom.length ? spec : { ...spec, network: { ...spec.network, allowFrom } };
  });
}

/** The secrets monitoring uses, for the stack's secret set and the generated runbook. */
export function monitoringSecrets(monitoring: MonitoringConfig, ctx: ObservabilityContext): SecretSpec[] {
  const parts = partsOf(monitoring, ctx);
  const secrets: SecretSpec[] = [];
  if (parts.grafana) {
    secrets.push({
      name: grafanaAdminPasswordSecret,
      description: `Password of Grafana's \`${monitoring.grafana.adminUser}\` user (GF_SECURITY_ADMIN_PASSWORD).`,
      rotation:
        "Change it in the stack, deploy, then run `grafana cli admin reset-admin-password <new>` in the grafana container: Grafana reads the variable only when it creates its database.",
      immutable: false,
    });
  }
  if (parts.alertmanager) {
    for (const receiver of alertReceivers(monitoring)) {
      if (!receiver.secret) continue;
      secrets.push({
        name: receiver.secret,
        description: `Credential of the ${receiver.config.type} alert receiver \`${receiver.name}\` (supplied by the user; mounted as a file for Alertmanager).`,
        rotation: "Issue a new credential at the provider, set it in the stack, deploy; Alertmanager reads the file on every notification.",
        immutable: false,
      });
    }
  }
  return secrets;
}

export interface Footprint {
  /** Sum of limits; agents count once (per node). */
  limits: { cpu: number; memoryMiB: number };
  requests: { cpu: number; memoryMiB: number };
  byWorkload: Record<string, { cpu: number; memoryMiB: number }>;
}

/** Resource limits and requests of a set of workloads, e.g. the monitoring set. */
export function monitoringFootprint(workloads: WorkloadSpec[]): Footprint {
  const round = (n: number) => Math.round(n * 1000) / 1000;
  const sum = (pick: (w: WorkloadSpec) => number) =>
    workloads.reduce((total, w) => total + pick(w) * (w.role === "agent" ? 1 : w.replicas), 0);
  return {
    limits: { cpu: round(sum((w) => w.resources.limits.cpu)), memoryMiB: sum((w) => w.resources.limits.memoryMiB) },
    requests: { cpu: round(sum((w) => w.resources.requests.cpu)), memoryMiB: sum((w) => w.resources.requests.memoryMiB) },
    byWorkload: Object.fromEntries(
      workloads.map((w) => [w.name, { cpu: w.resources.limits.cpu, memoryMiB: w.resources.limits.memoryMiB }]),
    ),
  };
}

/** The rendered dashboards, for the render script and tests. */
export function observabilityDashboards(monitoring: MonitoringConfig, ctx: ObservabilityContext) {
  return grafanaFiles(monitoring, partsOf(monitoring, ctx), ctx).dashboards;
}
