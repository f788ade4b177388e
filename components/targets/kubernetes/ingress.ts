/**
 * Public routes as Ingresses, served by our Traefik (with its ACME resolver and
 * security-headers middleware from the proxy's static and file configuration) or by
 * the cluster's own controller of `ingressClass`.
 */
import { allowListMiddleware } from "../../access";
import type { WorkloadSpec } from "../../spec";
import { stackLabels, workloadLabels, type RenderContext } from "./context";
import type { IngressClassObject, IngressObject } from "./objects";

/** Names defined by the proxy component's Traefik configuration. */
export const traefikNames = {
  httpsEntryPoint: "websecure",
  httpEntryPoint: "web",
  certResolver: "letsencrypt",
  securityHeadersMiddleware: "security-headers@file",
  controller: "traefik.io/ingress-controller",
} as const;

/**
 * Traefik annotations. The entry point and TLS switches use Traefik's standard
 * names, harmless to other controllers; the resolver and middleware exist only in
 * the Traefik we deploy (a router naming a missing middleware is dropped), so they
 * are set only then.
 */
function traefikAnnotations(ctx: RenderContext, workload: WorkloadSpec, tls: boolean): Record<string, string> {
  const router = "traefik.ingress.kubernetes.io/router";
  const ours = ctx.proxies.length > 0;
  // The allow-list (defined in the proxy's file configuration) answers first, with 403.
  const middlewares = [...(workload.route?.allowFrom ? [`${allowListMiddleware(workload.name)}@file`] : []), traefikNames.securityHeadersMiddleware];
  return {
    [`${router}.entrypoints`]: tls ? traefikNames.httpsEntryPoint : traefikNames.httpEntryPoint,
    ...(tls && { [`${router}.tls`]: "true" }),
    ...(tls && ours && { [`${router}.tls.certresolver`]: traefikNames.certResolver }),
    ...(ours && { [`${router}.middlewares`]: middlewares.join(",") }),
  };
}

export function ingress(ctx: RenderContext, workload: WorkloadSpec): IngressObject[] {
  const route = workload.route;
  if (!route) return [];
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
        annotations: traefikAnnotations(ctx, workload, tls),
      },
      spec: {
        ingressClassName: ctx.config.ingressClass,
        // Our Traefik gets certificates from ACME; another controller reads them from the named Secret.
        ...(tls && {
          tls: [{ hosts: [route.host], ...(ctx.proxies.length === 0 && { secretName: `${workload.name}-tls` }) }],
        }),
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

/** Traefik serves only Ingresses whose class names its controller; the class is ours when Traefik is. */
export function ingressClass(ctx: RenderContext): IngressClassObject[] {
  if (ctx.proxies.length === 0) return [];
  return [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "IngressClass",
      metadata: { name: ctx.config.ingressClass, labels: stackLabels(ctx.model) },
      spec: { controller: traefikNames.controller },
    },
  ];
}
