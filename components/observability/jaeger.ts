/**
 * Jaeger v2 (jaegertracing/jaeger, the OpenTelemetry-collector-based all-in-one binary) as
 * the tracing backend: OTLP over gRPC and HTTP in, Badger on a persistent volume with the
 * retention as its span TTL, the query API and UI on 16686 for Grafana's jaeger datasource.
 * The layout follows Jaeger's own cmd/jaeger/config-badger.yaml of the pinned release.
 */
import type { MonitoringConfig } from "../config";
import { monitoringPaths, monitoringPorts } from "./context";
import { toYaml } from "./yaml";

const store = "traces";

interface JaegerConfig {
  service: {
    extensions: string[];
    pipelines: { traces: { receivers: string[]; processors: string[]; exporters: string[] } };
    telemetry: {
      resource: Record<string, string>;
      metrics: {
        level: "basic" | "normal" | "detailed";
        readers: { pull: { exporter: { prometheus: { host: string; port: number } } } }[];
      };
      logs: { level: "info" | "warn" };
    };
  };
  extensions: {
    healthcheckv2: { use_v2: true; http: { endpoint: string } };
    jaeger_query: { storage: { traces: string }; http: { endpoint: string } };
    jaeger_storage: {
      backends: Record<string, { badger: { directories: { keys: string; values: string }; ephemeral: false; ttl: { spans: string } } }>;
    };
  };
  receivers: { otlp: { protocols: { grpc: { endpoint: string }; http: { endpoint: string } } } };
  processors: { batch: Record<string, never> };
  exporters: { jaeger_storage_exporter: { trace_storage: string } };
}

/** Every listener on all interfaces: the collector's defaults are localhost, which no other container can reach. */
const listen = (port: number) => `0.0.0.0:${port}`;

export function renderJaegerConfig(monitoring: MonitoringConfig): string {
  const data = `${monitoringPaths.jaegerData}/jaeger`;
  const config: JaegerConfig = {
    service: {
      extensions: ["jaeger_storage", "jaeger_query", "healthcheckv2"],
      pipelines: { traces: { receivers: ["otlp"], processors: ["batch"], exporters: ["jaeger_storage_exporter"] } },
      telemetry: {
        resource: { "service.name": "jaeger" },
        metrics: {
          level: "normal",
          readers: [{ pull: { exporter: { prometheus: { host: "0.0.0.0", port: monitoringPorts.jaegerMetrics } } } }],
        },
        logs: { level: "warn" },
      },
    },
    extensions: {
      healthcheckv2: { use_v2: true, http: { endpoint: listen(monitoringPorts.jaegerHealth) } },
      jaeger_query: { storage: { traces: store }, http: { endpoint: listen(monitoringPorts.jaegerQuery) } },
      jaeger_storage: {
        backends: {
          [store]: {
            badger: {
              directories: { keys: `${data}/keys`, values: `${data}/values` },
              // Persistent: spans survive a restart and expire after the retention.
              ephemeral: false,
              ttl: { spans: `${monitoring.tracing.retentionHours}h` },
            },
          },
        },
      },
    },
    receivers: {
      otlp: { protocols: { grpc: { endpoint: listen(monitoringPorts.otlpGrpc) }, http: { endpoint: listen(monitoringPorts.otlpHttp) } } },
    },
    processors: { batch: {} },
    exporters: { jaeger_storage_exporter: { trace_storage: store } },
  };
  return toYaml(config, "Rendered by Ballast (components/observability/jaeger.ts). Do not edit.");
}
