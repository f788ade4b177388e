/**
 * Traefik's routes on Compose, through its file provider (no Docker socket on the edge):
 * the proxy watches one directory on the host, `<base>/routing`, mounted read-only.
 *
 * - `routers.yml` comes with each release (rendered here): every public route, the
 *   security-headers middleware, TLS options, and the load balancers of routed singletons
 *   (Grafana, a service with storage), which have one container reachable by service name.
 * - `service-<name>.yml` is written by deploy.sh for each rolling routed service: the exact
 *   containers that serve it. Switching those files is how a release moves traffic to new
 *   containers, and back on a rollback.
 */
import { allowListMiddleware, allowListMiddlewares } from "../../access";
import { stringify } from "yaml";
import type { RouteSpec, StackModel, WorkloadSpec } from "../../spec";
import { isRolling } from "./release";

/** Where the release carries its routers, and the file name deploy.sh installs it under. */
export const ROUTERS_FILE = "routing/routers.yml";

export function routerRule(route: RouteSpec): string {
  const host = `Host(\`${route.host}\`)`;
  return route.pathPrefix === "/" ? host : `${host} && PathPrefix(\`${route.pathPrefix}\`)`;
}

function checkRoute(name: string, route: RouteSpec): void {
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(route.host))
    throw new Error(`route of ${name}: host "${route.host}" is not a lower-case DNS name`);
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(route.pathPrefix)) {
    throw new Error(`route of ${name}: pathPrefix "${route.pathPrefix}" must start with / and hold only URL path characters`);
  }
}

/** Traefik's load-balancer health check from a workload's readiness (HTTP) check. */
export function loadBalancerHealthCheck(workload: WorkloadSpec): { path: string; interval: string; timeout: string } | undefined {
  const http = workload.health?.http;
  return http ? { path: http.path, interval: "5s", timeout: `${workload.health?.timeoutSeconds ?? 5}s` } : undefined;
}

/** The router of one route: what routers.yml holds for it, and what the compose file records as `x-ballast-route`. */
export function routerFor(
  name: string,
  route: RouteSpec,
): { rule: string; service: string; entryPoints: string[]; tls?: { certResolver: string }; middlewares?: string[] } {
  checkRoute(name, route);
  // The allow-list answers first (403), before any header or the app sees the request.
  const allow = route.allowFrom ? [allowListMiddleware(name)] : [];
  return {
    rule: routerRule(route),
    service: name,
    ...(route.tls
      ? { entryPoints: ["websecure"], tls: { certResolver: "letsencrypt" }, middlewares: [...allow, "security-headers"] }
      : { entryPoints: ["web"], ...(allow.length > 0 && { middlewares: allow }) }),
  };
}

/** Pure: the release's `routing/routers.yml`. */
export function renderRouters(model: StackModel): string {
  const routed = model.workloads.filter((w) => w.route).sort((a, b) => a.name.localeCompare(b.name));
  const routers: Record<string, object> = {};
  const services: Record<string, object> = {};
  for (const workload of routed) {
    const route = workload.route!;
    routers[workload.name] = routerFor(workload.name, route);
    if (!isRolling(workload)) {
      const healthCheck = loadBalancerHealthCheck(workload);
      services[workload.name] = {
        loadBalancer: { servers: [{ url: `http://${workload.name}:${route.port}` }], ...(healthCheck ? { healthCheck } : {}) },
      };
    }
  }
  const http: Record<string, object> = {
    routers,
    middlewares: {
      "security-headers": {
        headers: {
          stsSeconds: 31536000,
          stsIncludeSubdomains: true,
          stsPreload: true,
          forceSTSHeader: true,
          contentTypeNosniff: true,
          frameDeny: true,
          referrerPolicy: "strict-origin-when-cross-origin",
        },
      },
      ...allowListMiddlewares(Object.fromEntries(routed.flatMap((w) => (w.route?.allowFrom ? [[w.name, w.route.allowFrom]] : [])))),
    },
  };
  if (Object.keys(services).length > 0) http.services = services;
  const header = [
    `# Rendered by Ballast for stack ${model.stack}: Traefik's routes (file provider, ${"<base>"}/routing/routers.yml).`,
    "# The containers of each rolling service are in service-<name>.yml, written by deploy.sh at the switch.",
  ].join("\n");
  return `${header}\n${stringify({ http, tls: { options: { default: { minVersion: "VersionTLS12" } } } }, { lineWidth: 0 })}`;
}
