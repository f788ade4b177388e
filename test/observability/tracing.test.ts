/**
 * Tracing with either backend: the config (backend, image per backend, refusals), Jaeger's
 * rendered config and workload, who may reach the collector on which port, and how the OTLP
 * environment is merged under a workload's own variables.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { observabilityWorkloads, tracedWorkloads, tracingEnv, withTracingEnv } from "../../components/observability";
import { renderJaegerConfig } from "../../components/observability/jaeger";
import { mergeResourceAttributes } from "../../components/observability/tracing";
import { portsReachableBy, type WorkloadSpec } from "../../components/spec";
import { configFor, problemsOf } from "../fixtures/config";
import { monitoring, targets, testContext } from "./fixtures";

const byName = (specs: WorkloadSpec[]) => Object.fromEntries(specs.map((s) => [s.name, s]));
const traced = (backend: "tempo" | "jaeger", extra: Record<string, unknown> = {}) =>
  monitoring({ tracing: { enabled: true, backend, ...extra } });

describe("ballast:monitoring.tracing.backend", () => {
  it("defaults to Tempo; Jaeger brings its own pinned image unless the stack names one", () => {
    expect(configFor({}).monitoring.tracing).toMatchObject({ backend: "tempo", image: "grafana/tempo:2.6.1" });
    expect(configFor({ monitoring: { tracing: { backend: "jaeger" } } }).monitoring.tracing).toMatchObject({
      backend: "jaeger",
      image: "jaegertracing/jaeger:2.19.0",
      // Badger's caches need more than Tempo's staging size (256 MiB).
      resources: { cpu: 0.25, memoryMiB: 1024 },
    });
    expect(
      configFor({ monitoring: { tracing: { backend: "jaeger", resources: { cpu: 1, memory: "2Gi" } } } }).monitoring.tracing.resources,
    ).toEqual({ cpu: 1, memoryMiB: 2048 });
    const mirrored = configFor({
      monitoring: { tracing: { enabled: true, backend: "jaeger", image: "registry.example.com/jaegertracing/jaeger:2.19.0" } },
    });
    expect(mirrored.monitoring.tracing.image).toBe("registry.example.com/jaegertracing/jaeger:2.19.0");
  });

  it("refuses an unknown backend with the allowed ones", () => {
    expect(problemsOf({ monitoring: { tracing: { enabled: true, backend: "zipkin" } } })).toEqual([
      'ballast:monitoring.tracing.backend: must be one of "tempo", "jaeger" (got "zipkin")',
    ]);
  });

  it("refuses Jaeger v1's all-in-one image for the Jaeger v2 config", () => {
    expect(problemsOf({ monitoring: { tracing: { enabled: true, backend: "jaeger", image: "jaegertracing/all-in-one:1.62.0" } } })).toEqual(
      [
        'ballast:monitoring.tracing.image: "jaegertracing/all-in-one:1.62.0" is Jaeger v1, which cannot read the Jaeger v2 config Ballast renders; use jaegertracing/jaeger:2.x (default jaegertracing/jaeger:2.19.0)',
      ],
    );
  });

  it("refuses the other backend's image, which could not read the rendered config", () => {
    expect(problemsOf({ monitoring: { tracing: { enabled: true, backend: "jaeger", image: "grafana/tempo:2.6.1" } } })).toEqual([
      'ballast:monitoring.tracing.image: "grafana/tempo:2.6.1" is a tempo image but ballast:monitoring.tracing.backend is "jaeger"; use a jaeger image (default jaegertracing/jaeger:2.19.0) or set backend "tempo"',
    ]);
    expect(problemsOf({ monitoring: { tracing: { enabled: true, image: "jaegertracing/all-in-one:1.62.0" } } })).toEqual([
      'ballast:monitoring.tracing.image: "jaegertracing/all-in-one:1.62.0" is a jaeger image but ballast:monitoring.tracing.backend is "tempo"; use a tempo image (default grafana/tempo:2.6.1) or set backend "jaeger"',
    ]);
  });
});

describe("Jaeger's config", () => {
  const config = parse(renderJaegerConfig(traced("jaeger", { retentionHours: 168 }))) as Record<string, any>;

  it("stores spans in Badger on the persistent volume, expiring after retentionHours", () => {
    expect(config.extensions.jaeger_storage.backends.traces.badger).toEqual({
      directories: { keys: "/tmp/jaeger/keys", values: "/tmp/jaeger/values" },
      ephemeral: false,
      ttl: { spans: "168h" },
    });
    expect(config.extensions.jaeger_query.storage).toEqual({ traces: "traces" });
    expect(config.exporters.jaeger_storage_exporter).toEqual({ trace_storage: "traces" });
  });

  it("receives OTLP on every interface and serves query, health and metrics to the other containers", () => {
    expect(config.receivers.otlp.protocols).toEqual({ grpc: { endpoint: "0.0.0.0:4317" }, http: { endpoint: "0.0.0.0:4318" } });
    expect(config.service.pipelines.traces).toEqual({ receivers: ["otlp"], processors: ["batch"], exporters: ["jaeger_storage_exporter"] });
    expect(config.service.extensions).toEqual(["jaeger_storage", "jaeger_query", "healthcheckv2"]);
    expect(config.extensions.jaeger_query.http.endpoint).toBe("0.0.0.0:16686");
    expect(config.extensions.healthcheckv2).toEqual({ use_v2: true, http: { endpoint: "0.0.0.0:13133" } });
    expect(config.service.telemetry.metrics.readers).toEqual([{ pull: { exporter: { prometheus: { host: "0.0.0.0", port: 8888 } } } }]);
  });
});

describe.each(targets)("the tracing collector on %s", (target) => {
  const ctx = testContext(target, {
    cronJobs: [{ name: "queue-clean" }],
    services: [
      { name: "llm-gateway", tracing: true },
      { name: "ollama", tracing: false },
    ],
  });

  it("runs Jaeger instead of Tempo when the backend is jaeger, with its config, Badger volume and health probe", () => {
    const w = byName(observabilityWorkloads(traced("jaeger", { storageGiB: 20 }), ctx));
    expect(w.tempo).toBeUndefined();
    const jaeger = w.jaeger;
    expect(jaeger.image).toBe("jaegertracing/jaeger:2.19.0");
    expect(jaeger.args).toEqual(["--config=/etc/jaeger/config.yaml"]);
    expect(jaeger.ports.map((p) => `${p.name}:${p.port}`)).toEqual(["http:16686", "otlp-grpc:4317", "otlp-http:4318", "metrics:8888"]);
    expect(jaeger.volumes).toEqual([{ kind: "persistent", name: "jaeger-data", mountPath: "/tmp", sizeGiB: 20 }]);
    expect(jaeger.configFiles.map((f) => f.mountPath)).toEqual(["/etc/jaeger/config.yaml"]);
    expect(jaeger.metrics).toEqual({ port: 8888, path: "/metrics" });
    expect(jaeger.security).toMatchObject({ runAsUser: 10001, fsGroup: 10001, readOnlyRootFilesystem: true });
    expect(jaeger.sizedBy).toBe("ballast:monitoring.tracing.resources");
    if (target === "kubernetes") expect(jaeger.health?.http).toEqual({ path: "/status", port: 13133 });
    else expect(jaeger.health?.exec).toEqual(["wget", "-q", "-O", "/dev/null", "http://127.0.0.1:13133/status"]);
    expect(byName(observabilityWorkloads(traced("tempo"), ctx)).jaeger).toBeUndefined();
  });

  it.each(["tempo", "jaeger"] as const)(
    "admits exactly the traced workloads on the OTLP ports, Grafana on the query port, Prometheus on metrics (%s)",
    (backend) => {
      const collector = byName(observabilityWorkloads(traced(backend), ctx))[backend];
      const reach = (peer: string) => portsReachableBy(collector, peer).map((p) => p.port);
      const senders = ["app", "worker", "mailer", "llm-gateway", "queue-clean"];
      expect(tracedWorkloads(ctx)).toEqual(senders);
      for (const sender of senders) expect(reach(sender), sender).toEqual([4317, 4318]);
      expect(reach("ollama")).toEqual([]);
      expect(reach("grafana")).toEqual(backend === "tempo" ? [3200] : [16686]);
      expect(reach("prometheus")).toEqual(backend === "tempo" ? [3200] : [8888]);
    },
  );
});

describe("tracingEnv", () => {
  it("points OTLP at the backend's collector", () => {
    const ctx = testContext("compose");
    expect(tracingEnv(traced("tempo"), ctx, "app").OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://tempo:4318");
    expect(tracingEnv(traced("jaeger"), ctx, "app").OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://jaeger:4318");
    expect(tracingEnv(monitoring({ enabled: false, tracing: { enabled: true } }), ctx, "app")).toEqual({});
  });
});

describe("withTracingEnv: the stack's OTEL_* values are kept", () => {
  const ours = tracingEnv(traced("jaeger"), testContext("compose", { environment: "prod", project: "nexuscore" }), "api");

  it("adds every OTLP setting to a workload that sets none", () => {
    expect(withTracingEnv({ PORT: "3001" }, {}, ours)).toEqual({ ...ours, PORT: "3001" });
  });

  it("keeps the stack's OTEL_SERVICE_NAME and merges its resource attributes, its own value winning on the same key", () => {
    const env = withTracingEnv(
      { OTEL_SERVICE_NAME: "nexuscore", OTEL_RESOURCE_ATTRIBUTES: "service.version=1.4.2,deployment.environment=canary" },
      {},
      ours,
    );
    expect(env.OTEL_SERVICE_NAME).toBe("nexuscore");
    expect(env.OTEL_RESOURCE_ATTRIBUTES).toBe("service.version=1.4.2,deployment.environment=canary,service.namespace=nexuscore");
    expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://jaeger:4318");
  });

  it("adds no OTEL_SERVICE_NAME when the stack names the service in its resource attributes (it would take precedence)", () => {
    const env = withTracingEnv({ OTEL_RESOURCE_ATTRIBUTES: "service.name=gateway" }, {}, ours);
    expect(env).not.toHaveProperty("OTEL_SERVICE_NAME");
    expect(env.OTEL_RESOURCE_ATTRIBUTES).toBe("service.name=gateway,deployment.environment=prod,service.namespace=nexuscore");
  });

  it("leaves a variable the stack reads from a secret (an OTLP header with a token) to the secret", () => {
    const env = withTracingEnv({}, { OTEL_EXPORTER_OTLP_ENDPOINT: "otlp-endpoint" }, ours);
    expect(env).not.toHaveProperty("OTEL_EXPORTER_OTLP_ENDPOINT");
    expect(env.OTEL_SERVICE_NAME).toBe("api");
  });

  it("merges attribute lists with blanks and spaces by key", () => {
    expect(mergeResourceAttributes("a=1,b=2", " b = 3 ,, c=4")).toBe("b=3,c=4,a=1");
    expect(mergeResourceAttributes("a=1", "")).toBe("a=1");
  });
});
