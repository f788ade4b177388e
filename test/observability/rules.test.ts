import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { metricsCatalog, queryableMetricNames } from "../../components/observability/metrics-catalog";
import { alertGroups, renderAlertRules } from "../../components/observability/rules";
import { monitoring, targets, testContext } from "./fixtures";
import { promqlMetricNames } from "./promql";

const requiredAlerts = [
  "HighErrorRate",
  "QueueBacklog",
  "DatabaseDown",
  "HighCostPerRun",
  "HighLatencyP95",
  "LLMSpendHigh",
  "LLMTokenAnomaly",
  "PostgresDown",
  "PostgresTooManyConnections",
  "RedisDown",
  "RedisNearMaxmemory",
  "HostDiskAlmostFull",
  "HostMemoryPressure",
  "ContainerRestarting",
  "ContainerOOMKilled",
  "ScrapeTargetDown",
  "TLSCertificateExpiringSoon",
  "BackupTooOld",
  "RestoreDrillOverdue",
];

interface RuleFile {
  groups: {
    name: string;
    rules: { alert: string; expr: string; for?: string; labels: Record<string, string>; annotations: Record<string, string> }[];
  }[];
}

describe("alert rules", () => {
  for (const target of targets) {
    const file = parse(renderAlertRules(alertGroups(monitoring(), testContext(target)))) as RuleFile;
    const rules = file.groups.flatMap((g) => g.rules);

    it(`contains every runbook alert (${target})`, () => {
      const names = new Set(rules.map((r) => r.alert));
      for (const alert of requiredAlerts) expect(names.has(alert), alert).toBe(true);
    });

    it(`gives every alert a severity, a summary and a description that says what to do (${target})`, () => {
      for (const rule of rules) {
        expect(["critical", "warning"], rule.alert).toContain(rule.labels.severity);
        expect(Object.keys(rule.annotations).sort(), rule.alert).toEqual(["description", "summary"]);
        expect(rule.annotations.summary.length, rule.alert).toBeGreaterThan(10);
        // A description names an action: check, read, run, restart, scale, raise, find, look ...
        expect(rule.annotations.description, rule.alert).toMatch(
          /\b(Check|check|Read|Run|run|restart|Scale|scale|Raise|raise|Find|Look|Prune|fix|roll back|pause)\b/,
        );
      }
    });

    it(`uses only catalogue metrics (${target})`, () => {
      const known = queryableMetricNames(metricsCatalog(monitoring().alerts));
      for (const rule of rules) {
        for (const name of promqlMetricNames(rule.expr)) expect(known.has(name), `${rule.alert}: ${name}`).toBe(true);
      }
    });

    it(`uses only the annotation templates the promtool test can expand (${target})`, () => {
      for (const rule of rules) {
        for (const text of Object.values(rule.annotations)) {
          const templates = text.match(/\{\{[^}]*\}\}/g) ?? [];
          for (const t of templates) expect(t, rule.alert).toMatch(/^\{\{ (\$labels\.[a-z_]+|printf "%\.[0-9]f" \$value) \}\}$/);
        }
      }
    });
  }

  it("encodes the runbook thresholds and durations", () => {
    const rules = alertGroups(monitoring(), testContext("compose")).flatMap((g) => g.rules);
    const rule = (name: string) => rules.find((r) => r.alert === name)!;
    expect(rule("HighErrorRate")).toMatchObject({
      expr: "100 * sum(rate(errors_total[5m])) / sum(rate(http_requests_total[5m])) > 5",
      for: "5m",
      severity: "critical",
    });
    expect(rule("QueueBacklog")).toMatchObject({ expr: "max by (queue) (queue_waiting_count) > 1000", for: "10m" });
    expect(rule("DatabaseDown")).toMatchObject({ for: "1m", severity: "critical" });
    expect(rule("HighCostPerRun")).toMatchObject({ expr: "avg(avg_over_time(cost_per_run_usd[1h])) > 5", for: "30m" });
    expect(rule("HighLatencyP95").expr).toBe("histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 5");
    expect(rule("LLMSpendHigh").expr).toContain("nyxcore_llm_cost_usd_total");
    expect(rule("LLMTokenAnomaly").expr).toContain("nyxcore_llm_tokens_total");
    expect(rule("BackupTooOld").expr).toBe("(time() - ballast_backup_last_success_timestamp_seconds) / 3600 > 24");
    expect(rule("RestoreDrillOverdue").expr).toBe("(time() - ballast_restore_drill_last_success_timestamp_seconds) / 86400 > 35");
    expect(rule("TLSCertificateExpiringSoon").expr).toBe("(traefik_tls_certs_not_after - time()) / 86400 < 14");
    expect(rules.filter((r) => r.alert === "HostDiskAlmostFull").map((r) => r.severity)).toEqual(["warning", "critical"]);
  });

  it("follows configured metric names, prefix and thresholds", () => {
    const custom = monitoring({
      alerts: {
        llmMetricPrefix: "",
        latencyP95Seconds: 2,
        rpoHours: 6,
        metrics: { httpRequestsTotal: "nyxcore_http_requests_total", httpRequestDurationSeconds: "nyxcore_http_request_duration_seconds" },
      },
    });
    const rules = alertGroups(custom, testContext("compose")).flatMap((g) => g.rules);
    const rule = (name: string) => rules.find((r) => r.alert === name)!;
    expect(rule("HighErrorRate").expr).toContain("nyxcore_http_requests_total");
    expect(rule("HighLatencyP95").expr).toBe(
      "histogram_quantile(0.95, sum by (le) (rate(nyxcore_http_request_duration_seconds_bucket[5m]))) > 2",
    );
    expect(rule("LLMSpendHigh").expr).toContain("sum(increase(llm_cost_usd_total[1h]))");
    expect(rule("BackupTooOld").expr).toMatch(/> 6$/);
  });

  it("leaves out alerts whose exporter is turned off, so absent() cannot fire forever", () => {
    const names = alertGroups(
      monitoring({
        postgresExporter: { enabled: false },
        redisExporter: { enabled: false },
        nodeExporter: { enabled: false },
        cadvisor: { enabled: false },
      }),
      testContext("compose"),
    )
      .flatMap((g) => g.rules)
      .map((r) => r.alert);
    for (const gone of ["PostgresDown", "DatabaseDown", "BackupTooOld", "RedisDown", "HostDiskAlmostFull", "ContainerRestarting"])
      expect(names).not.toContain(gone);
    expect(names).toContain("HighErrorRate");
  });
});

describe("promqlMetricNames", () => {
  it("finds metric names and ignores functions, labels, keywords and durations", () => {
    expect(promqlMetricNames('100 * sum by (route) (rate(x_total{job="a", route=~"b.*"}[5m])) / ignoring(le) y offset 1d > 0.5')).toEqual([
      "x_total",
      "y",
    ]);
    expect(promqlMetricNames('count(ALERTS{alertstate="firing"}) or vector(0)')).toEqual(["ALERTS"]);
    expect(
      promqlMetricNames("histogram_quantile(0.95, sum by (le, service) (rate(z_bucket[5m]))) and on(instance) group_left(node) w"),
    ).toEqual(["z_bucket", "w"]);
  });
});
