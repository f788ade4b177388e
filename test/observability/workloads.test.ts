import { describe, expect, it } from "vitest";
import { monitoringFootprint, monitoringSecrets, observabilityWorkloads, scrapedBy, tracingEnv } from "../../components/observability";
import { workload, type WorkloadSpec } from "../../components/spec";
import { monitoring, targets, testContext } from "./fixtures";

const byName = (specs: WorkloadSpec[]) => Object.fromEntries(specs.map((s) => [s.name, s]));

describe("observabilityWorkloads", () => {
  it("deploys the nyxcore monitoring set on Compose and leaves cAdvisor to the kubelet on Kubernetes", () => {
    const compose = observabilityWorkloads(monitoring(), testContext("compose")).map((w) => w.name);
    expect(compose).toEqual([
      "prometheus",
      "alertmanager",
      "grafana",
      "loki",
      "alloy",
      "node-exporter",
      "cadvisor",
      "docker-socket-proxy",
      "postgres-exporter",
      "redis-exporter",
      "blackbox-exporter",
    ]);
    const kubernetes = observabilityWorkloads(monitoring(), testContext("kubernetes")).map((w) => w.name);
    expect(kubernetes).toEqual(compose.filter((n) => n !== "cadvisor" && n !== "docker-socket-proxy"));
  });

  it("gives each workload its role and the storage it needs", () => {
    const w = byName(observabilityWorkloads(monitoring({ tracing: { enabled: true } }), testContext("compose")));
    for (const name of ["prometheus", "alertmanager", "grafana", "loki", "tempo"]) {
      expect(w[name].role, name).toBe("stateful");
      expect(
        w[name].volumes.some((v) => v.kind === "persistent"),
        name,
      ).toBe(true);
    }
    for (const name of ["node-exporter", "cadvisor", "alloy"]) expect(w[name].role, name).toBe("agent");
    for (const name of ["postgres-exporter", "redis-exporter"]) expect(w[name].role, name).toBe("stateless");
    expect(w.prometheus.volumes).toContainEqual({ kind: "persistent", name: "prometheus-data", mountPath: "/prometheus", sizeGiB: 10 });
    expect(w.loki.volumes).toContainEqual({ kind: "persistent", name: "loki-data", mountPath: "/loki", sizeGiB: 10 });
  });

  it("mounts host paths read-only, and the Docker socket only on Compose's socket proxy", () => {
    for (const target of targets) {
      for (const spec of observabilityWorkloads(monitoring(), testContext(target))) {
        for (const volume of spec.volumes) {
          if (volume.kind === "host") expect(volume.readOnly, `${spec.name} ${volume.hostPath}`).toBe(true);
          if (volume.kind === "docker-socket") {
            expect(target).toBe("compose");
            expect(spec.name).toBe("docker-socket-proxy");
          }
        }
      }
    }
    const k8s = byName(observabilityWorkloads(monitoring(), testContext("kubernetes")));
    expect(k8s.alloy.volumes).toContainEqual({
      kind: "host",
      name: "pod-logs",
      hostPath: "/var/log/pods",
      mountPath: "/var/log/pods",
      readOnly: true,
    });
    expect(k8s.alloy.security.runAsRoot).toBe(true);
    for (const target of targets) {
      const node = byName(observabilityWorkloads(monitoring(), testContext(target)))["node-exporter"];
      // The host's /proc is mounted: no host PID namespace needed.
      expect(node.security.hostPid, target).toBe(false);
      expect(node.volumes.map((v) => (v.kind === "host" ? v.hostPath : v.kind))).toEqual(["/proc", "/sys", "/"]);
    }
  });

  it("gives cAdvisor and Alloy the Docker API through the proxy on Compose, and Alloy no root there", () => {
    const w = byName(observabilityWorkloads(monitoring(), testContext("compose")));
    expect(w.cadvisor.args).toContain("--docker=tcp://docker-socket-proxy:2375");
    expect(w.cadvisor.volumes.some((v) => v.kind === "docker-socket")).toBe(false);
    expect(w.alloy.volumes.map((v) => v.kind)).toEqual(["scratch"]);
    expect(w.alloy.security).toMatchObject({ runAsRoot: false, runAsUser: 65534, runAsGroup: 65534 });
    const alloyConfig = w.alloy.configFiles[0].content;
    expect(alloyConfig.match(/host = "tcp:\/\/docker-socket-proxy:2375"/g)).toHaveLength(2);
    expect(alloyConfig).not.toContain("docker.sock");
    const proxy = w["docker-socket-proxy"];
    expect(proxy.network.allowFrom).toEqual(["alloy", "cadvisor"]);
    expect(proxy.security).toMatchObject({
      runAsRoot: true,
      runAsUser: 0,
      addCapabilities: [],
      readOnlyRootFilesystem: true,
      privileged: false,
    });
    expect(proxy.image).toBe("wollomatic/socket-proxy:1.12.2");
    // Without cAdvisor, only Alloy may connect; without both, no proxy.
    const alloyOnly = byName(observabilityWorkloads(monitoring({ cadvisor: { enabled: false } }), testContext("compose")));
    expect(alloyOnly["docker-socket-proxy"].args).toContain("-allowfrom=alloy");
    const neither = observabilityWorkloads(
      monitoring({ cadvisor: { enabled: false }, alloy: { enabled: false } }),
      testContext("compose"),
    ).map((s) => s.name);
    expect(neither).not.toContain("docker-socket-proxy");
  });

  it("keeps cAdvisor unprivileged", () => {
    const cadvisor = byName(observabilityWorkloads(monitoring(), testContext("compose"))).cadvisor;
    expect(cadvisor.security.privileged).toBe(false);
    expect(cadvisor.security.addCapabilities).toEqual([]);
  });

  it("makes only Grafana public, at grafana.<domain>", () => {
    for (const target of targets) {
      const specs = observabilityWorkloads(
        monitoring({ tracing: { enabled: true } }),
        testContext(target, { tls: target === "kubernetes" }),
      );
      const publicOnes = specs.filter((s) => s.route || s.network.fromProxy);
      expect(publicOnes.map((s) => s.name)).toEqual(["grafana"]);
      expect(publicOnes[0].route).toEqual({ host: "grafana.example.com", pathPrefix: "/", port: 3000, tls: target === "kubernetes" });
      for (const spec of specs)
        expect(
          spec.ports.every((p) => p.publish === undefined),
          spec.name,
        ).toBe(true);
    }
  });

  it("allows exactly the monitoring flows", () => {
    const w = byName(observabilityWorkloads(monitoring({ tracing: { enabled: true } }), testContext("compose")));
    expect(w.prometheus.network.allowFrom).toEqual(["grafana"]);
    expect(w.alertmanager.network.allowFrom).toEqual(["prometheus", "grafana"]);
    expect(w.loki.network.allowFrom).toEqual(["alloy", "grafana", "prometheus"]);
    // Every traced workload reaches the collector: app, workers and extra services.
    expect(w.tempo.network.allowFrom).toEqual(["app", "worker", "mailer", "llm-gateway", "grafana", "prometheus"]);
    expect(w.grafana.network).toEqual({ fromProxy: true, allowFrom: ["prometheus"], egressInternet: false });
    // Every scraped monitoring workload lets Prometheus in.
    for (const spec of Object.values(w)) {
      if (spec.metrics && spec.name !== "prometheus") expect(spec.network.allowFrom, spec.name).toContain("prometheus");
    }
    // Nothing but a configured Alertmanager receiver talks to the internet.
    expect(Object.values(w).filter((s) => s.network.egressInternet)).toEqual([]);
    const slack = byName(
      observabilityWorkloads(monitoring({ alertmanager: { receiver: { type: "slack", channel: "#ops" } } }), testContext("compose")),
    );
    expect(
      Object.values(slack)
        .filter((s) => s.network.egressInternet)
        .map((s) => s.name),
    ).toEqual(["alertmanager"]);
  });

  it("grants Kubernetes API access with least privilege, and none on Compose", () => {
    const k8s = byName(observabilityWorkloads(monitoring(), testContext("kubernetes")));
    expect(k8s.prometheus.security.kubernetesApi).toEqual({
      namespacedRules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] }],
      clusterRules: [
        { apiGroups: [""], resources: ["nodes"], verbs: ["list", "watch"] },
        { apiGroups: [""], resources: ["nodes/metrics"], verbs: ["get"] },
      ],
      kubeletPort: true,
    });
    expect(k8s.alloy.security.kubernetesApi).toEqual({
      clusterRules: [],
      namespacedRules: [{ apiGroups: [""], resources: ["pods"], verbs: ["list", "watch"] }],
    });
    const withApi = Object.values(k8s)
      .filter((s) => s.security.kubernetesApi)
      .map((s) => s.name);
    expect(withApi).toEqual(["prometheus", "alloy"]);
    for (const spec of Object.values(k8s)) {
      for (const rule of [...(spec.security.kubernetesApi?.clusterRules ?? []), ...(spec.security.kubernetesApi?.namespacedRules ?? [])]) {
        expect(rule.verbs).not.toContain("*");
        expect(rule.verbs.some((v) => ["create", "update", "patch", "delete"].includes(v))).toBe(false);
        expect(rule.resources).not.toContain("secrets");
      }
    }
    const noCadvisor = byName(observabilityWorkloads(monitoring({ cadvisor: { enabled: false } }), testContext("kubernetes")));
    expect(noCadvisor.prometheus.security.kubernetesApi?.clusterRules).toEqual([]);
    for (const spec of observabilityWorkloads(monitoring(), testContext("compose")))
      expect(spec.security.kubernetesApi, spec.name).toBeUndefined();
  });

  it("sets resource limits on every container, requests at half", () => {
    for (const target of targets) {
      for (const spec of observabilityWorkloads(monitoring({ tracing: { enabled: true } }, "prod"), testContext(target))) {
        expect(spec.resources.limits.cpu, spec.name).toBeGreaterThan(0);
        expect(spec.resources.limits.memoryMiB, spec.name).toBeGreaterThan(0);
        expect(spec.resources.requests.memoryMiB, spec.name).toBeLessThanOrEqual(spec.resources.limits.memoryMiB);
        expect(spec.resources.requests.cpu, spec.name).toBeLessThanOrEqual(spec.resources.limits.cpu);
      }
    }
  });

  it("fits the staging monitoring set into 1.5 GiB of memory limits, and gives prod more", () => {
    for (const target of targets) {
      const staging = monitoringFootprint(observabilityWorkloads(monitoring({}, "staging"), testContext(target)));
      expect(staging.limits.memoryMiB, target).toBeLessThanOrEqual(1536);
      const prod = monitoringFootprint(observabilityWorkloads(monitoring({}, "prod"), testContext(target, { environment: "prod" })));
      expect(prod.limits.memoryMiB, target).toBeGreaterThan(staging.limits.memoryMiB);
      expect(prod.limits.cpu, target).toBeGreaterThan(staging.limits.cpu);
    }
    const compose = monitoringFootprint(observabilityWorkloads(monitoring({}, "staging"), testContext("compose")));
    expect(compose.limits).toEqual({ cpu: 1.85, memoryMiB: 1536 });
    expect(compose.byWorkload.prometheus).toEqual({ cpu: 0.5, memoryMiB: 448 });
  });

  it("passes credentials as secret references only", () => {
    const w = byName(observabilityWorkloads(monitoring({ alertmanager: { receiver: { type: "pagerduty" } } }), testContext("compose")));
    expect(w.grafana.secretEnv).toEqual({ GF_SECURITY_ADMIN_PASSWORD: "grafana-admin-password" });
    expect(w["postgres-exporter"].secretEnv).toEqual({ DATA_SOURCE_PASS: "postgres-monitor-password" });
    expect(w["postgres-exporter"].env).toEqual({
      DATA_SOURCE_URI: "postgres:5432/nomosx?sslmode=disable",
      DATA_SOURCE_USER: "ballast_monitor",
    });
    expect(w["redis-exporter"].secretEnv).toEqual({ REDIS_PASSWORD: "redis-password" });
    expect(w.alertmanager.secretFiles).toEqual([{ secret: "alertmanager-receiver", mountPath: "/etc/alertmanager/secrets/receiver" }]);
    for (const spec of Object.values(w)) {
      for (const [key, value] of Object.entries(spec.env)) {
        expect(key, spec.name).not.toMatch(/PASS|SECRET|TOKEN|KEY/);
        expect(value, `${spec.name} ${key}`).not.toMatch(/:\/\/[^/]*:[^@]*@/);
      }
    }
    const none = byName(observabilityWorkloads(monitoring(), testContext("compose")));
    expect(none.alertmanager.secretFiles).toEqual([]);
  });

  it("lists the secrets monitoring needs", () => {
    expect(monitoringSecrets(monitoring(), testContext("compose")).map((s) => s.name)).toEqual(["grafana-admin-password"]);
    const email = monitoring({
      alertmanager: {
        receiver: { type: "email", to: "ops@example.com", from: "am@example.com", smarthost: "smtp.example.com:587", username: "am" },
      },
    });
    expect(monitoringSecrets(email, testContext("compose")).map((s) => s.name)).toEqual([
      "grafana-admin-password",
      "alertmanager-receiver",
    ]);
  });

  it("configures Grafana: anonymous access and sign-up off, root URL on the public host", () => {
    const grafana = byName(observabilityWorkloads(monitoring(), testContext("compose"))).grafana;
    expect(grafana.env).toMatchObject({
      GF_AUTH_ANONYMOUS_ENABLED: "false",
      GF_USERS_ALLOW_SIGN_UP: "false",
      GF_SERVER_ROOT_URL: "https://grafana.example.com/",
      GF_SECURITY_ADMIN_USER: "admin",
    });
    const dev = byName(observabilityWorkloads(monitoring(), testContext("compose", { tls: false, domain: "localhost" }))).grafana;
    expect(dev.env.GF_SERVER_ROOT_URL).toBe("http://grafana.localhost/");
  });

  it("probes over HTTP on Kubernetes and only with a binary the image has on Compose", () => {
    const k8s = byName(observabilityWorkloads(monitoring(), testContext("kubernetes")));
    expect(k8s.prometheus.health?.http).toEqual({ path: "/-/ready", port: 9090 });
    expect(k8s.loki.health?.http).toEqual({ path: "/ready", port: 3100 });
    const compose = byName(observabilityWorkloads(monitoring(), testContext("compose")));
    expect(compose.prometheus.health?.exec).toEqual(["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:9090/-/ready"]);
    // Distroless Loki and scratch redis_exporter: no command could run, so no Compose health check.
    expect(compose.loki.health).toBeUndefined();
    expect(compose["redis-exporter"].health).toBeUndefined();
  });

  it("drops the parts that only serve a disabled part", () => {
    const noProm = observabilityWorkloads(monitoring({ prometheus: { enabled: false } }), testContext("compose")).map((w) => w.name);
    expect(noProm).toEqual(["grafana", "loki", "alloy", "docker-socket-proxy"]);
    const noLoki = observabilityWorkloads(monitoring({ loki: { enabled: false } }), testContext("compose")).map((w) => w.name);
    expect(noLoki).not.toContain("alloy");
    expect(observabilityWorkloads(monitoring({ enabled: false }), testContext("kubernetes"))).toEqual([]);
  });
});

describe("scrapedBy", () => {
  const base = (name: string, metrics?: { port: number; path: string }) =>
    workload({
      name,
      component: "test",
      role: "stateless",
      description: name,
      image: "x:1",
      resources: { requests: { cpu: 0.1, memoryMiB: 64 }, limits: { cpu: 0.2, memoryMiB: 128 } },
      metrics,
    });

  it("lets Prometheus reach every workload with metrics, and each exporter its datastore", () => {
    const specs = [
      base("app", { port: 3000, path: "/api/v1/metrics" }),
      base("traefik", { port: 8082, path: "/metrics" }),
      base("mailer"),
      base("postgres"),
      base("redis"),
    ];
    const granted = byName(scrapedBy(specs, monitoring(), testContext("compose")));
    expect(granted.app.network.allowFrom).toEqual(["prometheus", "blackbox-exporter"]);
    expect(granted.traefik.network.allowFrom).toEqual(["prometheus"]);
    expect(granted.mailer.network.allowFrom).toEqual([]);
    expect(granted.postgres.network.allowFrom).toEqual(["postgres-exporter"]);
    expect(granted.redis.network.allowFrom).toEqual(["redis-exporter"]);
    const off = byName(scrapedBy(specs, monitoring({ enabled: false }), testContext("compose")));
    expect(off.app.network.allowFrom).toEqual([]);
  });
});

describe("tracingEnv", () => {
  it("is empty unless tracing is on, then points OTLP at Tempo", () => {
    expect(tracingEnv(monitoring(), testContext("compose"))).toEqual({});
    const env = tracingEnv(monitoring({ tracing: { enabled: true } }, "prod"), testContext("kubernetes", { environment: "prod" }), "app");
    expect(env).toMatchObject({
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://tempo:4318",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/protobuf",
      OTEL_TRACES_SAMPLER_ARG: "0.2",
      OTEL_SERVICE_NAME: "app",
      OTEL_RESOURCE_ATTRIBUTES: "deployment.environment=prod,service.namespace=ballast",
    });
  });
});
