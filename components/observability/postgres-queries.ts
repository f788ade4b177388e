/**
 * postgres-exporter custom queries (`queries.yaml`, passed with `--extend.query-path`):
 * backup and restore-drill freshness read from the live table the backup job writes,
 * `ballast.backup_runs (id, kind 'backup'|'drill', started_at, finished_at, ok, bytes, detail)`.
 *
 * The table may not exist yet (a fresh stack before its first backup). A query that names a
 * missing table fails at parse time whatever guards it, so the table is read through
 * `query_to_xml`, which plans its SQL only when `to_regclass` has found the table. Missing
 * table or no successful run yields 0 ("never"), which makes the freshness alerts fire: a
 * stack without a good backup is exactly what they are for.
 */
import { toYaml } from "./yaml";

export interface CustomQueryMetric {
  /** Column name; the metric is `<namespace>_<column>`. */
  column: string;
  usage: "GAUGE" | "COUNTER" | "LABEL";
  description: string;
}

export interface CustomQuery {
  /** Metric namespace (prefix). */
  namespace: string;
  sql: string;
  metrics: CustomQueryMetric[];
}

/** Shape of one entry of postgres-exporter's queries file. */
interface QueriesFileEntry {
  query: string;
  master: boolean;
  cache_seconds: number;
  metrics: Record<string, { usage: CustomQueryMetric["usage"]; description: string }>[];
}

export const backupRunsTable = "ballast.backup_runs";

/** One scalar read from `backup_runs`, NULL-safe and safe when the table is missing. */
function guardedScalar(innerSql: string): string {
  const quoted = innerSql.replace(/'/g, "''");
  return (
    `COALESCE(CASE WHEN to_regclass('${backupRunsTable}') IS NOT NULL THEN ` +
    `(xpath('/row/v/text()', query_to_xml('${quoted}', false, true, '')))[1]::text::double precision END, 0)`
  );
}

const lastSuccess = (kind: "backup" | "drill") =>
  `SELECT extract(epoch FROM max(finished_at)) AS v FROM ${backupRunsTable} WHERE kind = '${kind}' AND ok AND finished_at IS NOT NULL`;

// An aggregate, so the inner query returns one row even when no drill matched: an empty
// result would make query_to_xml return an empty document that xpath cannot parse.
const lastDrillDuration =
  `SELECT extract(epoch FROM (array_agg(finished_at - started_at ORDER BY finished_at DESC))[1]) AS v FROM ${backupRunsTable} ` +
  `WHERE kind = 'drill' AND ok AND finished_at IS NOT NULL`;

export const backupQueries: CustomQuery[] = [
  {
    namespace: "ballast_backup",
    sql: `SELECT ${guardedScalar(lastSuccess("backup"))} AS last_success_timestamp_seconds`,
    metrics: [
      {
        column: "last_success_timestamp_seconds",
        usage: "GAUGE",
        description: "Unix time the last successful backup finished (0: none recorded).",
      },
    ],
  },
  {
    namespace: "ballast_restore_drill",
    sql:
      `SELECT ${guardedScalar(lastSuccess("drill"))} AS last_success_timestamp_seconds, ` +
      `${guardedScalar(lastDrillDuration)} AS last_duration_seconds`,
    metrics: [
      {
        column: "last_success_timestamp_seconds",
        usage: "GAUGE",
        description: "Unix time the last successful restore drill finished (0: none recorded).",
      },
      {
        column: "last_duration_seconds",
        usage: "GAUGE",
        description: "Seconds the last successful restore drill took (0: none recorded).",
      },
    ],
  },
];

/** Metric names the custom queries expose (`ballast_backup_last_success_timestamp_seconds` ...). */
export function customQueryMetricNames(queries: CustomQuery[] = backupQueries): string[] {
  return queries.flatMap((q) => q.metrics.filter((m) => m.usage !== "LABEL").map((m) => `${q.namespace}_${m.column}`));
}

/** Pure: the `queries.yaml` file text. */
export function renderPostgresExporterQueries(queries: CustomQuery[] = backupQueries): string {
  const file: Record<string, QueriesFileEntry> = {};
  for (const q of queries) {
    file[q.namespace] = {
      query: q.sql,
      // Only the primary holds the live table; a replica would report stale freshness.
      master: true,
      // The table changes a few times a day; one read a minute is plenty.
      cache_seconds: 60,
      metrics: q.metrics.map((m) => ({ [m.column]: { usage: m.usage, description: m.description } })),
    };
  }
  return toYaml(file, "Rendered by Ballast (components/observability/postgres-queries.ts). Do not edit.");
}
