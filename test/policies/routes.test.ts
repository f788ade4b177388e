import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { routesTlsOnly } from "../../policies/routes";
import { composeDocument, composeService, k8sObject, releaseCommand, validateResource } from "./harness";

function ingress(
  spec: Record<string, unknown>,
  annotations: Record<string, string> = { "traefik.ingress.kubernetes.io/router.entrypoints": "websecure" },
) {
  return k8sObject("kubernetes:networking.k8s.io/v1:Ingress", "ingress-app", { metadata: { name: "app", annotations }, spec });
}

const rule = (host?: string) => ({ ...(host !== undefined ? { host } : {}), http: { paths: [{ path: "/", pathType: "Prefix" }] } });

/** A compose service with the route Traefik serves for it (`x-ballast-route`, what routing/routers.yml holds). */
function routed(host: string, route: { entryPoints: string[]; tls?: { certResolver: string } }) {
  return composeService({ labels: { "ballast.component": "app" }, "x-ballast-route": { rule: `Host(\`${host}\`)`, ...route } });
}

describe("routes-tls-only on Kubernetes", () => {
  it("passes an Ingress whose hosts are covered by tls (exact or wildcard) on websecure", async () => {
    const ok = ingress({
      ingressClassName: "traefik",
      tls: [{ hosts: ["app.example.com", "*.example.com"], secretName: "app-tls" }],
      rules: [rule("app.example.com"), rule("grafana.example.com")],
    });
    expect(await validateResource(routesTlsOnly, ok)).toEqual([]);
  });

  it("reports uncovered hosts, host-less rules and a missing or plain-HTTP entrypoint", async () => {
    const bad = ingress(
      { ingressClassName: "traefik", tls: [{ hosts: ["*.example.com"] }], rules: [rule("a.b.example.com"), rule()] },
      { "traefik.ingress.kubernetes.io/router.entrypoints": "web,websecure" },
    );
    expect(await validateResource(routesTlsOnly, bad)).toEqual([
      'Ingress "app": host "a.b.example.com" is not covered by spec.tls; add it to a tls entry with a certificate secret',
      'Ingress "app": a rule without a host matches every name and cannot get a certificate; give every rule a host covered by spec.tls',
      'Ingress "app": annotation traefik.ingress.kubernetes.io/router.entrypoints is "web,websecure"; set it to "websecure" so Traefik serves the route over HTTPS only',
    ]);
    const noTls = ingress({ ingressClassName: "traefik", rules: [rule("app.example.com")] }, {});
    expect(await validateResource(routesTlsOnly, noTls)).toEqual([
      'Ingress "app": host "app.example.com" is not covered by spec.tls; add it to a tls entry with a certificate secret',
      'Ingress "app": annotation traefik.ingress.kubernetes.io/router.entrypoints is missing; set it to "websecure" so Traefik serves the route over HTTPS only',
    ]);
  });

  it("does not ask other ingress controllers for Traefik's annotation", async () => {
    const nginx = ingress({ ingressClassName: "nginx", tls: [{ hosts: ["app.example.com"] }], rules: [rule("app.example.com")] }, {});
    expect(await validateResource(routesTlsOnly, nginx)).toEqual([]);
  });
});

describe("routes-tls-only on Compose", () => {
  it("passes routes on websecure with a cert resolver", async () => {
    const doc = composeDocument({ app: routed("app.example.com", { entryPoints: ["websecure"], tls: { certResolver: "letsencrypt" } }) });
    expect(await validateResource(routesTlsOnly, releaseCommand(doc))).toEqual([]);
  });

  it("reports a route on the web entrypoint without a resolver, and one on no entrypoint", async () => {
    const doc = composeDocument({
      app: routed("app.example.com", { entryPoints: ["web"] }),
      grafana: routed("grafana.example.com", { entryPoints: [], tls: { certResolver: "letsencrypt" } }),
    });
    expect(await validateResource(routesTlsOnly, releaseCommand(doc))).toEqual([
      'compose service "app" (component "app") route Host(`app.example.com`): entrypoints "web"; serve it on "websecure" only (ballast:tls true)',
      'compose service "app" (component "app") route Host(`app.example.com`): has no certificate resolver; the route needs the Let\'s Encrypt resolver to get a certificate (ballast:tls true)',
      'compose service "grafana" (component "app") route Host(`grafana.example.com`): entrypoints ""; serve it on "websecure" only (ballast:tls true)',
    ]);
  });

  it("lets the dev stack serve plain HTTP through the policy config", async () => {
    const doc = composeDocument({ app: routed("app.example.com", { entryPoints: ["web"] }) });
    expect(await validateResource(routesTlsOnly, releaseCommand(doc, { remote: false }), { requireTls: false })).toEqual([]);
  });
});

describe("routes-tls-only on Traefik's routes file (Kubernetes: Ballast's Traefik routes from its ConfigMap)", () => {
  const routesMap = (routers: Record<string, unknown>) =>
    k8sObject("kubernetes:core/v1:ConfigMap", "configmap-traefik-config", {
      metadata: { name: "traefik-config", namespace: "ballast" },
      data: { "traefik.yml": "entryPoints: {}\n", "routes.yml": stringify({ http: { routers, services: {} } }) },
    });

  it("passes routers on websecure with the resolver, and ConfigMaps without routers", async () => {
    const tls = {
      rule: "Host(`app.example.com`)",
      service: "app",
      entryPoints: ["websecure"],
      tls: { certResolver: "letsencrypt" },
      middlewares: ["security-headers"],
    };
    expect(await validateResource(routesTlsOnly, routesMap({ app: tls }))).toEqual([]);
    expect(
      await validateResource(
        routesTlsOnly,
        k8sObject("kubernetes:core/v1:ConfigMap", "configmap-x", { metadata: { name: "x" }, data: { "a.yml": "key: [" } }),
      ),
    ).toEqual([]);
  });

  it("refuses a router on the web entry point without a resolver", async () => {
    const plain = { rule: "Host(`app.example.com`)", service: "app", entryPoints: ["web"] };
    expect(await validateResource(routesTlsOnly, routesMap({ app: plain }))).toEqual([
      'ConfigMap "traefik-config" routes.yml router "app" (Host(`app.example.com`)): entryPoints "web"; serve it on "websecure" only (ballast:tls true)',
      'ConfigMap "traefik-config" routes.yml router "app" (Host(`app.example.com`)): has no certificate resolver; the route needs the Let\'s Encrypt resolver to get a certificate (ballast:tls true)',
    ]);
    expect(await validateResource(routesTlsOnly, routesMap({ app: plain }), { requireTls: false })).toEqual([]);
  });
});
