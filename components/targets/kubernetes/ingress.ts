/**
 * Public routes as Ingresses, for the cluster's own controller of `ingressClass` (`deployTraefik:
 * false`). Our Traefik gets its routes from a file instead (./routing.ts) and reads no Ingress:
 * the Ingress provider would need the namespace's Secrets.
 */
import type { WorkloadSpec } from "../../spec";
import { workloadLabels, type RenderContext } from "./context";
import type { IngressObject } from "./objects";

/** Entry point names of Traefik's static configuration (components/proxy.ts). */
export const traefikNames = {
  httpsEntryPoint: "websecure",
  httpEntryPoint: "web",
} as const;

/**
 * Traefik's entry point and TLS annotations: its standard names, harmless to other controllers
 * (a Traefik the cluster runs itself reads them).
 */
function traefikAnnotations(tls: boolean): Record<string, string> {
  const router = "traefik.ingress.kubernetes.io/router";
  return {
    [`${router}.entrypoints`]: tls ? traefikNames.httpsEntryPoint : traefikNames.httpEntryPoint,
    ...(tls && { [`${router}.tls`]: "true" }),
  };
}

export function ingress(ctx: RenderContext, workload: WorkloadSpec): IngressObject[] {
  const route = workload.route;
  // Our Traefik routes from its file (./routing.ts): no Ingress, which it would not read.
  if (!route || ctx.proxies.length > 0) return [];
  if (!workload.ports.some((port) => port.port === route.port)) {
    throw new Error(`workload "${workload.name}": route port ${route.port} is not one of its ports`);
  }
  const tls = route.tls && ctx.tls;
  return [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "Ingress",
      metadata: {
        name: workload.name,
        namespace: ctx.namespace,
        labels: workloadLabels(ctx.model, workload),
        annotations: traefikAnnotations(tls),
      },
      spec: {
        ingressClassName: ctx.config.ingressClass,
        // The cluster's controller reads the certificate from the named Secret.
        ...(tls && { tls: [{ hosts: [route.host], secretName: `${workload.name}-tls` }] }),
        rules: [
          {
            host: route.host,
            http: {
              paths: [
                {
                  path: route.pathPrefix,
                  pathType: "Prefix",
                  backend: { service: { name: workload.name, port: { number: route.port } } },
                },
              ],
            },
          },
        ],
      },
    },
  ];
}
