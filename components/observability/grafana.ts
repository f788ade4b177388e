/**
 * Grafana provisioning (datasources, dashboard provider, dashboards) and environment.
 * Anonymous access and sign-up are off; the admin password comes from the secret
 * `grafana-admin-password`. Grafana reads it only when it creates its database, so
 * rotating it later needs `grafana cli admin reset-admin-password` as well.
 */
import { datasourceKind, type MonitoringConfig, type TeamDashboard } from "../config";
import { monitoringNames, monitoringPaths, monitoringPorts, type ObservabilityContext } from "./context";
import { ballastDashboards, type DashboardJson } from "./dashboards";
import { datasourceUids } from "./dashboards/builder";
import type { EnabledParts } from "./parts";
import { toYaml } from "./yaml";

export const grafanaAdminPasswordSecret = "grafana-admin-password";

interface Datasource {
  name: string;
  type: "prometheus" | "loki" | "alertmanager" | "tempo" | "jaeger";
  uid: string;
  access: "proxy";
  url: string;
  isDefault: boolean;
  editable: false;
  jsonData: Record<string, unknown>;
}

interface DatasourcesFile {
  apiVersion: 1;
  /** Removes datasources a previous release provisioned but this one does not. */
  deleteDatasources: { name: string; orgId: 1 }[];
  datasources: Datasource[];
}

interface DashboardProvidersFile {
  apiVersion: 1;
  providers: {
    name: string;
    orgId: 1;
    folder: string;
    type: "file";
    disableDeletion: boolean;
    allowUiUpdates: boolean;
    updateIntervalSeconds: number;
    options: { path: string; foldersFromFilesStructure: boolean };
  }[];
}

const url = (name: string, port: number) => `http://${name}:${port}`;

export function grafanaDatasources(parts: EnabledParts): DatasourcesFile {
  const all: (Datasource & { enabled: boolean })[] = [
    {
      enabled: parts.prometheus,
      name: "Prometheus",
      type: "prometheus",
      uid: datasourceUids.prometheus,
      access: "proxy",
      url: url(monitoringNames.prometheus, monitoringPorts.prometheus),
      isDefault: true,
      editable: false,
      jsonData: { httpMethod: "POST", timeInterval: "15s" },
    },
    {
      enabled: parts.loki,
      name: "Loki",
      type: "loki",
      uid: datasourceUids.loki,
      access: "proxy",
      url: url(monitoringNames.loki, monitoringPorts.loki),
      isDefault: !parts.prometheus,
      editable: false,
      jsonData: { maxLines: 1000 },
    },
    {
      enabled: parts.alertmanager,
      name: "Alertmanager",
      type: "alertmanager",
      uid: "alertmanager",
      access: "proxy",
      url: url(monitoringNames.alertmanager, monitoringPorts.alertmanager),
      isDefault: false,
      editable: false,
      // Prometheus's Alertmanager: Grafana shows and silences its alerts, it does not send its own there.
      jsonData: { implementation: "prometheus", handleGrafanaManagedAlerts: false },
    },
    {
      enabled: parts.tempo,
      name: "Tempo",
      type: "tempo",
      uid: "tempo",
      access: "proxy",
      url: url(monitoringNames.tempo, monitoringPorts.tempo),
      isDefault: false,
      editable: false,
      jsonData: parts.loki
        ? { tracesToLogsV2: { datasourceUid: datasourceUids.loki }, nodeGraph: { enabled: true } }
        : { nodeGraph: { enabled: true } },
    },
    {
      enabled: parts.jaeger,
      name: "Jaeger",
      type: "jaeger",
      uid: "jaeger",
      access: "proxy",
      // Jaeger's query API (the UI's), which Grafana's jaeger datasource reads.
      url: url(monitoringNames.jaeger, monitoringPorts.jaegerQuery),
      isDefault: false,
      editable: false,
      jsonData: parts.loki
        ? { tracesToLogsV2: { datasourceUid: datasourceUids.loki }, nodeGraph: { enabled: true } }
        : { nodeGraph: { enabled: true } },
    },
  ];
  const datasources = all.filter((d) => d.enabled).map(({ enabled: _enabled, ...d }) => d);
  return {
    apiVersion: 1,
    deleteDatasources: all.filter((d) => !d.enabled).map((d) => ({ name: d.name, orgId: 1 })),
    datasources,
  };
}

export function renderGrafanaDatasources(parts: EnabledParts): string {
  return toYaml(grafanaDatasources(parts), "Rendered by Ballast (components/observability/grafana.ts). Do not edit.");
}

export function renderDashboardProviders(): string {
  const file: DashboardProvidersFile = {
    apiVersion: 1,
    providers: [
      {
        name: "ballast",
        orgId: 1,
        folder: "Ballast",
        type: "file",
        // Dashboards are code: edits in the UI would be lost on the next deploy, so none are allowed.
        disableDeletion: true,
        allowUiUpdates: false,
        updateIntervalSeconds: 60,
        options: { path: monitoringPaths.grafanaDashboards, foldersFromFilesStructure: false },
      },
    ],
  };
  return toYaml(file, "Rendered by Ballast (components/observability/grafana.ts). Do not edit.");
}

export function grafanaHost(monitoring: MonitoringConfig, ctx: ObservabilityContext): string {
  return `${monitoring.grafana.subdomain}.${ctx.domain}`;
}

/** Plain environment of the Grafana container (the admin password is secret env, not here). */
export function grafanaEnv(monitoring: MonitoringConfig, ctx: ObservabilityContext): Record<string, string> {
  const host = grafanaHost(monitoring, ctx);
  return {
    GF_SERVER_DOMAIN: host,
    GF_SERVER_ROOT_URL: `${ctx.tls ? "https" : "http"}://${host}/`,
    GF_SECURITY_ADMIN_USER: monitoring.grafana.adminUser,
    GF_SECURITY_COOKIE_SECURE: String(ctx.tls),
    GF_SECURITY_DISABLE_GRAVATAR: "true",
    GF_AUTH_ANONYMOUS_ENABLED: "false",
    GF_USERS_ALLOW_SIGN_UP: "false",
    GF_USERS_ALLOW_ORG_CREATE: "false",
    // No phoning home: no usage reporting, update checks or plugin installs from the internet.
    GF_ANALYTICS_REPORTING_ENABLED: "false",
    GF_ANALYTICS_CHECK_FOR_UPDATES: "false",
    GF_ANALYTICS_CHECK_FOR_PLUGIN_UPDATES: "false",
    GF_PATHS_PROVISIONING: monitoringPaths.grafanaProvisioning,
    GF_LOG_MODE: "console",
  };
}

/**
 * Grafana's command: reset the admin password to the stack's secret, then start as the image
 * does (/run.sh). Grafana reads GF_SECURITY_ADMIN_PASSWORD only when it creates its database,
 * so without the reset a rotated password would never take effect. The password goes in on
 * stdin (not in `ps`); on the very first start the admin does not exist yet and the reset
 * fails harmlessly, the server then creates the admin with the same password.
 */
export const grafanaCommand = [
  "sh",
  "-c",
  'printf \'%s\' "$GF_SECURITY_ADMIN_PASSWORD" | grafana cli --homepath "$GF_PATHS_HOME" --config "$GF_PATHS_CONFIG" admin reset-admin-password --password-from-stdin >/dev/null 2>&1 || echo "grafana: admin password not reset (first start: the server creates the admin)"; exec /run.sh',
];

export interface GrafanaFile {
  name: string;
  mountPath: string;
  content: string;
}

type Json = Record<string, unknown>;

/** Points every Prometheus / Loki datasource reference of a dashboard at the provisioned datasource uid. */
function withProvisionedDatasources(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(withProvisionedDatasources);
  if (typeof node !== "object" || node === null) return node;
  const out: Json = {};
  for (const [key, value] of Object.entries(node as Json)) {
    const kind = key === "datasource" ? datasourceKind(value) : undefined;
    out[key] = kind === "prometheus" || kind === "loki" ? { type: kind, uid: datasourceUids[kind] } : withProvisionedDatasources(value);
  }
  return out;
}

/**
 * A team dashboard as Grafana provisions it: the file's model with the stack's title prefix,
 * its uid, no numeric id (Grafana assigns one), and Prometheus / Loki references pointing at
 * the provisioned datasources (an exported dashboard names the exporting Grafana's uids or
 * `${DS_PROMETHEUS}`).
 */
export function teamDashboardJson(dashboard: TeamDashboard, titlePrefix: string): Json {
  const model = withProvisionedDatasources(dashboard.model) as Json;
  const { __inputs: _inputs, __requires: _requires, ...rest } = model;
  return { ...rest, id: null, uid: dashboard.uid, title: `${titlePrefix} - ${dashboard.title}` };
}

/** Every file Grafana needs: the two provisioning files and one JSON file per dashboard (Ballast's, then the team's). */
export function grafanaFiles(
  monitoring: MonitoringConfig,
  parts: EnabledParts,
  ctx: ObservabilityContext,
): { files: GrafanaFile[]; dashboards: DashboardJson[] } {
  const dashboards = ballastDashboards(monitoring, parts, ctx.proxyName);
  const files: GrafanaFile[] = [
    {
      name: "datasources.yaml",
      mountPath: `${monitoringPaths.grafanaProvisioning}/datasources/ballast.yaml`,
      content: renderGrafanaDatasources(parts),
    },
    {
      name: "dashboard-providers.yaml",
      mountPath: `${monitoringPaths.grafanaProvisioning}/dashboards/ballast.yaml`,
      content: renderDashboardProviders(),
    },
    ...dashboards.map((d) => ({
      name: `${d.uid}.json`,
      mountPath: `${monitoringPaths.grafanaDashboards}/${d.uid}.json`,
      content: `${JSON.stringify(d, null, 2)}\n`,
    })),
    ...ctx.team.dashboards.map((d) => ({
      name: `${d.uid}.json`,
      mountPath: `${monitoringPaths.grafanaDashboards}/${d.uid}.json`,
      content: `${JSON.stringify(teamDashboardJson(d, monitoring.grafana.titlePrefix), null, 2)}\n`,
    })),
  ];
  return { files, dashboards };
}
