/**
 * Traefik docker-provider labels for a routed workload. They rely on the lead's static
 * Traefik config: entrypoints `web` (:80) and `websecure` (:443), cert resolver
 * `letsencrypt`, `exposedByDefault: false`, and the file-provider middleware
 * `security-headers`.
 */
import type { RouteSpec } from "../../spec";

export function routerRule(route: RouteSpec): string {
  const host = `Host(\`${route.host}\`)`;
  return route.pathPrefix === "/" ? host : `${host} && PathPrefix(\`${route.pathPrefix}\`)`;
}

export function traefikLabels(routerName: string, route: RouteSpec, edgeNetwork: string): Record<string, string> {
  if (!/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/.test(route.host)) {
    throw new Error(`route of ${routerName}: host "${route.host}" is not a lower-case DNS name`);
  }
  if (!/^\/[A-Za-z0-9._~/-]*$/.test(route.pathPrefix)) {
    throw new Error(`route of ${routerName}: pathPrefix "${route.pathPrefix}" must start with / and hold only URL path characters`);
  }
  const router = `traefik.http.routers.${routerName}`;
  const labels: Record<string, string> = {
    "traefik.enable": "true",
    [`${router}.rule`]: routerRule(route),
    [`${router}.service`]: routerName,
    [`traefik.http.services.${routerName}.loadbalancer.server.port`]: String(route.port),
    // The proxy reaches services over edge; without this Traefik may pick the internal network's address.
    "traefik.docker.network": edgeNetwork,
  };
  if (route.tls) {
    labels[`${router}.entrypoints`] = "websecure";
    labels[`${router}.tls.certresolver`] = "letsencrypt";
    labels[`${router}.middlewares`] = "security-headers@file";
  } else {
    labels[`${router}.entrypoints`] = "web";
  }
  return labels;
}
