/**
 * A small typed builder for Grafana dashboard JSON (schema 39, Grafana 11). Dashboards
 * are authored as lists of panels; the builder lays them out, numbers them and points
 * each query at the provisioned datasource uid.
 */

export type DatasourceKind = "prometheus" | "loki";

/** Datasource uids provisioned by grafana.ts; dashboards refer to them by uid. */
export const datasourceUids: Record<DatasourceKind, string> = { prometheus: "prometheus", loki: "loki" };

export interface DatasourceRef {
  type: DatasourceKind;
  uid: string;
}

export interface QueryTarget {
  refId: string;
  datasource: DatasourceRef;
  expr: string;
  legendFormat?: string;
  /** Prometheus: one value per series instead of a range (stat panels). */
  instant?: boolean;
  range?: boolean;
}

export type Unit =
  "short" | "percent" | "percentunit" | "s" | "ms" | "bytes" | "reqps" | "ops" | "currencyUSD" | "dateTimeFromNow" | "dtdurations" | "none";

interface Threshold {
  color: string;
  value: number | null;
}

export interface FieldConfig {
  defaults: {
    unit?: Unit;
    min?: number;
    max?: number;
    decimals?: number;
    thresholds?: { mode: "absolute"; steps: Threshold[] };
  };
  overrides: never[];
}

export interface GridPos {
  x: number;
  y: number;
  w: number;
  h: number;
}

export type PanelType = "timeseries" | "stat" | "logs";

export interface PanelJson {
  id: number;
  type: PanelType;
  title: string;
  description?: string;
  gridPos: GridPos;
  datasource: DatasourceRef;
  targets: QueryTarget[];
  fieldConfig: FieldConfig;
  options: Record<string, unknown>;
}

export interface TemplateVariable {
  name: string;
  label: string;
  type: "query" | "textbox";
  datasource?: DatasourceRef;
  query: string | { label: string; stream: string; type: number; refId: string };
  current?: { text: string; value: string };
  includeAll?: boolean;
  multi?: boolean;
  allValue?: string;
  refresh?: number;
}

export interface DashboardJson {
  uid: string;
  title: string;
  description: string;
  tags: string[];
  timezone: "utc";
  schemaVersion: number;
  version: number;
  editable: boolean;
  graphTooltip: number;
  refresh: string;
  time: { from: string; to: string };
  templating: { list: TemplateVariable[] };
  annotations: { list: never[] };
  links: never[];
  panels: PanelJson[];
}

/** A panel before layout. */
export interface PanelDef {
  type: PanelType;
  title: string;
  description?: string;
  queries: { expr: string; legend?: string }[];
  datasource: DatasourceKind;
  unit?: Unit;
  min?: number;
  max?: number;
  /** [value, color] steps above the base green, e.g. [[80, "orange"], [95, "red"]]. */
  thresholds?: [number, string][];
  /** Width in grid columns (24 per row). */
  width?: number;
  height?: number;
}

const defaultSize: Record<PanelType, { w: number; h: number }> = {
  stat: { w: 6, h: 4 },
  timeseries: { w: 12, h: 8 },
  logs: { w: 24, h: 14 },
};

type PanelOptions = Omit<PanelDef, "type" | "title" | "queries" | "datasource">;
type Queries = { expr: string; legend?: string }[];

/** A time series of PromQL queries. */
export const timeseries = (title: string, queries: Queries, options: PanelOptions = {}): PanelDef => ({
  type: "timeseries",
  title,
  queries,
  datasource: "prometheus",
  ...options,
});

/** A single PromQL value. */
export const stat = (title: string, expr: string, options: PanelOptions = {}): PanelDef => ({
  type: "stat",
  title,
  queries: [{ expr }],
  datasource: "prometheus",
  ...options,
});

/** A time series of LogQL metric queries. */
export const logMetrics = (title: string, queries: Queries, options: PanelOptions = {}): PanelDef => ({
  type: "timeseries",
  title,
  queries,
  datasource: "loki",
  ...options,
});

export function logsPanel(title: string, expr: string, description?: string): PanelDef {
  return { type: "logs", title, description, queries: [{ expr }], datasource: "loki" };
}

function panelOptions(type: PanelType): Record<string, unknown> {
  switch (type) {
    case "stat":
      return {
        reduceOptions: { calcs: ["lastNotNull"], fields: "", values: false },
        colorMode: "value",
        graphMode: "area",
        textMode: "auto",
      };
    case "timeseries":
      return { legend: { displayMode: "list", placement: "bottom", showLegend: true }, tooltip: { mode: "multi", sort: "desc" } };
    case "logs":
      return { showTime: true, wrapLogMessage: true, sortOrder: "Descending", enableLogDetails: true, dedupStrategy: "none" };
  }
}

export interface DashboardDef {
  uid: string;
  title: string;
  description: string;
  tags?: string[];
  variables?: TemplateVariable[];
  panels: PanelDef[];
}

/** Lays panels out left to right, wrapping at 24 columns, and fills in the JSON model. */
export function buildDashboard(def: DashboardDef): DashboardJson {
  let x = 0;
  let y = 0;
  let rowHeight = 0;
  const panels = def.panels.map((panel, index): PanelJson => {
    const w = panel.width ?? defaultSize[panel.type].w;
    const h = panel.height ?? defaultSize[panel.type].h;
    if (x + w > 24) {
      x = 0;
      y += rowHeight;
      rowHeight = 0;
    }
    const gridPos = { x, y, w, h };
    x += w;
    rowHeight = Math.max(rowHeight, h);
    const datasource: DatasourceRef = { type: panel.datasource, uid: datasourceUids[panel.datasource] };
    const steps: Threshold[] = [{ color: "green", value: null }, ...(panel.thresholds ?? []).map(([value, color]) => ({ color, value }))];
    return {
      id: index + 1,
      type: panel.type,
      title: panel.title,
      ...(panel.description ? { description: panel.description } : {}),
      gridPos,
      datasource,
      targets: panel.queries.map((q, i) => ({
        refId: String.fromCharCode(65 + i),
        datasource,
        expr: q.expr,
        ...(q.legend ? { legendFormat: q.legend } : {}),
        ...(panel.type === "stat" ? { instant: true, range: false } : {}),
      })),
      fieldConfig: {
        defaults: {
          ...(panel.unit ? { unit: panel.unit } : {}),
          ...(panel.min !== undefined ? { min: panel.min } : {}),
          ...(panel.max !== undefined ? { max: panel.max } : {}),
          thresholds: { mode: "absolute", steps },
        },
        overrides: [],
      },
      options: panelOptions(panel.type),
    };
  });
  return {
    uid: def.uid,
    title: def.title,
    description: def.description,
    tags: ["ballast", ...(def.tags ?? [])],
    timezone: "utc",
    schemaVersion: 39,
    version: 1,
    editable: false,
    graphTooltip: 1,
    refresh: "1m",
    time: { from: "now-6h", to: "now" },
    templating: { list: def.variables ?? [] },
    annotations: { list: [] },
    links: [],
    panels,
  };
}

/** Every query of a dashboard with its datasource, for validation. */
export function dashboardQueries(dashboard: DashboardJson): { panel: string; datasource: DatasourceKind; expr: string }[] {
  return dashboard.panels.flatMap((panel) =>
    panel.targets.map((t) => ({ panel: panel.title, datasource: t.datasource.type, expr: t.expr })),
  );
}
