/**
 * Tempo 2.6 single binary for traces (off unless `tracing.enabled`): OTLP over gRPC and
 * HTTP from app and workers, local block storage on a persistent volume, retention by the
 * compactor. The OTEL_* environment of the traced workloads is in ./tracing.ts.
 */
import type { MonitoringConfig } from "../config";
import { monitoringPaths, monitoringPorts } from "./context";
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
