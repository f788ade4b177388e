import { describe, expect, it } from "vitest";
import { monitoringSchema, monitoringSizing, resolveMonitoring } from "../../components/observability/config";

describe("ballast:monitoring schema", () => {
  it("fills the documented defaults from an empty object", () => {
    const m = resolveMonitoring({}, "staging");
    expect(m.enabled).toBe(true);
    expect(m.prometheus).toMatchObject({ enabled: true, image: "prom/prometheus:v2.53.0", retentionDays: 30 });
    expect(m.alertmanager.image).toBe("prom/alertmanager:v0.27.0");
    expect(m.alertmanager.receiver).toEqual({ type: "none" });
    expect(m.grafana).toMatchObject({ image: "grafana/grafana:11.3.0", subdomain: "grafana" });
    expect(m.loki).toMatchObject({ image: "grafana/loki:3.4.2", retentionDays: 7 });
    expect(m.alloy.image).toBe("grafana/alloy:v1.7.1");
    expect(m.nodeExporter.image).toBe("prom/node-exporter:v1.8.0");
    expect(m.cadvisor.image).toBe("gcr.io/cadvisor/cadvisor:v0.49.1");
    expect(m.postgresExporter.image).toBe("prometheuscommunity/postgres-exporter:v0.15.0");
    expect(m.redisExporter.image).toBe("oliver006/redis_exporter:v1.62.0");
    expect(m.tracing).toMatchObject({ enabled: false, backend: "tempo", image: "grafana/tempo:2.6.1" });
    expect(m.alerts).toMatchObject({
      errorRateThreshold: 0.05,
      latencyP95Seconds: 5,
      queueBacklog: 1000,
      costPerRunUsd: 5,
      llmMetricPrefix: "nyxcore_",
      rpoHours: 24,
      restoreDrillMaxAgeDays: 35,
    });
    expect(m.alerts.metrics).toEqual({
      httpRequestsTotal: "http_requests_total",
      errorsTotal: "errors_total",
      httpRequestDurationSeconds: "http_request_duration_seconds",
      queueWaitingCount: "queue_waiting_count",
      jobDurationSeconds: "job_duration_seconds",
      costPerRunUsd: "cost_per_run_usd",
    });
  });

  it("sizes by environment: prod gets more memory and storage than staging", () => {
    const staging = resolveMonitoring({}, "staging");
    const prod = resolveMonitoring({}, "prod");
    expect(staging.prometheus.resources).toEqual(monitoringSizing("staging").resources.prometheus);
    expect(prod.prometheus.resources.memoryMiB).toBeGreaterThan(staging.prometheus.resources.memoryMiB);
    expect(prod.loki.storageGiB).toBeGreaterThan(staging.loki.storageGiB);
    expect(prod.tracing.sampleRatio).toBeLessThan(staging.tracing.sampleRatio);
  });

  it("keeps explicit sizes over environment defaults", () => {
    const m = resolveMonitoring({ prometheus: { resources: { cpu: 2, memoryMiB: 3000 }, storageGiB: 80 } }, "staging");
    expect(m.prometheus.resources).toEqual({ cpu: 2, memoryMiB: 3000 });
    expect(m.prometheus.storageGiB).toBe(80);
  });

  it("lets every part be turned off", () => {
    const parts = ["prometheus", "alertmanager", "grafana", "loki", "alloy", "nodeExporter", "cadvisor", "postgresExporter", "redisExporter", "tracing"] as const;
    const input = Object.fromEntries(parts.map((p) => [p, { enabled: false }]));
    const m = resolveMonitoring({ ...input, enabled: false }, "prod");
    expect(m.enabled).toBe(false);
    for (const p of parts) expect(m[p].enabled).toBe(false);
  });

  it("refuses unknown keys at every level, naming them", () => {
    expect(() => resolveMonitoring({ promethues: {} }, "staging")).toThrow(/ballast:monitoring: unknown key\(s\) `promethues` \(did you mean `prometheus`\?\); allowed: enabled, prometheus, alertmanager/);
    expect(() => resolveMonitoring({ loki: { retentionDay: 3 } }, "staging")).toThrow(
      /ballast:monitoring\.loki: unknown key\(s\) `retentionDay` \(did you mean `retentionDays`\?\); allowed: enabled, image, resources, storageGiB, retentionDays/,
    );
    expect(() => resolveMonitoring({ alerts: { metrics: { httpRequests: "x" } } }, "staging")).toThrow(/ballast:monitoring\.alerts\.metrics: unknown key/);
    expect(() => resolveMonitoring({ alertmanager: { receiver: { type: "slack", channel: "#ops", apiUrl: "https://hooks" } } }, "staging")).toThrow(
      /ballast:monitoring\.alertmanager\.receiver: unknown key\(s\) `apiUrl`; allowed: type, channel$/m,
    );
  });

  it("refuses bad values with the key and the value in the message", () => {
    expect(() => resolveMonitoring({ prometheus: { retentionDays: 0 } }, "staging")).toThrow(/ballast:monitoring\.prometheus\.retentionDays: .*\(got 0\)/);
    expect(() => resolveMonitoring({ loki: { resources: { cpu: 0.5, memoryMiB: 8 } } }, "staging")).toThrow(
      /ballast:monitoring\.loki\.resources\.memoryMiB: .*\(got 8\)/,
    );
    expect(() => resolveMonitoring({ alerts: { errorRateThreshold: 5 } }, "staging")).toThrow(/ballast:monitoring\.alerts\.errorRateThreshold: .*\(got 5\)/);
    expect(() => resolveMonitoring({ grafana: { subdomain: "Grafana_UI" } }, "staging")).toThrow(/ballast:monitoring\.grafana\.subdomain: expected a DNS label/);
    expect(() => resolveMonitoring({ alerts: { diskFreeWarningRatio: 0.1, diskFreeCriticalRatio: 0.2 } }, "staging")).toThrow(
      /ballast:monitoring\.alerts\.diskFreeCriticalRatio: diskFreeCriticalRatio must be below diskFreeWarningRatio/,
    );
  });

  it("refuses unpinned images", () => {
    expect(() => resolveMonitoring({ grafana: { image: "grafana/grafana:latest" } }, "staging")).toThrow(/ballast:monitoring\.grafana\.image: the `latest` tag/);
    expect(() => resolveMonitoring({ loki: { image: "grafana/loki" } }, "staging")).toThrow(/ballast:monitoring\.loki\.image: images must be pinned/);
    expect(resolveMonitoring({ loki: { image: "registry.local:5000/loki@sha256:" + "a".repeat(64) } }, "staging").loki.image).toContain("@sha256:");
  });

  it("validates each receiver type's own fields", () => {
    expect(() => resolveMonitoring({ alertmanager: { receiver: { type: "slack" } } }, "staging")).toThrow(/ballast:monitoring\.alertmanager\.receiver\.channel/);
    expect(() => resolveMonitoring({ alertmanager: { receiver: { type: "email", to: "ops@example.com", from: "am@example.com", smarthost: "smtp.example.com" } } }, "staging")).toThrow(
      /ballast:monitoring\.alertmanager\.receiver\.smarthost: expected host:port/,
    );
    expect(() => resolveMonitoring({ alertmanager: { receiver: { type: "sms" } } }, "staging")).toThrow(/ballast:monitoring\.alertmanager\.receiver\.type/);
    const webhook = resolveMonitoring({ alertmanager: { receiver: { type: "webhook", url: "https://hooks.example.com/am" } } }, "staging");
    expect(webhook.alertmanager.receiver).toEqual({ type: "webhook", url: "https://hooks.example.com/am", auth: "bearer" });
  });

  it("reports every problem at once", () => {
    const result = monitoringSchema.safeParse({ prometheus: { retentionDays: -1 }, loki: { retentionDays: "7d" } });
    expect(result.success).toBe(false);
    expect(result.error?.issues.map((i) => i.path.join("."))).toEqual(["prometheus.retentionDays", "loki.retentionDays"]);
  });
});
