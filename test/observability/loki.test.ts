import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { lokiArgs, renderLokiConfig } from "../../components/observability/loki";
import { renderTempoConfig } from "../../components/observability/tempo";
import { monitoring } from "./fixtures";

describe("loki.yaml", () => {
  const config = parse(renderLokiConfig(monitoring())) as Record<string, any>;

  it("enforces the 7-day retention with the compactor", () => {
    expect(config.limits_config.retention_period).toBe("168h");
    expect(config.compactor).toMatchObject({
      retention_enabled: true,
      delete_request_store: "filesystem",
      working_directory: "/loki/compactor",
    });
  });

  it("stores everything on the filesystem under /loki with the TSDB v13 schema", () => {
    expect(config.schema_config.configs).toEqual([
      { from: "2024-01-01", store: "tsdb", object_store: "filesystem", schema: "v13", index: { prefix: "index_", period: "24h" } },
    ]);
    expect(config.common.path_prefix).toBe("/loki");
    expect(config.common.storage.filesystem).toEqual({ chunks_directory: "/loki/chunks", rules_directory: "/loki/rules" });
    const paths = JSON.stringify(config).match(/"\/[a-z][^"]*"/g) ?? [];
    for (const path of paths) expect(path.startsWith('"/loki'), path).toBe(true);
  });

  it("runs single-tenant, without auth and without phoning home", () => {
    expect(config.auth_enabled).toBe(false);
    expect(config.common.replication_factor).toBe(1);
    expect(config.common.ring.kvstore.store).toBe("inmemory");
    expect(config.analytics.reporting_enabled).toBe(false);
    expect(lokiArgs()).toContain("-config.file=/etc/loki/loki.yaml");
  });

  it("follows the configured retention", () => {
    const custom = parse(renderLokiConfig(monitoring({ loki: { retentionDays: 30 } }))) as Record<string, any>;
    expect(custom.limits_config.retention_period).toBe("720h");
    expect(custom.limits_config.reject_old_samples_max_age).toBe("720h");
  });
});

describe("tempo.yaml", () => {
  it("receives OTLP on all interfaces and keeps traces for the configured hours", () => {
    const config = parse(renderTempoConfig(monitoring({ tracing: { enabled: true, retentionHours: 48 } }))) as Record<string, any>;
    expect(config.distributor.receivers.otlp.protocols).toEqual({ grpc: { endpoint: "0.0.0.0:4317" }, http: { endpoint: "0.0.0.0:4318" } });
    expect(config.compactor.compaction.block_retention).toBe("48h");
    expect(config.storage.trace).toEqual({ backend: "local", wal: { path: "/var/tempo/wal" }, local: { path: "/var/tempo/blocks" } });
  });
});
