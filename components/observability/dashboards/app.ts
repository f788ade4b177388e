/**
 * Application dashboards: Overview, API performance, Queue health, LLM cost and tokens.
 * Metric names come from `ballast:monitoring.alerts` so they follow the app's naming
 * (NomosX-style unprefixed names, nyxcore's `nyxcore_` LLM metrics).
 */
import type { AlertsConfig } from "../../config";
import { errorRequestsSelector } from "../metrics-catalog";
import { buildDashboard, stat, timeseries, type DashboardJson } from "./builder";

export interface AppDashboardOptions {
  alerts: AlertsConfig;
  /** Postgres-exporter runs, so backup freshness can be shown. */
  backupMetrics: boolean;
}

const errorPercent = (a: AlertsConfig) =>
  `100 * sum(rate(${errorRequestsSelector(a.metrics.errorsTotal)}[5m])) / sum(rate(${a.metrics.httpRequestsTotal}[5m]))`;

const latencyQuantile = (a: AlertsConfig, q: number, by: string[] = []) =>
  `histogram_quantile(${q}, sum by (${["le", ...by].join(", ")}) (rate(${a.metrics.httpRequestDurationSeconds}_bucket[5m])))`;

export function overviewDashboard({ alerts: a, backupMetrics }: AppDashboardOptions): DashboardJson {
  const m = a.metrics;
  return buildDashboard({
    uid: "ballast-overview",
    title: "Overview",
    description: "The stack at a glance: traffic, errors, latency, queues, LLM spend, alerts and backups.",
    panels: [
      stat("Requests per second", `sum(rate(${m.httpRequestsTotal}[5m]))`, { unit: "reqps" }),
      stat("Error rate", errorPercent(a), { unit: "percent", thresholds: [[a.errorRateThreshold * 100, "red"]] }),
      stat("P95 latency", latencyQuantile(a, 0.95), { unit: "s", thresholds: [[a.latencyP95Seconds, "red"]] }),
      stat("Waiting jobs", `sum(${m.queueWaitingCount})`, { thresholds: [[a.queueBacklog, "red"]] }),
      stat("LLM spend, last 24h", `sum(increase(${a.llmMetricPrefix}llm_cost_usd_total[24h]))`, { unit: "currencyUSD" }),
      stat("Firing alerts", 'count(ALERTS{alertstate="firing"}) or vector(0)', { thresholds: [[1, "red"]] }),
      stat("Targets down", "count(up == 0) or vector(0)", { thresholds: [[1, "red"]] }),
      ...(backupMetrics
        ? [stat("Last good backup", "max(ballast_backup_last_success_timestamp_seconds) * 1000", { unit: "dateTimeFromNow" })]
        : []),
      timeseries(
        "Requests and errors",
        [
          { expr: `sum(rate(${m.httpRequestsTotal}[5m]))`, legend: "requests" },
          { expr: `sum(rate(${errorRequestsSelector(m.errorsTotal)}[5m]))`, legend: "errors" },
        ],
        { unit: "reqps" },
      ),
      timeseries("Scrape targets up, by job", [{ expr: "sum by (job) (up)", legend: "{{job}}" }], { min: 0 }),
    ],
  });
}

export function apiDashboard({ alerts: a }: AppDashboardOptions): DashboardJson {
  const m = a.metrics;
  return buildDashboard({
    uid: "ballast-api",
    title: "API performance",
    description: "Request rate, errors and latency percentiles of the app, and the proxy in front of it.",
    panels: [
      timeseries("Request rate by route", [{ expr: `sum by (route) (rate(${m.httpRequestsTotal}[5m]))`, legend: "{{route}}" }], {
        unit: "reqps",
      }),
      timeseries("Error rate", [{ expr: errorPercent(a), legend: "errors" }], {
        unit: "percent",
        min: 0,
        thresholds: [[a.errorRateThreshold * 100, "red"]],
      }),
      timeseries(
        "Latency percentiles",
        [
          { expr: latencyQuantile(a, 0.5), legend: "p50" },
          { expr: latencyQuantile(a, 0.95), legend: "p95" },
          { expr: latencyQuantile(a, 0.99), legend: "p99" },
        ],
        { unit: "s", thresholds: [[a.latencyP95Seconds, "red"]] },
      ),
      timeseries("P95 latency by route", [{ expr: latencyQuantile(a, 0.95, ["route"]), legend: "{{route}}" }], { unit: "s" }),
      timeseries(
        "Responses by status code",
        [{ expr: `sum by (status_code) (rate(${m.httpRequestsTotal}[5m]))`, legend: "{{status_code}}" }],
        { unit: "reqps" },
      ),
      timeseries(
        "Proxy requests by entrypoint and code",
        [{ expr: "sum by (entrypoint, code) (rate(traefik_entrypoint_requests_total[5m]))", legend: "{{entrypoint}} {{code}}" }],
        { unit: "reqps" },
      ),
      timeseries(
        "Proxy P95 by service",
        [
          {
            expr: "histogram_quantile(0.95, sum by (le, service) (rate(traefik_service_request_duration_seconds_bucket[5m])))",
            legend: "{{service}}",
          },
        ],
        { unit: "s" },
      ),
      timeseries("Open proxy connections", [{ expr: "sum by (entrypoint) (traefik_open_connections)", legend: "{{entrypoint}}" }]),
    ],
  });
}

export function queueDashboard({ alerts: a }: AppDashboardOptions): DashboardJson {
  const m = a.metrics;
  const p = a.llmMetricPrefix;
  return buildDashboard({
    uid: "ballast-queues",
    title: "Queue health",
    description: "Queue lengths, job processing times and workflow activity.",
    panels: [
      stat("Waiting jobs", `sum(${m.queueWaitingCount})`, { thresholds: [[a.queueBacklog, "red"]] }),
      stat("Active workflows", `sum(${p}active_workflows)`),
      stat("Jobs finished per second", `sum(rate(${m.jobDurationSeconds}_count[5m]))`, { unit: "ops" }),
      stat("Job P95", `histogram_quantile(0.95, sum by (le) (rate(${m.jobDurationSeconds}_bucket[5m])))`, { unit: "s" }),
      timeseries("Waiting jobs by queue", [{ expr: `sum by (queue) (${m.queueWaitingCount})`, legend: "{{queue}}" }], {
        thresholds: [[a.queueBacklog, "red"]],
      }),
      timeseries("Jobs finished by queue", [{ expr: `sum by (queue) (rate(${m.jobDurationSeconds}_count[5m]))`, legend: "{{queue}}" }], {
        unit: "ops",
      }),
      timeseries(
        "Job P95 by queue",
        [{ expr: `histogram_quantile(0.95, sum by (le, queue) (rate(${m.jobDurationSeconds}_bucket[5m])))`, legend: "{{queue}}" }],
        { unit: "s" },
      ),
      timeseries("Workflow steps by status", [{ expr: `sum by (status) (rate(${p}workflow_steps_total[5m]))`, legend: "{{status}}" }], {
        unit: "ops",
      }),
      timeseries(
        "Workflow P95 by status",
        [{ expr: `histogram_quantile(0.95, sum by (le, status) (rate(${p}workflow_duration_seconds_bucket[5m])))`, legend: "{{status}}" }],
        { unit: "s" },
      ),
      timeseries("Active SSE connections", [{ expr: `sum by (endpoint) (${p}sse_connections_active)`, legend: "{{endpoint}}" }]),
    ],
  });
}

export function llmDashboard({ alerts: a }: AppDashboardOptions): DashboardJson {
  const p = a.llmMetricPrefix;
  const cost = `${p}llm_cost_usd_total`;
  const tokens = `${p}llm_tokens_total`;
  return buildDashboard({
    uid: "ballast-llm",
    title: "LLM cost and tokens",
    description: "LLM spend, token usage, call outcomes and latency by provider and model; cost per run.",
    panels: [
      stat("Spend, last hour", `sum(increase(${cost}[1h]))`, { unit: "currencyUSD", thresholds: [[a.llmSpendPerHourUsd, "red"]] }),
      stat("Spend, last 24h", `sum(increase(${cost}[24h]))`, { unit: "currencyUSD" }),
      stat("Average cost per run", `avg(${a.metrics.costPerRunUsd})`, { unit: "currencyUSD", thresholds: [[a.costPerRunUsd, "red"]] }),
      stat("Tokens, last 24h", `sum(increase(${tokens}[24h]))`, { unit: "short" }),
      timeseries(
        "Spend per hour by provider and model",
        [{ expr: `sum by (provider, model) (increase(${cost}[1h]))`, legend: "{{provider}} {{model}}" }],
        {
          unit: "currencyUSD",
        },
      ),
      timeseries("Tokens per second by model and type", [
        { expr: `sum by (model, type) (rate(${tokens}[5m]))`, legend: "{{model}} {{type}}" },
      ]),
      timeseries(
        "Token rate vs daily average",
        [{ expr: `sum(rate(${tokens}[1h])) / sum(rate(${tokens}[1d]))`, legend: "last hour / last day" }],
        { thresholds: [[a.tokenAnomalyFactor, "red"]] },
      ),
      timeseries(
        "Calls by provider and status",
        [{ expr: `sum by (provider, status) (rate(${p}llm_calls_total[5m]))`, legend: "{{provider}} {{status}}" }],
        {
          unit: "ops",
        },
      ),
      timeseries(
        "Call P95 by provider",
        [
          {
            expr: `histogram_quantile(0.95, sum by (le, provider) (rate(${p}llm_call_duration_seconds_bucket[5m])))`,
            legend: "{{provider}}",
          },
        ],
        { unit: "s" },
      ),
      timeseries("Cost per run", [{ expr: `avg(${a.metrics.costPerRunUsd})`, legend: "average" }], {
        unit: "currencyUSD",
        thresholds: [[a.costPerRunUsd, "red"]],
      }),
      timeseries("Rate-limit hits by source", [{ expr: `sum by (source) (rate(${p}rate_limit_hits_total[5m]))`, legend: "{{source}}" }], {
        unit: "ops",
      }),
    ],
  });
}
