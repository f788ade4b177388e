/**
 * Pure: a workload's health config (`ballast:app.health`, `services[].health`,
 * `workers[].health`) as the spec's readiness, liveness and deep-health checks.
 *
 * Readiness is what the Compose healthcheck and the Kubernetes readiness probe run; liveness
 * (Kubernetes liveness and startup probes) must never depend on a datastore, so a database
 * outage does not restart every pod; deep health is checked through the proxy by the release
 * gate and probed by the DeepHealthFailing alert.
 */
import type { HealthConfig } from "./config";
import { healthCheck, type HealthCheckSpec, type WorkloadSpec } from "./spec";

export function healthSpecs(
  health: HealthConfig | undefined,
  defaultPort: number | undefined,
): Pick<WorkloadSpec, "health" | "liveness" | "deepHealth"> {
  if (!health) return defaultPort === undefined ? {} : { health: healthCheck({ tcp: { port: defaultPort } }) };
  const port = health.port ?? defaultPort;
  const timing = { startPeriodSeconds: health.startPeriodSeconds };
  const http = (path: string | undefined): Pick<HealthCheckSpec, "http"> | undefined =>
    path !== undefined && port !== undefined ? { http: { path, port } } : undefined;
  const readiness = health.command ? { exec: health.command } : http(health.readiness);
  const liveness = health.command ? undefined : http(health.liveness);
  const result: Pick<WorkloadSpec, "health" | "liveness" | "deepHealth"> = {};
  if (readiness) result.health = healthCheck(readiness, timing);
  else if (port !== undefined) result.health = healthCheck({ tcp: { port } }, timing);
  if (liveness && health.liveness !== health.readiness) result.liveness = liveness;
  if (health.deep !== undefined && port !== undefined) result.deepHealth = { path: health.deep, port };
  return result;
}
