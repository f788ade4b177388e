import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { observabilityDashboards } from "../../components/observability";
import { dashboardQueries } from "../../components/observability/dashboards";
import { grafanaDatasources, grafanaFiles, renderDashboardProviders } from "../../components/observability/grafana";
import { metricsCatalog, queryableMetricNames } from "../../components/observability/metrics-catalog";
import { enabledParts } from "../../components/observability/parts";
import { monitoring, targets, testContext } from "./fixtures";
import { promqlMetricNames } from "./promql";

const expectedDashboards = [
  "Ballast - Overview",
  "Ballast - API performance",
  "Ballast - Queue health",
  "Ballast - LLM cost and tokens",
  "Ballast - PostgreSQL",
  "Ballast - Redis",
  "Ballast - Host",
  "Ballast - Containers",
  "Ballast - Logs",
];

describe("Grafana provisioning", () => {
  it("provisions Prometheus (default), Loki and Alertmanager by uid, and Tempo only with tracing", () => {
    const parts = enabledParts(monitoring(), "compose");
    const file = grafanaDatasources(parts);
    expect(file.datasources.map((d) => [d.name, d.type, d.uid, d.url, d.isDefault])).toEqual([
      ["Prometheus", "prometheus", "prometheus", "http://prometheus:9090", true],
      ["Loki", "loki", "loki", "http://loki:3100", false],
      ["Alertmanager", "alertmanager", "alertmanager", "http://alertmanager:9093", false],
    ]);
    expect(file.deleteDatasources).toEqual([
      { name: "Tempo", orgId: 1 },
      { name: "Jaeger", orgId: 1 },
    ]);
    const traced = grafanaDatasources(enabledParts(monitoring({ tracing: { enabled: true } }), "compose"));
    expect(traced.datasources.find((d) => d.type === "tempo")?.url).toBe("http://tempo:3200");
    const logsOnly = grafanaDatasources(enabledParts(monitoring({ prometheus: { enabled: false } }), "compose"));
    expect(logsOnly.datasources.map((d) => [d.name, d.isDefault])).toEqual([["Loki", true]]);
  });

  it.each(targets)(
    "provisions one trace datasource per backend: tempo for Tempo, jaeger for Jaeger, the other one deleted (%s)",
    (target) => {
      const sources = (backend: string) => grafanaDatasources(enabledParts(monitoring({ tracing: { enabled: true, backend } }), target));
      const tempo = sources("tempo");
      expect(tempo.datasources.filter((d) => d.type === "tempo" || d.type === "jaeger").map((d) => [d.name, d.type, d.uid, d.url])).toEqual(
        [["Tempo", "tempo", "tempo", "http://tempo:3200"]],
      );
      expect(tempo.deleteDatasources).toEqual([{ name: "Jaeger", orgId: 1 }]);
      const jaeger = sources("jaeger");
      expect(
        jaeger.datasources.filter((d) => d.type === "tempo" || d.type === "jaeger").map((d) => [d.name, d.type, d.uid, d.url]),
      ).toEqual([["Jaeger", "jaeger", "jaeger", "http://jaeger:16686"]]);
      expect(jaeger.datasources.find((d) => d.type === "jaeger")?.jsonData).toEqual({
        tracesToLogsV2: { datasourceUid: "loki" },
        nodeGraph: { enabled: true },
      });
      expect(jaeger.deleteDatasources).toEqual([{ name: "Tempo", orgId: 1 }]);
    },
  );

  it("provisions the dashboards from files Grafana cannot edit", () => {
    const providers = parse(renderDashboardProviders()) as { providers: Record<string, unknown>[] };
    expect(providers.providers[0]).toMatchObject({
      type: "file",
      allowUiUpdates: false,
      disableDeletion: true,
      options: { path: "/etc/grafana/dashboards" },
    });
    const { files } = grafanaFiles(monitoring(), enabledParts(monitoring(), "compose"), testContext("compose"));
    expect(files.map((f) => f.mountPath)).toContain("/etc/grafana/provisioning/datasources/ballast.yaml");
    expect(files.map((f) => f.mountPath)).toContain("/etc/grafana/provisioning/dashboards/ballast.yaml");
    expect(files.filter((f) => f.mountPath.startsWith("/etc/grafana/dashboards/")).length).toBe(expectedDashboards.length);
    expect(new Set(files.map((f) => f.name)).size).toBe(files.length);
  });
});

describe("dashboards", () => {
  for (const target of targets) {
    const dashboards = observabilityDashboards(monitoring(), testContext(target));

    it(`ships the runbook dashboards (${target})`, () => {
      expect(dashboards.map((d) => d.title)).toEqual(expectedDashboards);
      expect(new Set(dashboards.map((d) => d.uid)).size).toBe(dashboards.length);
    });

    it(`queries only catalogue metrics (${target})`, () => {
      const known = queryableMetricNames(metricsCatalog(monitoring().alerts));
      let checked = 0;
      for (const dashboard of dashboards) {
        for (const q of dashboardQueries(dashboard).filter((q) => q.datasource === "prometheus")) {
          const names = promqlMetricNames(q.expr);
          expect(names.length, `${dashboard.title} / ${q.panel}`).toBeGreaterThan(0);
          for (const name of names) expect(known.has(name), `${dashboard.title} / ${q.panel}: ${name}`).toBe(true);
          checked++;
        }
      }
      expect(checked).toBeGreaterThan(60);
    });

    it(`queries Loki only by the labels Alloy sets (${target})`, () => {
      const lokiQueries = dashboards.flatMap((d) => dashboardQueries(d)).filter((q) => q.datasource === "loki");
      expect(lokiQueries.length).toBeGreaterThanOrEqual(4);
      for (const q of lokiQueries) {
        const selectors = q.expr.match(/\{[^}]*\}/g) ?? [];
        expect(selectors.length, q.expr).toBeGreaterThan(0);
        for (const selector of selectors) {
          for (const [, label] of selector.matchAll(/([a-zA-Z_]+)\s*(=~|!~|!=|=)/g))
            expect(["service", "replica", "level"], q.expr).toContain(label);
        }
      }
    });

    it(`lays panels out on the 24-column grid without overlap (${target})`, () => {
      for (const dashboard of dashboards) {
        const cells = new Set<string>();
        for (const panel of dashboard.panels) {
          expect(panel.gridPos.x + panel.gridPos.w, dashboard.title).toBeLessThanOrEqual(24);
          for (let x = panel.gridPos.x; x < panel.gridPos.x + panel.gridPos.w; x++) {
            for (let y = panel.gridPos.y; y < panel.gridPos.y + panel.gridPos.h; y++) {
              const cell = `${x},${y}`;
              expect(cells.has(cell), `${dashboard.title} / ${panel.title}`).toBe(false);
              cells.add(cell);
            }
          }
        }
        expect(dashboard.panels.map((p) => p.id)).toEqual(dashboard.panels.map((_, i) => i + 1));
      }
    });
  }

  it("follows the app's metric names and LLM prefix", () => {
    const custom = monitoring({ alerts: { llmMetricPrefix: "acme_", metrics: { httpRequestsTotal: "acme_http_requests_total" } } });
    const exprs = observabilityDashboards(custom, testContext("compose")).flatMap((d) => dashboardQueries(d).map((q) => q.expr));
    expect(exprs.some((e) => e.includes("acme_llm_cost_usd_total"))).toBe(true);
    expect(exprs.some((e) => e.includes("acme_http_requests_total"))).toBe(true);
    expect(exprs.some((e) => e.includes("nyxcore_"))).toBe(false);
  });

  it("drops dashboards whose data source is off", () => {
    const titles = observabilityDashboards(
      monitoring({ redisExporter: { enabled: false }, loki: { enabled: false } }),
      testContext("compose"),
    ).map((d) => d.title);
    expect(titles).not.toContain("Ballast - Redis");
    expect(titles).not.toContain("Ballast - Logs");
    expect(titles).toContain("Ballast - PostgreSQL");
  });
});
