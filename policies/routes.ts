/**
 * Public routes are TLS-only.
 *
 * - Kubernetes Ingress: every rule host is covered by `spec.tls`, and an Ingress served by
 *   Traefik listens on the `websecure` entrypoint only
 *   (`traefik.ingress.kubernetes.io/router.entrypoints: websecure`).
 * - Kubernetes, Ballast's Traefik: every router of a Traefik routes file in a ConfigMap (`http.routers`,
 *   what components/targets/kubernetes/routing.ts renders) is on `websecure` with a `tls.certResolver`.
 * - Compose: every route Traefik serves (the service's `x-ballast-route`, what routing/routers.yml holds) has
 *   `entrypoints=websecure` and a `tls.certresolver`.
 *
 * The dev stack serves plain HTTP on localhost: its pack config sets `requireTls: false`.
 */
import { composeComponentLabel, serviceLabels, serviceRoute } from "./lib/compose";
import { k8sTypes, objectName } from "./lib/kubernetes";
import { resourcePolicy } from "./lib/policy";
import { parse as parseYaml } from "yaml";
import { asArray, asObject, asString, at, isUnknown, stringMap } from "./lib/values";
import type { ResourceView } from "./lib/view";
import { workloadsOf } from "./lib/workloads";

export interface RoutesConfig {
  /** False only for the local dev stack (plain HTTP on localhost). */
  requireTls: boolean;
  /** Ingress classes served by Traefik, whose Ingresses must name the websecure entrypoint. */
  traefikIngressClasses: string[];
  /** The TLS entrypoint's name. */
  tlsEntrypoint: string;
}

export const routesDefaults: RoutesConfig = { requireTls: true, traefikIngressClasses: ["traefik"], tlsEntrypoint: "websecure" };

export const traefikEntrypointsAnnotation = "traefik.ingress.kubernetes.io/router.entrypoints";

function hostCovered(host: string, tlsHosts: string[]): boolean {
  return tlsHosts.some(
    (h) => h === host || (h.startsWith("*.") && host.endsWith(h.slice(1)) && !host.slice(0, -h.length + 1).includes(".")),
  );
}

function checkIngress(resource: ResourceView, config: RoutesConfig): string[] {
  const where = `Ingress "${objectName(resource.props, resource.name)}"`;
  const messages: string[] = [];
  const tlsHosts = asArray(at(resource.props, "spec", "tls")).flatMap((t) =>
    asArray(at(t, "hosts")).filter((h): h is string => typeof h === "string"),
  );
  for (const rule of asArray(at(resource.props, "spec", "rules"))) {
    const host = at(rule, "host");
    if (isUnknown(host)) continue;
    if (typeof host !== "string" || host === "") {
      messages.push(
        `${where}: a rule without a host matches every name and cannot get a certificate; give every rule a host covered by spec.tls`,
      );
    } else if (!hostCovered(host, tlsHosts)) {
      messages.push(`${where}: host "${host}" is not covered by spec.tls; add it to a tls entry with a certificate secret`);
    }
  }
  const annotations = stringMap(at(resource.props, "metadata", "annotations"));
  const ingressClass = asString(at(resource.props, "spec", "ingressClassName")) ?? annotations["kubernetes.io/ingress.class"];
  if (ingressClass !== undefined && config.traefikIngressClasses.includes(ingressClass)) {
    const entrypoints = annotations[traefikEntrypointsAnnotation];
    const list = (entrypoints ?? "")
      .split(",")
      .map((e) => e.trim())
      .filter(Boolean);
    if (list.length === 0 || list.some((e) => e !== config.tlsEntrypoint)) {
      messages.push(
        `${where}: annotation ${traefikEntrypointsAnnotation} is ${entrypoints === undefined ? "missing" : `"${entrypoints}"`}; set it to "${config.tlsEntrypoint}" so Traefik serves the route over HTTPS only`,
      );
    }
  }
  return messages;
}

/** Traefik routers in a ConfigMap's files (the file provider's YAML), by file. */
function configMapRouters(resource: ResourceView): { file: string; name: string; router: unknown }[] {
  const data = stringMap(at(resource.props, "data"));
  return Object.entries(data).flatMap(([file, text]) => {
    if (!/\.ya?ml$/.test(file) || typeof text !== "string") return [];
    let parsed: unknown;
    try {
      parsed = parseYaml(text);
    } catch {
      return [];
    }
    const routers = asObject(at(parsed, "http", "routers")) ?? {};
    return Object.entries(routers).map(([name, router]) => ({ file, name, router }));
  });
}

function checkConfigMapRoutes(resource: ResourceView, config: RoutesConfig): string[] {
  const messages: string[] = [];
  for (const { file, name, router } of configMapRouters(resource)) {
    const where = `ConfigMap "${objectName(resource.props, resource.name)}" ${file} router "${name}" (${asString(at(router, "rule")) ?? "?"})`;
    const entryPoints = asArray(at(router, "entryPoints")).filter((e): e is string => typeof e === "string");
    if (entryPoints.length === 0 || entryPoints.some((e) => e !== config.tlsEntrypoint)) {
      messages.push(
        `${where}: entryPoints ${JSON.stringify(entryPoints.join(","))}; serve it on "${config.tlsEntrypoint}" only (ballast:tls true)`,
      );
    }
    const resolver = asString(at(router, "tls", "certResolver"));
    if (resolver === undefined || resolver.trim() === "") {
      messages.push(
        `${where}: has no certificate resolver; the route needs the Let's Encrypt resolver to get a certificate (ballast:tls true)`,
      );
    }
  }
  return messages;
}

export function checkRoutes(resource: ResourceView, config: RoutesConfig): string[] {
  if (!config.requireTls) return [];
  if (resource.type === k8sTypes.ingress) return checkIngress(resource, config);
  if (resource.type === k8sTypes.configMap) return checkConfigMapRoutes(resource, config);
  const found = workloadsOf(resource);
  if (!found || found.target !== "compose") return [];
  const messages: string[] = [];
  for (const service of found.services) {
    const route = serviceRoute(service);
    if (!route) continue;
    const component = serviceLabels(service)[composeComponentLabel];
    const where = `${service.title}${component ? ` (component "${component}")` : ""} route ${route.rule ?? "?"}`;
    if (route.entryPoints.length === 0 || route.entryPoints.some((e) => e !== config.tlsEntrypoint)) {
      messages.push(
        `${where}: entrypoints ${JSON.stringify(route.entryPoints.join(","))}; serve it on "${config.tlsEntrypoint}" only (ballast:tls true)`,
      );
    }
    if (route.certResolver === undefined || route.certResolver.trim() === "") {
      messages.push(
        `${where}: has no certificate resolver; the route needs the Let's Encrypt resolver to get a certificate (ballast:tls true)`,
      );
    }
  }
  return messages;
}

export const routesTlsOnly = resourcePolicy<RoutesConfig>({
  name: "routes-tls-only",
  description:
    "Public routes are HTTPS-only: Ingress hosts covered by spec.tls on Traefik's websecure entrypoint; Traefik routers (Compose, and the routes file of a Kubernetes ConfigMap) on websecure with a tls.certresolver. requireTls: false for the local dev stack.",
  enforcementLevel: "mandatory",
  defaults: routesDefaults,
  configSchema: {
    properties: {
      requireTls: { type: "boolean", description: "False only for the local dev stack." },
      traefikIngressClasses: { type: "array", items: { type: "string" }, description: "Ingress classes served by Traefik." },
      tlsEntrypoint: { type: "string", description: "Name of Traefik's TLS entrypoint." },
    },
  },
  check: checkRoutes,
});
