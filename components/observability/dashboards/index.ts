/** The dashboards Ballast provisions into Grafana, chosen by which parts are deployed. */
import type { MonitoringConfig } from "../../config";
import type { EnabledParts } from "../parts";
import { apiDashboard, llmDashboard, overviewDashboard, queueDashboard } from "./app";
import type { DashboardJson } from "./builder";
import { postgresDashboard, redisDashboard } from "./datastores";
import { containersDashboard, hostDashboard } from "./infrastructure";
import { logsDashboard } from "./logs";
import { sloDashboard } from "./slos";

export { dashboardQueries, type DashboardJson } from "./builder";

export function ballastDashboards(monitoring: MonitoringConfig, parts: EnabledParts, proxyName: string): DashboardJson[] {
  const dashboards: DashboardJson[] = [];
  if (parts.prometheus) {
    const options = { alerts: monitoring.alerts, backupMetrics: parts.postgresExporter };
    dashboards.push(overviewDashboard(options), apiDashboard(options), queueDashboard(options), llmDashboard(options));
    if (parts.postgresExporter) dashboards.push(postgresDashboard());
    if (parts.redisExporter) dashboards.push(redisDashboard());
    if (parts.nodeExporter) dashboards.push(hostDashboard());
    if (parts.containerMetrics) dashboards.push(containersDashboard());
    if (monitoring.slos.length > 0) dashboards.push(sloDashboard(monitoring.slos));
  }
  if (parts.loki) dashboards.push(logsDashboard({ proxyName, droppedLinesMetric: parts.prometheus && parts.alloy }));
  // "NomosX - Overview": the stack's prefix names its boards (ballast:monitoring.grafana.titlePrefix).
  return dashboards.map((d) => ({ ...d, title: `${monitoring.grafana.titlePrefix} - ${d.title}` }));
}
