/**
 * Logs dashboard (Loki). Streams carry the labels Alloy sets: `service` (workload),
 * `replica`, and `level` when the line is JSON with a level field.
 */
import { buildDashboard, datasourceUids, logMetrics, logsPanel, timeseries, type DashboardJson } from "./builder";

export interface LogsDashboardOptions {
  proxyName: string;
  /** Alloy's drop counter is scraped by Prometheus. */
  droppedLinesMetric: boolean;
}

export function logsDashboard({ proxyName, droppedLinesMetric }: LogsDashboardOptions): DashboardJson {
  const loki = { type: "loki" as const, uid: datasourceUids.loki };
  return buildDashboard({
    uid: "ballast-logs",
    title: "Logs",
    description: "Container logs shipped by Alloy (client IPs anonymised, health and metrics requests dropped).",
    variables: [
      {
        name: "service",
        label: "Service",
        type: "query",
        datasource: loki,
        query: "label_values(service)",
        includeAll: true,
        multi: true,
        allValue: ".+",
        current: { text: "All", value: "$__all" },
        refresh: 2,
      },
      { name: "search", label: "Search", type: "textbox", query: "", current: { text: "", value: "" } },
    ],
    panels: [
      logMetrics("Log lines by service", [
        { expr: 'sum by (service) (count_over_time({service=~"$service"} |~ "$search" [5m]))', legend: "{{service}}" },
      ]),
      logMetrics("Error lines by service", [
        { expr: 'sum by (service) (count_over_time({service=~"$service"} |~ "(?i)(error|fatal|panic)" [5m]))', legend: "{{service}}" },
      ]),
      logsPanel("Logs", '{service=~"$service"} |~ "$search"', "Newest first; use Search for a regular expression."),
      logsPanel(
        "Proxy 5xx responses",
        `{service="${proxyName}"} | json | DownstreamStatus >= 500`,
        "Traefik access-log lines whose response status was 5xx.",
      ),
      ...(droppedLinesMetric
        ? [
            timeseries(
              "Lines dropped by the pipeline",
              [{ expr: "sum by (reason) (rate(loki_process_dropped_lines_total[5m]))", legend: "{{reason}}" }],
              {
                unit: "ops",
              },
            ),
          ]
        : []),
    ],
  });
}
