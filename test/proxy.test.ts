/** Traefik's config from the stack: redirects, private ACME directories, extra hosts; on both targets. */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { proxySpec, traefikStaticConfig } from "../components/proxy";
import { renderComposeProject } from "../components/targets/compose";
import { configFor, problemsOf } from "./fixtures/config";

const pem = "-----BEGIN CERTIFICATE-----\nMIIBdzCCAR2gAwIBAgIUPebbleTestCA\n-----END CERTIFICATE-----\n";
const pebble = {
  acmeDirectory: "https://host.docker.internal:14000/dir",
  acmeCaCertificate: pem,
  extraHosts: ["host.docker.internal:host-gateway"],
};

describe("Traefik's static config", () => {
  it.each(["compose", "kubernetes"] as const)(
    "redirects HTTP to the published HTTPS port, not the container's entrypoint port (%s)",
    (target) => {
      const config = configFor({ target, proxy: { httpsPort: 28443 } });
      const web = (
        parse(traefikStaticConfig(config)) as { entryPoints: { web: { http: { redirections: { entryPoint: { to: string } } } } } }
      ).entryPoints.web;
      expect(web.http.redirections.entryPoint).toEqual({ to: ":28443", scheme: "https", permanent: true });
    },
  );

  it("redirects to the fixed HTTPS node port behind a NodePort Service on Kubernetes", () => {
    const redirectOf = (values: Record<string, unknown>) =>
      (
        parse(traefikStaticConfig(configFor({ target: "kubernetes", ...values }))) as {
          entryPoints: { web: { http: { redirections: { entryPoint: { to: string } } } } };
        }
      ).entryPoints.web.http.redirections.entryPoint.to;
    expect(redirectOf({ kubernetes: { publicService: "NodePort", nodePorts: { http: 30080, https: 30443 } } })).toBe(":30443");
    // A node port the cluster picks is unknown here: whatever forwards to it listens on httpsPort.
    expect(redirectOf({ kubernetes: { publicService: "NodePort" } })).toBe(":443");
    expect(redirectOf({ kubernetes: { publicService: "LoadBalancer" } })).toBe(":443");
  });

  it.each(["compose", "kubernetes"] as const)("reads its routes from files and never from an API (%s)", (target) => {
    const config = configFor({ target });
    const providers = (parse(traefikStaticConfig(config)) as { providers: Record<string, unknown> }).providers;
    expect(providers).toEqual({ file: { directory: "/etc/traefik/dynamic", watch: true } });
    // No API access: no token in the pod, no Role that could read the namespace's Secrets.
    expect(proxySpec(config).security.kubernetesApi).toBeUndefined();
  });

  it.each(["compose", "kubernetes"] as const)("points the ACME resolver at a private directory and trusts its CA (%s)", (target) => {
    const config = configFor({ target, proxy: pebble });
    const acme = (parse(traefikStaticConfig(config)) as { certificatesResolvers: { letsencrypt: { acme: { caServer?: string } } } })
      .certificatesResolvers.letsencrypt.acme;
    expect(acme.caServer).toBe("https://host.docker.internal:14000/dir");
    const spec = proxySpec(config);
    expect(spec.env.LEGO_CA_CERTIFICATES).toBe("/etc/traefik/acme-ca.pem");
    expect(spec.configFiles.find((f) => f.name === "acme-ca.pem")?.content).toBe(pem);
    expect(spec.extraHosts).toEqual(target === "compose" ? ["host.docker.internal:host-gateway"] : undefined);
  });

  it("renders extra_hosts for the proxy on Compose, and only there", () => {
    const config = configFor({ proxy: pebble });
    const model = {
      project: "ballast",
      stack: "staging",
      domain: config.domain,
      workloads: [proxySpec(config)],
      secrets: [],
      allowDataLoss: false,
    };
    const document = renderComposeProject(model, { ...config.compose, localDir: "/srv/ballast" }).document;
    expect(document.services.traefik.extra_hosts).toEqual(["host.docker.internal:host-gateway"]);
  });

  it("uses Let's Encrypt by default and its staging directory on request", () => {
    const acmeOf = (proxy: Record<string, unknown>) =>
      (parse(traefikStaticConfig(configFor({ proxy }))) as { certificatesResolvers: { letsencrypt: { acme: { caServer?: string } } } })
        .certificatesResolvers.letsencrypt.acme.caServer;
    expect(acmeOf({})).toBeUndefined();
    expect(acmeOf({ acmeStaging: true })).toBe("https://acme-staging-v02.api.letsencrypt.org/directory");
  });

  it("refuses a directory that is not https, a CA that is not PEM, and both a directory and acmeStaging", () => {
    expect(problemsOf({ proxy: { acmeDirectory: "http://ca.example.com/dir" } })).toEqual([
      'ballast:proxy.acmeDirectory: must be an https:// URL of an ACME directory, or "" for Let\'s Encrypt (got "http://ca.example.com/dir")',
    ]);
    expect(problemsOf({ proxy: { acmeCaCertificate: "not a pem" } })[0]).toMatch(
      /^ballast:proxy\.acmeCaCertificate: must be a PEM certificate/,
    );
    expect(problemsOf({ proxy: { acmeStaging: true, acmeDirectory: "https://ca.example.com/dir" } })).toEqual([
      "ballast:proxy.acmeDirectory: set either acmeDirectory or acmeStaging, not both (acmeStaging is Let's Encrypt's staging directory)",
    ]);
  });
});
