/** Datastore dashboards: PostgreSQL (with backup and restore-drill freshness) and Redis. */
import { buildDashboard, stat, timeseries, type DashboardJson } from "./builder";

export function postgresDashboard(): DashboardJson {
  return buildDashboard({
    uid: "ballast-postgres",
    title: "PostgreSQL",
    description: "Availability, connections, throughput, cache and locks of PostgreSQL; backup and restore-drill freshness.",
    panels: [
      stat("Up", "min(pg_up)", { thresholds: [[1, "green"]] }),
      stat("Connections used", "100 * sum(pg_stat_activity_count) / max(pg_settings_max_connections)", {
        unit: "percent",
        thresholds: [[80, "red"]],
      }),
      stat("Database size", "sum(pg_database_size_bytes)", { unit: "bytes" }),
      stat("Last good backup", "max(ballast_backup_last_success_timestamp_seconds) * 1000", { unit: "dateTimeFromNow" }),
      stat("Last restore drill", "max(ballast_restore_drill_last_success_timestamp_seconds) * 1000", { unit: "dateTimeFromNow" }),
      stat("Last drill duration", "max(ballast_restore_drill_last_duration_seconds)", { unit: "s", thresholds: [[900, "red"]] }),
      timeseries("Connections by state", [{ expr: "sum by (state) (pg_stat_activity_count)", legend: "{{state}}" }]),
      timeseries(
        "Transactions per second",
        [
          { expr: "sum(rate(pg_stat_database_xact_commit[5m]))", legend: "commits" },
          { expr: "sum(rate(pg_stat_database_xact_rollback[5m]))", legend: "rollbacks" },
        ],
        { unit: "ops" },
      ),
      timeseries(
        "Cache hit ratio",
        [
          {
            expr: "100 * sum(rate(pg_stat_database_blks_hit[5m])) / (sum(rate(pg_stat_database_blks_hit[5m])) + sum(rate(pg_stat_database_blks_read[5m])))",
            legend: "hit %",
          },
        ],
        { unit: "percent", max: 100 },
      ),
      timeseries("Longest open transaction", [{ expr: "max(pg_stat_activity_max_tx_duration)", legend: "seconds" }], { unit: "s" }),
      timeseries("Locks by mode", [{ expr: "sum by (mode) (pg_locks_count)", legend: "{{mode}}" }]),
      timeseries("Deadlocks", [{ expr: "sum(increase(pg_stat_database_deadlocks[5m]))", legend: "deadlocks" }]),
      timeseries("Backup age", [{ expr: "(time() - max(ballast_backup_last_success_timestamp_seconds)) / 3600", legend: "hours" }]),
    ],
  });
}

export function redisDashboard(): DashboardJson {
  return buildDashboard({
    uid: "ballast-redis",
    title: "Redis",
    description: "Availability, memory against maxmemory, clients, throughput, hit ratio and evictions of Redis.",
    panels: [
      stat("Up", "min(redis_up)"),
      stat("Memory used of maxmemory", "100 * sum(redis_memory_used_bytes) / sum(redis_memory_max_bytes > 0)", {
        unit: "percent",
        thresholds: [[90, "red"]],
      }),
      stat("Connected clients", "sum(redis_connected_clients)"),
      stat("Keys", "sum(redis_db_keys)"),
      timeseries(
        "Memory",
        [
          { expr: "sum(redis_memory_used_bytes)", legend: "used" },
          { expr: "sum(redis_memory_max_bytes)", legend: "maxmemory" },
        ],
        { unit: "bytes" },
      ),
      timeseries("Commands per second", [{ expr: "sum(rate(redis_commands_processed_total[5m]))", legend: "commands" }], { unit: "ops" }),
      timeseries(
        "Hit ratio",
        [
          {
            expr: "100 * sum(rate(redis_keyspace_hits_total[5m])) / (sum(rate(redis_keyspace_hits_total[5m])) + sum(rate(redis_keyspace_misses_total[5m])))",
            legend: "hit %",
          },
        ],
        { unit: "percent", max: 100 },
      ),
      timeseries(
        "Evictions and rejected connections",
        [
          { expr: "sum(rate(redis_evicted_keys_total[5m]))", legend: "evicted keys" },
          { expr: "sum(rate(redis_rejected_connections_total[5m]))", legend: "rejected connections" },
        ],
        { unit: "ops" },
      ),
      timeseries("Keys by database", [{ expr: "sum by (db) (redis_db_keys)", legend: "{{db}}" }]),
    ],
  });
}
