import { describe, expect, it } from "vitest";
import { datastoresNetworkPolicy, datastoresPrivate } from "../../policies/datastores";
import {
  composeDocument,
  composeService,
  container,
  cronJob,
  deployment,
  k8sObject,
  releaseCommand,
  statefulSet,
  validateResource,
  validateStack,
} from "./harness";

const postgres = composeService({
  image: "pgvector/pgvector:pg16",
  labels: { "ballast.component": "postgres", "ballast.role": "stateful" },
});

function service(name: string, spec: Record<string, unknown>, labels: Record<string, string> = { "app.kubernetes.io/component": name }) {
  return k8sObject("kubernetes:core/v1:Service", `service-${name}`, {
    metadata: { name, labels },
    spec: { selector: { "app.kubernetes.io/name": name }, ...spec },
  });
}

describe("datastores-private on Compose", () => {
  it("passes datastores on the internal network only, and exporters named after them", async () => {
    const doc = composeDocument({
      postgres,
      redis: composeService({ image: "redis:7-alpine", labels: {} }),
      "postgres-exporter": composeService({
        image: "prometheuscommunity/postgres-exporter:v0.15.0",
        networks: ["edge", "internal"],
        labels: {},
      }),
      traefik: composeService({
        image: "traefik:v3.7.13",
        ports: ["80:8000", "443:8443"],
        networks: ["edge"],
        labels: { "ballast.component": "proxy" },
      }),
    });
    expect(await validateResource(datastoresPrivate, releaseCommand(doc))).toEqual([]);
  });

  it("reports published ports, the edge network, non-internal networks and host networking", async () => {
    const doc = composeDocument(
      {
        postgres: { ...postgres, ports: ["5432:5432"], networks: ["edge", "backend"] },
        redis: composeService({ image: "redis", labels: {}, networks: undefined, network_mode: "host" }),
        cache: composeService({ image: "redis:7-alpine", labels: {}, networks: undefined }),
      },
      { networks: { edge: { driver: "bridge" }, backend: { driver: "bridge" } } },
    );
    expect(await validateResource(datastoresPrivate, releaseCommand(doc))).toEqual([
      'compose service "postgres" (datastore): publishes ports 5432:5432; a published port bypasses ufw and reaches the internet. Remove "ports:" (other services reach it over the internal network)',
      'compose service "postgres" (datastore): joins the public network "edge"; datastores join only the internal network',
      'compose service "postgres" (datastore): network "backend" is not declared "internal: true"; put datastores on an internal network only',
      'compose service "redis" (datastore): network_mode "host"; datastores join only the internal network',
      'compose service "cache" (datastore): network "default" is not declared "internal: true"; put datastores on an internal network only',
    ]);
  });

  it("does not treat jobs that run the postgres image as datastores", async () => {
    const doc = composeDocument({
      backup: composeService({
        image: "pgvector/pgvector:pg16",
        networks: ["edge", "internal"],
        labels: { "ballast.component": "backups", "ballast.role": "job" },
      }),
      "pgvector-ensure": composeService({
        image: "pgvector/pgvector:pg16",
        networks: ["edge"],
        labels: { "ballast.component": "postgres", "ballast.role": "job" },
      }),
    });
    expect(await validateResource(datastoresPrivate, releaseCommand(doc))).toEqual([]);
  });
});

describe("datastores-private on Kubernetes", () => {
  it("passes ClusterIP datastore Services and public non-datastore Services", async () => {
    expect(await validateResource(datastoresPrivate, service("postgres", { type: "ClusterIP", ports: [{ port: 5432 }] }))).toEqual([]);
    expect(await validateResource(datastoresPrivate, service("redis", { ports: [{ port: 6379 }] }))).toEqual([]);
    expect(
      await validateResource(datastoresPrivate, service("traefik", { type: "LoadBalancer" }, { "app.kubernetes.io/component": "proxy" })),
    ).toEqual([]);
  });

  it("reports NodePort/LoadBalancer, externalIPs and nodePorts on datastore Services", async () => {
    const bad = service("postgres", { type: "NodePort", externalIPs: ["198.51.100.7"], ports: [{ port: 5432, nodePort: 30432 }] });
    expect(await validateResource(datastoresPrivate, bad)).toEqual([
      'Service "postgres" (datastore): type NodePort exposes the datastore outside the cluster; use type ClusterIP',
      'Service "postgres" (datastore): externalIPs expose the datastore outside the cluster; remove them',
      'Service "postgres" (datastore): port 5432 has nodePort 30432; remove it',
    ]);
    const byName = service("redis", { type: "LoadBalancer" }, {});
    expect(await validateResource(datastoresPrivate, byName)).toEqual([
      'Service "redis" (datastore): type LoadBalancer exposes the datastore outside the cluster; use type ClusterIP',
    ]);
  });

  it("reports hostPort and hostNetwork on datastore pods", async () => {
    const bad = statefulSet({
      name: "redis",
      component: "redis",
      containers: [container({ name: "redis", image: "redis:7-alpine", ports: [{ containerPort: 6379, hostPort: 6379 }] })],
      pod: { hostNetwork: true },
    });
    expect(await validateResource(datastoresPrivate, bad)).toEqual([
      'StatefulSet "redis" (datastore): hostNetwork puts the datastore on the node\'s network; remove it',
      'StatefulSet "redis" (datastore) container "redis": hostPort 6379 publishes the datastore on the node; remove it',
    ]);
  });
});

describe("datastores-network-policy", () => {
  const pg = statefulSet({ name: "postgres", component: "postgres", labels: { "app.kubernetes.io/part-of": "ballast" } });
  const restrictive = k8sObject("kubernetes:networking.k8s.io/v1:NetworkPolicy", "networkpolicy-postgres", {
    metadata: { name: "postgres", namespace: "ballast" },
    spec: {
      podSelector: { matchLabels: { "app.kubernetes.io/name": "postgres" } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "app" } } }], ports: [{ port: 5432 }] }],
    },
  });

  it("passes when an Ingress NetworkPolicy selects the datastore's pods", async () => {
    expect(await validateStack(datastoresNetworkPolicy, [pg, restrictive, deployment({ name: "app", component: "app" })])).toEqual([]);
    const byExpression = k8sObject("kubernetes:networking.k8s.io/v1:NetworkPolicy", "np", {
      metadata: { name: "datastores", namespace: "ballast" },
      spec: {
        podSelector: { matchExpressions: [{ key: "app.kubernetes.io/component", operator: "In", values: ["postgres", "redis"] }] },
        ingress: [],
      },
    });
    expect(await validateStack(datastoresNetworkPolicy, [pg, byExpression])).toEqual([]);
  });

  it("reports a datastore no NetworkPolicy selects, and one that admits every source", async () => {
    const redis = statefulSet({ name: "redis", component: "redis" });
    const egressOnly = k8sObject("kubernetes:networking.k8s.io/v1:NetworkPolicy", "np-egress", {
      metadata: { name: "redis-egress", namespace: "ballast" },
      spec: { podSelector: { matchLabels: { "app.kubernetes.io/name": "redis" } }, policyTypes: ["Egress"] },
    });
    const open = k8sObject("kubernetes:networking.k8s.io/v1:NetworkPolicy", "np-open", {
      metadata: { name: "allow-all", namespace: "ballast" },
      spec: { podSelector: {}, ingress: [{}] },
    });
    const violations = await validateStack(datastoresNetworkPolicy, [redis, egressOnly]);
    expect(violations).toEqual([
      {
        policy: "datastores-network-policy",
        message:
          'StatefulSet "redis" (datastore): no NetworkPolicy selects its pods (labels {"app.kubernetes.io/name":"redis","app.kubernetes.io/component":"redis"}); any pod in the cluster can connect. Add an Ingress NetworkPolicy that admits only its clients',
        urn: "urn:pulumi:prod::ballast::kubernetes:apps/v1:StatefulSet::statefulset-redis",
      },
    ]);
    expect((await validateStack(datastoresNetworkPolicy, [pg, restrictive, open])).map((v) => v.message)).toEqual([
      'StatefulSet "postgres" (datastore): NetworkPolicy "allow-all" admits every source (an ingress rule without "from", or 0.0.0.0/0); admit only the datastore\'s clients',
    ]);
  });

  it("ignores CronJobs that use the datastore image", async () => {
    expect(
      await validateStack(datastoresNetworkPolicy, [
        cronJob({ name: "backup", component: "backups", containers: [container({ image: "postgres:16" })] }),
      ]),
    ).toEqual([]);
  });
});
