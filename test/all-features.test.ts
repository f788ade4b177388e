/**
 * Every key of the stack schema at once (test/fixtures/Pulumi.all-features.yaml), rendered on
 * both targets the way `pulumi up` declares it: the render must succeed, validate against the
 * target's schema, and keep the cross-workload promises (migration before the app, one-shot
 * Jobs, scheduled jobs, routes). The key list is derived from the zod schema, so a key added to
 * the schema without being added to the fixture fails this test.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parsePlatformConfig } from "../components/config";
import { platformInputSchema, secretConfigKeys } from "../components/config/schema";
import { composeHostFit } from "../components/footprint";
import type { WorkloadSpec } from "../components/spec";
import type { KubernetesObject, ObjectOfKind } from "../components/targets/kubernetes";
import { renderStackFile, withSecretPlaceholders, type RenderedStack } from "../scripts/lib/render-stack";
import { readStackFileAt } from "../scripts/lib/stack-files";
import { unsetKeys, type Json, type ZodNode } from "./fixtures/schema-walk";
import { composeDocumentOf, composeSpecProblems, kubernetesObjectsOf, kubernetesSchemaProblems } from "./fixtures/validators";

const fixturePath = join(__dirname, "fixtures", "Pulumi.all-features.yaml");
const stackName = "all-features";
/** The deploy key is a secret input, never in a stack file: the render gets it the way `pulumi config set --secret` would. */
const sshKey = {
  "ballast:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nall-features-test-key\n-----END OPENSSH PRIVATE KEY-----",
  "ballast:bootstrapSshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\nall-features-bootstrap-key\n-----END OPENSSH PRIVATE KEY-----",
};

/** The `ballast:` values of the fixture as written (no defaults merged), key -> value. */
function fixtureValues(): Record<string, Json> {
  const parsed = parse(readFileSync(fixturePath, "utf8")) as { config: Record<string, Json> };
  return Object.fromEntries(Object.entries(parsed.config).map(([key, value]) => [key.replace(/^ballast:/, ""), value]));
}

const renders = new Map<string, Promise<RenderedStack>>();
function rendered(target: "compose" | "kubernetes"): Promise<RenderedStack> {
  if (!renders.has(target)) renders.set(target, renderStackFile(fixturePath, stackName, { ...sshKey, "ballast:target": target }));
  return renders.get(target)!;
}

function workloadOf(stack: RenderedStack, name: string): WorkloadSpec {
  const found = stack.model.workloads.find((w) => w.name === name);
  if (!found) throw new Error(`no workload ${name}: ${stack.model.workloads.map((w) => w.name).join(", ")}`);
  return found;
}

function objectsOf<K extends KubernetesObject["kind"]>(objects: KubernetesObject[], kind: K): ObjectOfKind<K>[] {
  return objects.filter((o): o is ObjectOfKind<K> => o.kind === kind);
}

function objectOf<K extends KubernetesObject["kind"]>(objects: KubernetesObject[], kind: K, name: string): ObjectOfKind<K> {
  const found = objectsOf(objects, kind).find((o) => o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

/** Workloads the fixture declares, besides Ballast's own (proxy, datastores, jobs, monitoring). */
const declaredWorkloads = ["api", "worker", "scout", "queue-clean", "usage-report", "ollama", "llm-gateway"];
const oneShotJobs = ["migrate", "pgvector-ensure"];
const scheduledJobs = ["queue-clean", "usage-report", "backup", "backup-offsite", "restore-drill"];
const monitoringWorkloads = [
  "prometheus",
  "alertmanager",
  "grafana",
  "loki",
  "alloy",
  "jaeger",
  "node-exporter",
  "postgres-exporter",
  "redis-exporter",
  "blackbox-exporter",
];

describe("the all-features fixture", () => {
  it("sets every key of the schema (derived from the zod shapes: a new key must be added here)", () => {
    expect(unsetKeys(platformInputSchema as unknown as ZodNode, fixtureValues(), "")).toEqual([]);
  });

  it("the key walk reports what a stack leaves out", () => {
    const values = fixtureValues();
    const app = { ...(values.app as Record<string, Json>) };
    delete app.migration;
    const build = { ...(app.build as Record<string, Json>) };
    delete build.target;
    const services = (values.services as Record<string, Json>[]).map(({ route: _route, ...service }) => service);
    const missing = unsetKeys(platformInputSchema as unknown as ZodNode, { ...values, app: { ...app, build }, services, rotation: {} }, "");
    expect(missing.sort()).toEqual(["app.migration", "app.build.target", "rotation{}", "services[].route"].sort());
  });

  it("also supplies the keys read as secrets (the SSH key and the secret values)", () => {
    const { raw } = withSecretPlaceholders({ ...readStackFileAt(fixturePath, stackName).raw, ...sshKey });
    for (const key of secretConfigKeys) expect(Object.keys(raw), key).toContain(`ballast:${key}`);
  });

  it.each(["compose", "kubernetes"] as const)("loads on %s with every optional part present", (target) => {
    const { raw } = withSecretPlaceholders({ ...readStackFileAt(fixturePath, stackName).raw, ...sshKey, "ballast:target": target });
    const { config } = parsePlatformConfig(raw, stackName, "ballast");
    expect(config.target).toBe(target);
    expect(config.app.build?.target).toBe("runtime");
    expect(config.app.migration?.command).toEqual(["npx", "prisma", "migrate", "deploy"]);
    expect(config.postgres.hnswIndex?.name).toBe("documents_embedding_idx");
    expect(config.backups.s3?.bucket).toBe("allfeatures-backups");
    expect(config.backups.drill.freshness).toEqual({ table: "documents", column: "created_at" });
    expect(config.backups).toMatchObject({ redis: true, config: true, encryption: { recipient: expect.stringMatching(/^age1/) } });
    expect(config.monitoring.alertmanager.receiver.type).toBe("email");
    expect(config.monitoring.tracing.enabled).toBe(true);
    expect(config.registry?.username).toBe("allfeatures-ci");
    expect(config.compose.maintenance.enabled).toBe(true);
    expect(config.kubernetes.progressDeadlineSeconds).toBe(300);
  });
});

describe.each(["compose", "kubernetes"] as const)("every feature on %s", (target) => {
  it("renders every declared workload, the one-shot and scheduled jobs and the whole monitoring set", async () => {
    const stack = await rendered(target);
    expect(stack.target).toBe(target);
    const names = stack.model.workloads.map((w) => w.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "traefik",
        "postgres",
        "redis",
        ...declaredWorkloads,
        ...oneShotJobs,
        ...scheduledJobs,
        ...monitoringWorkloads,
      ]),
    );
    expect(names.includes("cadvisor")).toBe(target === "compose");
  });

  it("traces the app and the traced service into Jaeger, not the service that opted out", async () => {
    const stack = await rendered(target);
    expect(workloadOf(stack, "api").env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe("http://jaeger:4318");
    expect(workloadOf(stack, "llm-gateway").env.OTEL_TRACES_SAMPLER_ARG).toBe("0.5");
    expect(workloadOf(stack, "ollama").env).not.toHaveProperty("OTEL_EXPORTER_OTLP_ENDPOINT");
  });

  it("provisions the team's dashboard with the title prefix and ships the team's rules beside Ballast's", async () => {
    const stack = await rendered(target);
    const board = workloadOf(stack, "grafana").configFiles.find((f) => f.name === "allfeatures-team.json");
    expect((JSON.parse(board?.content ?? "{}") as { title: string }).title).toBe("All Features - Team board");
    const prometheus = workloadOf(stack, "prometheus");
    const team = parse(prometheus.configFiles.find((f) => f.name === "team.rules.yml")?.content ?? "") as { groups: { name: string }[] };
    expect(team.groups.map((g) => g.name)).toEqual(["allfeatures-inline", "allfeatures-files"]);
    expect(prometheus.configFiles.find((f) => f.name === "ballast.rules.yml")?.content).toContain(
      'http_requests_total{status_code=~"5..|429"}',
    );
  });

  it("rotates with all + per-secret counters; the encryption key's re-encryption window gives the app both keys; Postgres takes its password in place", async () => {
    const stack = await rendered(target);
    // all: 1 on top of auth-secret: 1, postgres-app-password: 2, encryption-key: 1 (generation 2, re-encrypted to 1).
    expect(workloadOf(stack, "api").env.BALLAST_SECRET_REVISIONS).toBe(
      "auth-secret=2,encryption-key=2,postgres-app-password=3,redis-password=1",
    );
    expect(workloadOf(stack, "api").secretEnv).toMatchObject({
      ENCRYPTION_KEY: "encryption-key",
      ENCRYPTION_KEY_PREVIOUS: "encryption-key-previous",
    });
    expect(
      stack.recorder
        .byType("random:index/randomBytes:RandomBytes")
        .map((r) => r.name)
        .sort(),
    ).toEqual(["ballast-secrets-encryption-key-1", "ballast-secrets-encryption-key-2"]);
    expect(workloadOf(stack, "postgres").env.BALLAST_SECRET_REVISIONS).toBeUndefined();
  });

  it("builds the app, a worker, a job and a service, pushing to the registry", async () => {
    const stack = await rendered(target);
    const builds = stack.recorder
      .byType("docker:index/image:Image")
      .map((r) => r.inputs as { imageName: string; build: { target?: string; args?: Record<string, string> } });
    expect(builds.map((b) => b.imageName).sort()).toEqual(
      ["ghcr.io/allfeatures/api", "ghcr.io/allfeatures/cron", "ghcr.io/allfeatures/llm-gateway", "ghcr.io/allfeatures/scout"].map(
        (r) => `${r}:${stackName}`,
      ),
    );
    expect(builds.find((b) => b.imageName.startsWith("ghcr.io/allfeatures/api:"))?.build).toMatchObject({
      target: "runtime",
      args: { NODE_VERSION: "20.19.0" },
    });
    for (const name of ["api", "scout", "usage-report", "llm-gateway", "migrate"])
      expect(workloadOf(stack, name).builtFrom, name).toBeDefined();
    expect(stack.model.registry).toEqual({ server: "ghcr.io", username: "allfeatures-ci", passwordSecret: "registry-password" });
  });
});

describe("every feature on Compose", () => {
  it("validates against the compose-spec schema", async () => {
    expect(composeSpecProblems(composeDocumentOf((await rendered("compose")).files))).toEqual([]);
  });

  it("starts the app and workers only after the migration and the index step completed", async () => {
    const compose = composeDocumentOf((await rendered("compose")).files);
    for (const name of ["api", "worker", "scout"]) {
      expect(compose.services[name].depends_on, name).toMatchObject({
        migrate: { condition: "service_completed_successfully" },
        "pgvector-ensure": { condition: "service_completed_successfully" },
      });
    }
    expect(compose.services["pgvector-ensure"].depends_on).toMatchObject({ migrate: { condition: "service_completed_successfully" } });
  });

  it("schedules every job on the host scheduler and publishes only the proxy, on the bind address", async () => {
    const stack = await rendered("compose");
    const crontab = stack.files.find((f) => f.path === "crontab")?.content ?? "";
    for (const job of scheduledJobs) expect(crontab, job).toMatch(new RegExp(`run --rm --no-deps -T ${job} `));
    const compose = composeDocumentOf(stack.files);
    const publishing = Object.entries(compose.services).filter(([, s]) => (s.ports ?? []).length > 0);
    expect(publishing.map(([name]) => name)).toEqual(["traefik"]);
    expect(JSON.stringify(publishing[0][1].ports)).toContain("203.0.113.50");
  });

  it("ships the host bootstrap and fits the declared host", async () => {
    const stack = await rendered("compose");
    expect(stack.files.map((f) => f.path)).toContain("host/bootstrap.sh");
    expect(composeHostFit(stack.model.workloads, { cpus: 64, memoryGiB: 256 }).problems).toEqual([]);
  });
});

describe("alert routing and SLOs on both targets", () => {
  it.each(["compose", "kubernetes"] as const)(
    "mounts one credential per receiver and ships the SLO rules and dashboard (%s)",
    async (target) => {
      const stack = await rendered(target);
      const alertmanager = workloadOf(stack, "alertmanager");
      expect(alertmanager.secretFiles).toEqual([
        { secret: "alertmanager-receiver", mountPath: "/etc/alertmanager/secrets/receiver" },
        { secret: "alertmanager-receiver-pagerduty", mountPath: "/etc/alertmanager/secrets/receiver-pagerduty" },
        { secret: "alertmanager-receiver-gateway-team", mountPath: "/etc/alertmanager/secrets/receiver-gateway-team" },
      ]);
      const config = alertmanager.configFiles.find((f) => f.name === "alertmanager.yml")!.content;
      expect(config).toContain("routing_key_file: /etc/alertmanager/secrets/receiver-pagerduty");
      expect(config).toContain("api_url_file: /etc/alertmanager/secrets/receiver-gateway-team");
      const rules = workloadOf(stack, "prometheus").configFiles.find((f) => f.name === "ballast.rules.yml")!.content;
      expect(rules).toContain("- name: ballast-slo-records");
      expect(rules).toContain("record: slo:sli_error:ratio_rate28d");
      expect(rules.match(/alert: SLOErrorBudgetBurn/g)).toHaveLength(4);
      expect(workloadOf(stack, "grafana").configFiles.map((f) => f.name)).toContain("ballast-slos.json");
      // The credentials travel as secrets, never in a rendered file.
      for (const file of stack.files) expect(file.content, file.path).not.toContain("render-placeholder-alertmanager-receiver-pagerduty");
    },
  );

  it("Kubernetes: the alertmanager pod mounts each receiver secret from the stack Secret", async () => {
    const stack = await rendered("kubernetes");
    const pod = objectOf(kubernetesObjectsOf(stack.files), "StatefulSet", "alertmanager").spec.template.spec;
    const secretVolume = pod.volumes?.find((v) => v.secret);
    expect(secretVolume?.secret?.items?.map((i) => i.key)).toEqual([
      "alertmanager-receiver",
      "alertmanager-receiver-pagerduty",
      "alertmanager-receiver-gateway-team",
    ]);
    // The stack's secret set (the Secret's keys) holds each supplied credential, described for the runbook.
    const secrets = stack.model.secrets.filter((s) => s.name.startsWith("alertmanager-receiver"));
    expect(secrets.map((s) => s.name)).toEqual([
      "alertmanager-receiver",
      "alertmanager-receiver-pagerduty",
      "alertmanager-receiver-gateway-team",
    ]);
    expect(secrets[1].description).toContain("`pagerduty` (pagerduty: Events API v2 routing key)");
  });
});

describe("every feature on Kubernetes", () => {
  it("validates every object against the Kubernetes schema", async () => {
    expect(kubernetesSchemaProblems(kubernetesObjectsOf((await rendered("kubernetes")).files))).toEqual([]);
  });

  it("runs the migration and the index step as one-shot Jobs and the scheduled ones as CronJobs", async () => {
    const objects = kubernetesObjectsOf((await rendered("kubernetes")).files);
    // Kubernetes also gates the clients on Postgres taking a rotated password.
    expect(
      objectsOf(objects, "Job")
        .map((j) => j.metadata.name)
        .sort(),
    ).toEqual([...oneShotJobs, "postgres-password-check"].sort());
    expect(
      objectsOf(objects, "CronJob")
        .map((j) => j.metadata.name)
        .sort(),
    ).toEqual([...scheduledJobs].sort());
    expect(objectOf(objects, "CronJob", "backup").spec.schedule).toBe("0 */6 * * *");
  });

  it("autoscales the app and the gateway on CPU, the worker on its stream (KEDA); the stateful service is a StatefulSet", async () => {
    const objects = kubernetesObjectsOf((await rendered("kubernetes")).files);
    expect(objectOf(objects, "HorizontalPodAutoscaler", "api").spec).toMatchObject({ minReplicas: 3, maxReplicas: 10 });
    expect(objects.some((o) => o.kind === "HorizontalPodAutoscaler" && o.metadata.name === "worker")).toBe(false);
    expect(objectOf(objects, "ScaledObject", "worker").spec).toMatchObject({
      minReplicaCount: 5,
      maxReplicaCount: 8,
      triggers: [
        { type: "redis-streams", metadata: { stream: "analyst:jobs", consumerGroup: "analyst-workers", pendingEntriesCount: "50" } },
      ],
    });
    expect(objectOf(objects, "HorizontalPodAutoscaler", "llm-gateway").spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 });
    expect(objectOf(objects, "StatefulSet", "ollama").spec.volumeClaimTemplates?.[0].spec?.storageClassName).toBe("fast-ssd");
    expect(objectOf(objects, "Deployment", "api").spec.progressDeadlineSeconds).toBe(300);
  });

  it("opens the app's separate health port to the deep-health probe (Service and NetworkPolicy)", async () => {
    const objects = kubernetesObjectsOf((await rendered("kubernetes")).files);
    expect(objectOf(objects, "Service", "api").spec?.ports?.map((p) => p.port)).toContain(8081);
    const fromBlackbox = (objectOf(objects, "NetworkPolicy", "api").spec?.ingress ?? []).filter((rule) =>
      (rule.from ?? []).some((peer) => peer.podSelector?.matchLabels?.["app.kubernetes.io/name"] === "blackbox-exporter"),
    );
    expect(fromBlackbox.flatMap((rule) => (rule.ports ?? []).map((p) => p.port))).toContain(8081);
  });

  it("routes the app, Grafana and the gateway's path prefix through Traefik's routes file, TLS only, with no Ingress", async () => {
    const objects = kubernetesObjectsOf((await rendered("kubernetes")).files);
    const routes = parse(objectOf(objects, "ConfigMap", "traefik-config").data?.["routes.yml"] ?? "") as {
      http: { routers: Record<string, { rule: string; entryPoints: string[]; tls?: { certResolver: string } }> };
    };
    const routers = Object.values(routes.http.routers);
    expect(routers.map((router) => router.rule)).toEqual(
      expect.arrayContaining([
        "Host(`api.allfeatures.example.com`)",
        "Host(`grafana.allfeatures.example.com`)",
        "Host(`llm.allfeatures.example.com`) && PathPrefix(`/v1`)",
      ]),
    );
    expect(routers.every((router) => router.entryPoints.join() === "websecure" && router.tls?.certResolver === "letsencrypt")).toBe(true);
    expect(objectsOf(objects, "Ingress")).toEqual([]);
    // The per-node agents run beside the application namespace, which enforces restricted, lowered to
    // baseline only because a service of this fixture opts into root (services[].runAsRoot).
    const enforce = Object.fromEntries(
      objectsOf(objects, "Namespace").map((n) => [n.metadata.name, n.metadata.labels?.["pod-security.kubernetes.io/enforce"]]),
    );
    expect(enforce).toEqual({ allfeatures: "baseline", "allfeatures-agents": "privileged" });
  });
});
