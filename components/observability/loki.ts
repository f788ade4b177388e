/**
 * Loki 3.4 single binary: filesystem storage under /loki (a persistent volume), TSDB index
 * with schema v13, auth disabled (only Alloy and Grafana can reach it), and retention
 * enforced by the compactor. Loki 3 refuses retention without `delete_request_store`.
 */
import type { MonitoringConfig } from "../config";
import { monitoringPaths, monitoringPorts } from "./context";
import { toYaml } from "./yaml";

interface LokiConfig {
  auth_enabled: boolean;
  server: { http_listen_port: number; grpc_listen_port: number; log_level: "info" | "warn" };
  common: {
    instance_addr: string;
    path_prefix: string;
    replication_factor: number;
    ring: { kvstore: { store: "inmemory" } };
    storage: { filesystem: { chunks_directory: string; rules_directory: string } };
  };
  schema_config: {
    configs: {
      from: string;
      store: "tsdb";
      object_store: "filesystem";
      schema: "v13";
      index: { prefix: string; period: string };
    }[];
  };
  storage_config: { tsdb_shipper: { active_index_directory: string; cache_location: string } };
  limits_config: {
    retention_period: string;
    reject_old_samples: boolean;
    reject_old_samples_max_age: string;
    allow_structured_metadata: boolean;
    volume_enabled: boolean;
  };
  compactor: {
    working_directory: string;
    compaction_interval: string;
    retention_enabled: boolean;
    retention_delete_delay: string;
    delete_request_store: "filesystem";
  };
  query_range: { results_cache: { cache: { embedded_cache: { enabled: boolean; max_size_mb: number } } } };
  pattern_ingester: { enabled: boolean };
  analytics: { reporting_enabled: boolean };
}

/** First day of the v13 schema period; fixed forever, since changing it would orphan stored data. */
export const lokiSchemaStart = "2024-01-01";

export function lokiConfig(monitoring: MonitoringConfig): LokiConfig {
  const data = monitoringPaths.lokiData;
  const retention = `${monitoring.loki.retentionDays * 24}h`;
  return {
    auth_enabled: false,
    server: { http_listen_port: monitoringPorts.loki, grpc_listen_port: 9096, log_level: "warn" },
    common: {
      instance_addr: "127.0.0.1",
      path_prefix: data,
      replication_factor: 1,
      ring: { kvstore: { store: "inmemory" } },
      storage: { filesystem: { chunks_directory: `${data}/chunks`, rules_directory: `${data}/rules` } },
    },
    schema_config: {
      configs: [
        { from: lokiSchemaStart, store: "tsdb", object_store: "filesystem", schema: "v13", index: { prefix: "index_", period: "24h" } },
      ],
    },
    storage_config: { tsdb_shipper: { active_index_directory: `${data}/tsdb-index`, cache_location: `${data}/tsdb-cache` } },
    limits_config: {
      retention_period: retention,
      // Older lines would be deleted at the next compaction anyway; refusing them saves the write.
      reject_old_samples: true,
      reject_old_samples_max_age: retention,
      allow_structured_metadata: true,
      volume_enabled: true,
    },
    compactor: {
      working_directory: `${data}/compactor`,
      compaction_interval: "10m",
      retention_enabled: true,
      retention_delete_delay: "2h",
      delete_request_store: "filesystem",
    },
    // The embedded results cache lives in Loki's own memory limit: keep it small.
    query_range: {
      results_cache: { cache: { embedded_cache: { enabled: true, max_size_mb: monitoring.loki.resources.memoryMiB >= 1024 ? 128 : 32 } } },
    },
    pattern_ingester: { enabled: false },
    analytics: { reporting_enabled: false },
  };
}

export function renderLokiConfig(monitoring: MonitoringConfig): string {
  return toYaml(lokiConfig(monitoring), "Rendered by Ballast (components/observability/loki.ts). Do not edit.");
}

export function lokiArgs(): string[] {
  return [`-config.file=${monitoringPaths.lokiConfig}`, "-target=all"];
}
