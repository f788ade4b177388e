/**
 * Who may reach a public route: source-range allow-lists, enforced by Traefik's `ipAllowList`
 * middleware (`allow-<workload>`). One source for both targets: the route spec carries the
 * ranges (Compose writes the middleware next to the routes), and the proxy's Kubernetes file
 * configuration defines the same middlewares for the Ingresses that name them.
 */
import type { PlatformConfig } from "./config";
import { restrictedRanges } from "./config/defaults";
import { monitoringNames } from "./observability/context";

/** Traefik middleware name of a route's allow-list. */
export function allowListMiddleware(workload: string): string {
  return `allow-${workload}`;
}

/** Every allow-listed route of the stack: workload name -> source ranges. */
export function routeAllowLists(config: PlatformConfig): Record<string, string[]> {
  const lists: Record<string, string[]> = {};
  const { monitoring } = config;
  if (monitoring.enabled && monitoring.grafana.enabled) {
    const grafana = restrictedRanges(monitoring.grafana.allowFrom);
    if (grafana) lists[monitoringNames.grafana] = grafana;
  }
  return lists;
}

/** Traefik dynamic configuration of the allow-list middlewares. */
export function allowListMiddlewares(lists: Record<string, string[]>): Record<string, { ipAllowList: { sourceRange: string[] } }> {
  return Object.fromEntries(
    Object.entries(lists).map(([workload, ranges]) => [allowListMiddleware(workload), { ipAllowList: { sourceRange: ranges } }]),
  );
}
