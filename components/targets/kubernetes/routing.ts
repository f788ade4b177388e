/**
 * Our Traefik's routes on Kubernetes, through its file provider (as on Compose): one file,
 * `routes.yml`, rendered into Traefik's ConfigMap next to its middlewares, routing each public
 * route to its workload's Service. Traefik then reads nothing from the Kubernetes API (no
 * ServiceAccount token, no Role): the Ingress provider it replaces had to list the Secrets of the
 * namespace it watched, which hold the database URL and the encryption key (docs/security.md, 4).
 *
 * A Service sends only to ready pods, so a release whose new pods never become ready is never
 * routed to; the old ReplicaSet keeps serving through the same Service.
 */
import { stringify } from "yaml";
import { ROUTING_MOUNT } from "../../proxy";
import type { WorkloadSpec } from "../../spec";
import { routerFor } from "../compose/routing";

/** The routes file's name in Traefik's ConfigMap (next to `dynamic.yml`, the middlewares). */
export const routesFileName = "routes.yml";

/** Every routed workload's router and load balancer; `tls` is false when the stack serves plain HTTP (`ballast:tls`). */
export function renderTraefikRoutes(workloads: WorkloadSpec[], tls: boolean): string {
  const routed = workloads.filter((workload) => workload.route).sort((a, b) => a.name.localeCompare(b.name));
  const routers: Record<string, object> = {};
  const services: Record<string, object> = {};
  for (const workload of routed) {
    const route = workload.route!;
    if (!workload.ports.some((port) => port.port === route.port)) {
      throw new Error(`workload "${workload.name}": route port ${route.port} is not one of its ports`);
    }
    routers[workload.name] = routerFor(workload.name, { ...route, tls: route.tls && tls });
    // The workload's Service in Traefik's own namespace: only ready pods behind it.
    services[workload.name] = { loadBalancer: { servers: [{ url: `http://${workload.name}:${route.port}` }] } };
  }
  const header = "# Rendered by Ballast: Traefik's routes (file provider). The middlewares they name are in dynamic.yml.";
  const http = routed.length > 0 ? { http: { routers, services } } : {};
  return `${header}\n${stringify(http, { lineWidth: 0 })}`;
}

/** The proxy with its routes file added: what the Kubernetes target renders for our Traefik. */
export function withRoutes(proxy: WorkloadSpec, workloads: WorkloadSpec[], tls: boolean): WorkloadSpec {
  const routes = { name: routesFileName, mountPath: `${ROUTING_MOUNT}/${routesFileName}`, content: renderTraefikRoutes(workloads, tls) };
  return { ...proxy, configFiles: [...proxy.configFiles.filter((file) => file.name !== routesFileName), routes] };
}
