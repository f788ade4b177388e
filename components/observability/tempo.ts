/**
 * Tempo 2.6 single binary for traces (off unless `tracing.enabled`): OTLP over gRPC and
 * HTTP from app and workers, local block storage on a persistent volume, retention by the
 * compactor. Also the OTEL_* environment app and workers need to send traces there.
 */
import type { MonitoringConfig } from "../config";
import { monitoringNames, monitoringPaths, monitoringPorts, type ObservabilityContext } from "./context";
import { toYaml } from "./yaml";

interface TempoConfig {
  server: { http_listen_port: number; log_level: "info" | "warn" };
  distributor: { receivers: { otlp: { protocols: { grpc: { endpoint: string }; http: { endpoint: string } } } } };
  compactor: { compaction: { block_retention: string } };
  storage: { trace: { backend: "local"; wal: { path: string }; local: { path: string } } };
  usage_report: { reporting_enabled: boolean };
}

export function renderTempoConfig(monitoring: MonitoringConfig): string {
  const data = monitoringPaths.tempoData;
  const config: TempoConfig = {
    server: { http_listen_port: monitoringPorts.tempo, log_level: "warn" },
    distributor: {
      receivers: {
        otlp: {
          protocols: {
            // Explicit: newer Tempo releases default to localhost, which no other container can reach.
            grpc: { endpoint: `0.0.0.0:${monitoringPorts.otlpGrpc}` },
            http: { endpoint: `0.0.0.0:${monitoringPorts.otlpHttp}` },
          },
        },
      },
    },
    compactor: { compaction: { block_retention: `${monitoring.tracing.retentionHours}h` } },
    storage: { trace: { backend: "local", wal: { path: `${data}/wal` }, local: { path: `${data}/blocks` } } },
    usage_report: { reporting_enabled: false },
  };
  return toYaml(config, "Rendered by Ballast (components/observability/tempo.ts). Do not edit.");
}

/**
 * OpenTelemetry SDK environment for app and workers: empty when tracing is off, so the
 * caller can always merge it. `serviceName` sets OTEL_SERVICE_NAME for one workload.
 */
export function tracingEnv(monitoring: MonitoringConfig, ctx: ObservabilityContext, serviceName?: string): Record<string, string> {
  if (!monitoring.enabled || !monitoring.tracing.enabled) return {};
  return {
    OTEL_EXPORTER_OTLP_ENDPOINT: `http://${monitoringNames.tempo}:${monitoringPorts.otlpHttp}`,
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
    OTEL_TRACES_EXPORTER: "otlp",
    // Tempo stores traces only; metrics stay with Prometheus and logs with Loki.
    OTEL_METRICS_EXPORTER: "none",
    OTEL_LOGS_EXPORTER: "none",
    OTEL_TRACES_SAMPLER: "parentbased_traceidratio",
    OTEL_TRACES_SAMPLER_ARG: String(monitoring.tracing.sampleRatio),
    OTEL_RESOURCE_ATTRIBUTES: `deployment.environment=${ctx.environment},service.namespace=${ctx.project}`,
    ...(serviceName ? { OTEL_SERVICE_NAME: serviceName } : {}),
  };
}
