/** `ballast:monitoring` through the config pipeline `pulumi up` runs: defaults and messages users get. */
import { describe, expect, it } from "vitest";
import { problemsOf } from "../fixtures/config";
import { monitoring } from "./fixtures";

const refused = (input: Record<string, unknown>) =>
  problemsOf({ monitoring: input }, "staging", { "alertmanager-receiver": "x" }).join("\n");

describe("ballast:monitoring", () => {
  it("fills the documented defaults from an empty object", () => {
    const m = monitoring({}, "staging");
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
    expect(m.blackboxExporter.image).toBe("prom/blackbox-exporter:v0.25.0");
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

  it("sizes by environment: prod gets more memory and storage than staging; a 1 GiB host gets none", () => {
    const staging = monitoring({}, "staging");
    const prod = monitoring({}, "prod");
    expect(staging.prometheus.resources).toEqual({ cpu: 0.5, memoryMiB: 448 });
    expect(prod.prometheus.resources.memoryMiB).toBeGreaterThan(staging.prometheus.resources.memoryMiB);
    expect(prod.loki.storageGiB).toBeGreaterThan(staging.loki.storageGiB);
    expect(prod.tracing.sampleRatio).toBeLessThan(staging.tracing.sampleRatio);
  });

  it("keeps explicit sizes over environment defaults, in the one resources shape", () => {
    const m = monitoring({ prometheus: { resources: { cpu: 2, memory: "3000Mi" }, storageGiB: 80 } }, "staging");
    expect(m.prometheus.resources).toEqual({ cpu: 2, memoryMiB: 3000 });
    expect(m.prometheus.storageGiB).toBe(80);
  });

  it("lets every part be turned off", () => {
    const parts = [
      "prometheus",
      "alertmanager",
      "grafana",
      "loki",
      "alloy",
      "nodeExporter",
      "cadvisor",
      "postgresExporter",
      "redisExporter",
      "blackboxExporter",
      "tracing",
    ] as const;
    const input = Object.fromEntries(parts.map((p) => [p, { enabled: false }]));
    const m = monitoring({ ...input, enabled: false }, "prod");
    expect(m.enabled).toBe(false);
    for (const p of parts) expect(m[p].enabled).toBe(false);
  });

  it("refuses unknown keys at every level, naming them and what is allowed", () => {
    expect(refused({ promethues: {} })).toMatch(
      /ballast:monitoring\.promethues: unknown key; did you mean ballast:monitoring\.prometheus\? \(allowed here: enabled, prometheus, alertmanager/,
    );
    expect(refused({ loki: { retentionDay: 3 } })).toContain(
      "ballast:monitoring.loki.retentionDay: unknown key; did you mean ballast:monitoring.loki.retentionDays? (allowed here: enabled, image, resources, storageGiB, retentionDays)",
    );
    expect(refused({ alerts: { metrics: { httpRequests: "x" } } })).toMatch(
      /ballast:monitoring\.alerts\.metrics\.httpRequests: unknown key/,
    );
    expect(refused({ alertmanager: { receiver: { type: "slack", channel: "#ops", apiUrl: "https://hooks" } } })).toContain(
      "ballast:monitoring.alertmanager.receiver.apiUrl: unknown key (allowed here: type, channel)",
    );
  });

  it("refuses bad values with the key, the value and what is allowed in words", () => {
    expect(refused({ prometheus: { retentionDays: 0 } })).toMatch(/ballast:monitoring\.prometheus\.retentionDays: .*\(got 0\)/);
    expect(refused({ loki: { resources: { cpu: 0.5, memory: "8Mi" } } })).toContain(
      'ballast:monitoring.loki.resources.memory: memory must be a size in Mi or Gi between 16Mi and 1024Gi (e.g. "512Mi", "4Gi") (got "8Mi")',
    );
    expect(refused({ alerts: { errorRateThreshold: 5 } })).toContain(
      "ballast:monitoring.alerts.errorRateThreshold: must be a ratio between 0 and 1 (got 5)",
    );
    expect(refused({ grafana: { subdomain: "Grafana_UI" } })).toMatch(/ballast:monitoring\.grafana\.subdomain: must be a DNS label/);
    expect(refused({ alerts: { diskFreeWarningRatio: 0.1, diskFreeCriticalRatio: 0.2 } })).toContain(
      "ballast:monitoring.alerts.diskFreeCriticalRatio: must be below diskFreeWarningRatio (got 0.2)",
    );
    // No raw validator text ("must match pattern /^[a-zA-Z_:]…/") ever reaches a user.
    const metric = refused({ alerts: { metrics: { errorsTotal: "errors-total" } } });
    expect(metric).toContain(
      "ballast:monitoring.alerts.metrics.errorsTotal: must be a Prometheus metric name: letters, digits, '_' and ':', not starting with a digit",
    );
    expect(metric).not.toMatch(/pattern|Invalid string/);
  });

  it("refuses unpinned images with the one image rule", () => {
    expect(refused({ grafana: { image: "grafana/grafana:latest" } })).toMatch(
      /ballast:monitoring\.grafana\.image: must be pinned by an exact version tag/,
    );
    expect(refused({ loki: { image: "grafana/loki" } })).toMatch(/ballast:monitoring\.loki\.image: must be pinned by an exact version tag/);
    expect(refused({ loki: { image: "grafana/loki:3" } })).toMatch(
      /ballast:monitoring\.loki\.image: "grafana\/loki:3" uses the moving tag "3"/,
    );
    expect(monitoring({ loki: { image: `registry.local:5000/loki@sha256:${"a".repeat(64)}` } }, "staging").loki.image).toContain(
      "@sha256:",
    );
  });

  it("validates each receiver type's own fields", () => {
    expect(refused({ alertmanager: { receiver: { type: "slack" } } })).toMatch(
      /ballast:monitoring\.alertmanager\.receiver\.channel: required/,
    );
    expect(
      refused({
        alertmanager: { receiver: { type: "email", to: "ops@example.com", from: "am@example.com", smarthost: "smtp.example.com" } },
      }),
    ).toContain(
      'ballast:monitoring.alertmanager.receiver.smarthost: must be host:port of the SMTP relay, e.g. "smtp.example.com:587" (got "smtp.example.com")',
    );
    expect(refused({ alertmanager: { receiver: { type: "sms" } } })).toMatch(
      /ballast:monitoring\.alertmanager\.receiver(\.type)?: must be one of/,
    );
    const webhook = monitoring({ alertmanager: { receiver: { type: "webhook", url: "https://hooks.example.com/am" } } }, "staging");
    expect(webhook.alertmanager.receiver).toEqual({ type: "webhook", url: "https://hooks.example.com/am", auth: "bearer" });
  });

  it("reports every problem at once", () => {
    const problems = problemsOf({ monitoring: { prometheus: { retentionDays: -1 }, loki: { retentionDays: "7d" } } });
    expect(problems.map((p) => p.split(":").slice(0, 2).join(":"))).toEqual([
      "ballast:monitoring.prometheus.retentionDays",
      "ballast:monitoring.loki.retentionDays",
    ]);
  });
});
