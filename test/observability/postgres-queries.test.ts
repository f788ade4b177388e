import { PGlite } from "@electric-sql/pglite";
import { parse } from "yaml";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { backupQueries, customQueryMetricNames, renderPostgresExporterQueries } from "../../components/observability/postgres-queries";

interface QueriesFile {
  [namespace: string]: { query: string; master: boolean; metrics: Record<string, { usage: string; description: string }>[] };
}

const file = parse(renderPostgresExporterQueries()) as QueriesFile;

/** Runs every query of the rendered file and returns metric name -> value, as postgres-exporter would. */
async function scrape(db: PGlite): Promise<Record<string, number>> {
  const values: Record<string, number> = {};
  for (const [namespace, entry] of Object.entries(file)) {
    const result = await db.query<Record<string, number>>(entry.query);
    expect(result.rows).toHaveLength(1);
    for (const metric of entry.metrics) {
      const column = Object.keys(metric)[0];
      values[`${namespace}_${column}`] = Number(result.rows[0][column]);
    }
  }
  return values;
}

describe("postgres-exporter queries.yaml", () => {
  it("exposes the three backup freshness metrics as gauges", () => {
    expect(customQueryMetricNames()).toEqual([
      "ballast_backup_last_success_timestamp_seconds",
      "ballast_restore_drill_last_success_timestamp_seconds",
      "ballast_restore_drill_last_duration_seconds",
    ]);
    for (const entry of Object.values(file)) {
      expect(entry.master).toBe(true);
      for (const metric of entry.metrics) expect(Object.values(metric)[0].usage).toBe("GAUGE");
    }
    expect(Object.keys(file)).toEqual(backupQueries.map((q) => q.namespace));
  });

  describe("against a real PostgreSQL (PGlite)", () => {
    let db: PGlite;
    beforeAll(async () => {
      db = new PGlite();
      await db.waitReady;
    });
    afterAll(async () => {
      await db.close();
    });

    it("reports 0 (never) while the table does not exist yet", async () => {
      expect(await scrape(db)).toEqual({
        ballast_backup_last_success_timestamp_seconds: 0,
        ballast_restore_drill_last_success_timestamp_seconds: 0,
        ballast_restore_drill_last_duration_seconds: 0,
      });
    });

    it("reports 0 for an empty table", async () => {
      await db.exec(`
        CREATE SCHEMA ballast;
        CREATE TABLE ballast.backup_runs (
          id bigserial PRIMARY KEY,
          kind text CHECK (kind IN ('backup', 'drill')),
          started_at timestamptz,
          finished_at timestamptz,
          ok boolean,
          bytes bigint,
          detail text
        );`);
      expect(Object.values(await scrape(db))).toEqual([0, 0, 0]);
    });

    it("reports the last successful backup and drill, ignoring failures and unfinished runs", async () => {
      await db.exec(`
        INSERT INTO ballast.backup_runs (kind, started_at, finished_at, ok, bytes, detail) VALUES
          ('backup', '2026-01-20 02:00:00+00', '2026-01-20 02:05:00+00', true,  1000, 'nightly'),
          ('backup', '2026-01-21 02:00:00+00', '2026-01-21 02:04:00+00', false, 0,    'disk full'),
          ('backup', '2026-01-21 03:00:00+00', NULL,                      NULL,  NULL, 'running'),
          ('drill',  '2026-01-10 04:00:00+00', '2026-01-10 04:12:30+00', true,  1000, 'monthly drill'),
          ('drill',  '2026-01-15 04:00:00+00', '2026-01-15 04:01:00+00', false, 0,    'restore failed');`);
      expect(await scrape(db)).toEqual({
        ballast_backup_last_success_timestamp_seconds: Date.parse("2026-01-20T02:05:00Z") / 1000,
        ballast_restore_drill_last_success_timestamp_seconds: Date.parse("2026-01-10T04:12:30Z") / 1000,
        ballast_restore_drill_last_duration_seconds: 750,
      });
    });
  });
});
