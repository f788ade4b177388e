/**
 * The Kubernetes target's keys (`ballast:kubernetes.*`) through the pipeline `pulumi up` runs:
 * defaults, the public entry point's Service type, node ports and readiness timeouts, and the exact
 * messages a stack with bad values gets.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { ObjectOfKind } from "../../components/targets/kubernetes";
import { renderStackFile } from "../../scripts/lib/render-stack";
import { configFor, problemsOf } from "../fixtures/config";
import { kubernetesObjectsOf } from "../fixtures/validators";

const onKubernetes = (kubernetes: Record<string, unknown>) => ({ target: "kubernetes", kubernetes });

describe("ballast:kubernetes readiness and entry point keys", () => {
  it("default to a LoadBalancer entry point, cluster-assigned node ports, 600 s readiness, awaited Ingress addresses", () => {
    const { kubernetes } = configFor({ target: "kubernetes" }, "prod");
    expect(kubernetes).toMatchObject({
      publicService: "LoadBalancer",
      nodePorts: { http: 0, https: 0 },
      readinessTimeoutSeconds: 600,
      awaitIngressAddress: true,
      progressDeadlineSeconds: 240,
    });
  });

  it("accept a NodePort entry point with fixed ports, and a ClusterIP one behind an existing ingress", () => {
    expect(configFor(onKubernetes({ publicService: "NodePort", nodePorts: { http: 30080 } }), "prod").kubernetes.nodePorts).toEqual({
      http: 30080,
      https: 0,
    });
    expect(configFor(onKubernetes({ publicService: "ClusterIP", awaitIngressAddress: false }), "prod").kubernetes.publicService).toBe(
      "ClusterIP",
    );
  });

  it.each([
    [
      { publicService: "HostPort" },
      'ballast:kubernetes.publicService: must be one of "LoadBalancer", "NodePort", "ClusterIP" (got "HostPort")',
    ],
    [
      { nodePorts: { http: 30080 } },
      'ballast:kubernetes.nodePorts: node ports are only used with ballast:kubernetes.publicService NodePort (it is LoadBalancer); set them to 0 or change publicService (got {"http":30080,"https":0})',
    ],
    [
      { publicService: "NodePort", nodePorts: { http: 80 } },
      "ballast:kubernetes.nodePorts.http: must be a node port between 30000 and 32767, or 0 for one the cluster assigns (got 80)",
    ],
    [
      { publicService: "NodePort", nodePorts: { http: 30080, https: 30080 } },
      'ballast:kubernetes.nodePorts: http and https need different node ports (got {"http":30080,"https":30080})',
    ],
    [{ readinessTimeoutSeconds: 10 }, "ballast:kubernetes.readinessTimeoutSeconds: must be at least 60 (got 10)"],
    [{ awaitIngressAddress: "yes" }, 'ballast:kubernetes.awaitIngressAddress: expected boolean (got "yes")'],
  ])("refuse %j with the key, the value and what is allowed", (kubernetes, message) => {
    expect(problemsOf(onKubernetes(kubernetes), "prod")).toEqual([message]);
  });

  it("limit internet egress to HTTPS by default, and refuse no port or an external Postgres the ports leave out", () => {
    expect(configFor({ target: "kubernetes" }, "prod").kubernetes.internetEgressPorts).toEqual([443]);
    expect(configFor(onKubernetes({ internetEgressPorts: [443, 587] }), "prod").kubernetes.internetEgressPorts).toEqual([443, 587]);
    expect(problemsOf(onKubernetes({ internetEgressPorts: [] }), "prod")).toEqual([
      "ballast:kubernetes.internetEgressPorts: must list at least one port (443 for HTTPS APIs) (got [])",
    ]);
    expect(problemsOf(onKubernetes({ internetEgressPorts: [70000] }), "prod")).toEqual([
      "ballast:kubernetes.internetEgressPorts[0]: must be at most 65535 (got 70000)",
    ]);
    const external = {
      target: "kubernetes",
      postgres: { external: true },
      secretValues: { "database-url": "postgres://u:p@db.example.com:5432/app" },
    };
    expect(problemsOf(external, "prod")).toContain(
      "ballast:kubernetes.internetEgressPorts: [443] lets the app reach public addresses on HTTPS only, but ballast:postgres.external is true: add the external database's port (5432, or 6543 for Supabase's pooler)",
    );
    expect(configFor({ ...external, kubernetes: { internetEgressPorts: [443, 5432] } }, "prod").kubernetes.internetEgressPorts).toEqual([
      443, 5432,
    ]);
  });

  it("the all-features fixture renders its NodePort entry point with the fixed ports", async () => {
    const fixture = join(__dirname, "..", "fixtures", "Pulumi.all-features.yaml");
    const stack = await renderStackFile(fixture, "all-features", {
      "ballast:target": "kubernetes",
      "ballast:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nall-features-test-key\n-----END OPENSSH PRIVATE KEY-----",
    });
    const service = kubernetesObjectsOf(stack.files).find(
      (object): object is ObjectOfKind<"Service"> => object.kind === "Service" && object.metadata.name === "traefik-public",
    );
    expect(service?.spec?.type).toBe("NodePort");
    expect(service?.spec?.ports?.map((port) => [port.name, port.nodePort])).toEqual([
      ["web", 30080],
      ["websecure", 30443],
    ]);
  });
});
