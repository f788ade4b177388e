/**
 * The examples under examples/<system>/: each runbook's stack declared once and rendered on
 * both targets, exactly as `pulumi up` would declare it (under mocks). Every render must
 * validate (compose-spec schema, kubernetes-models) and show what its runbook states.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { classifyImage, parsePlatformConfig, type PlatformConfig } from "../components/config";
import { composeHostFit } from "../components/footprint";
import { routeReceivers, type Route } from "../components/observability/alertmanager";
import type { WorkloadSpec } from "../components/spec";
import type { KubernetesObject, ObjectOfKind } from "../components/targets/kubernetes";
import { renderStackFile, withSecretPlaceholders, type RenderedStack } from "../scripts/lib/render-stack";
import { readStackFileAt } from "../scripts/lib/stack-files";
import {
  composeDocumentOf,
  composeSpecProblems,
  kubernetesObjectsOf,
  kubernetesSchemaProblems,
  type ComposeDocument,
} from "./fixtures/validators";

const examplesDir = join(__dirname, "..", "examples");
const systems = ["nyxcore", "nomosx", "nexuscore", "dealix", "ai-training-portal"] as const;
type System = (typeof systems)[number];
const targets = ["compose", "kubernetes"] as const;
type Target = (typeof targets)[number];

const examplePath = (system: System, target: Target) => join(examplesDir, system, `Pulumi.${target}.yaml`);

const renders = new Map<string, Promise<RenderedStack>>();
/** Each example is rendered once per test file (renders queue: the mocks are process-global). */
function rendered(system: System, target: Target): Promise<RenderedStack> {
  const key = `${system}/${target}`;
  if (!renders.has(key)) renders.set(key, renderStackFile(examplePath(system, target)));
  return renders.get(key)!;
}

/** The example's validated config, as `pulumi up` parses it (secrets filled like the render). */
function configOf(system: System, target: Target): PlatformConfig {
  const file = readStackFileAt(examplePath(system, target));
  return parsePlatformConfig(withSecretPlaceholders(file.raw).raw, file.stack, "ballast").config;
}

function workloadOf(stack: RenderedStack, name: string): WorkloadSpec {
  const found = stack.model.workloads.find((w) => w.name === name);
  if (!found) throw new Error(`no workload ${name} in ${stack.stack}: ${stack.model.workloads.map((w) => w.name).join(", ")}`);
  return found;
}

const namesOf = (stack: RenderedStack) => stack.model.workloads.map((w) => w.name);
const configFile = (workload: WorkloadSpec, name: string) => workload.configFiles.find((f) => f.name === name)?.content ?? "";

async function composeOf(system: System): Promise<ComposeDocument> {
  return composeDocumentOf((await rendered(system, "compose")).files);
}

async function kubernetesObjects(system: System): Promise<KubernetesObject[]> {
  return kubernetesObjectsOf((await rendered(system, "kubernetes")).files);
}

function objectOf<K extends KubernetesObject["kind"]>(objects: KubernetesObject[], kind: K, name: string): ObjectOfKind<K> {
  const found = objects.find((o): o is ObjectOfKind<K> => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

function fileText(stack: RenderedStack, path: string): string {
  const file = stack.files.find((f) => f.path === path);
  if (!file) throw new Error(`no file ${path} in the render of ${stack.stack}`);
  return file.content;
}

describe("the examples directory", () => {
  it("holds the five systems, each with a Compose and a Kubernetes stack file (and the library example, test/library-example.test.ts)", () => {
    const dirs = readdirSync(examplesDir, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .map((d) => d.name);
    expect(dirs.sort()).toEqual([...systems, "library"].sort());
    // Besides the two stack files, a system may keep the repository files its stack names (dashboards, alert rules).
    const extraDirs: Partial<Record<System, string[]>> = { nomosx: ["alerts", "dashboards"] };
    for (const system of systems) {
      expect(readdirSync(join(examplesDir, system)).sort(), system).toEqual(
        ["Pulumi.compose.yaml", "Pulumi.kubernetes.yaml", ...(extraDirs[system] ?? [])].sort(),
      );
    }
  });

  it("README describes each system, how to render one, and what the declaration cannot say yet", () => {
    const readme = readFileSync(join(examplesDir, "README.md"), "utf8");
    expect(readme).toContain("npm run render -- examples/");
    const limits = readme.slice(readme.indexOf("## What the declaration cannot say yet"));
    expect(limits.length).toBeGreaterThan(100);
    for (const heading of ["nyxcore", "NomosX", "NexusCore", "Dealix", "AI Training Portal"]) {
      expect(readme.split(heading).length - 1, heading).toBeGreaterThanOrEqual(2);
      expect(limits, heading).toContain(`### ${heading}`);
    }
  });
});

describe.each(systems.flatMap((system) => targets.map((target) => [system, target] as const)))("%s on %s", (system, target) => {
  it("is a prod stack on its target; a Compose one deploys over SSH to a pinned documentation-range host", () => {
    expect(existsSync(examplePath(system, target))).toBe(true);
    const config = configOf(system, target);
    expect(config.environment).toBe("prod");
    expect(config.target).toBe(target);
    expect(config.tls).toBe(true);
    if (target === "compose") {
      expect(config.compose.mode).toBe("ssh");
      expect(config.compose.ssh?.host).toMatch(/^(203\.0\.113|198\.51\.100)\.\d{1,3}$/);
      expect(config.compose.ssh?.hostKey).toMatch(/^ssh-ed25519 /);
      expect(config.compose.bootstrap.enabled).toBe(true);
      expect(config.compose.bootstrap.sshAllowFrom.length).toBeGreaterThan(0);
      expect(config.compose.bootstrap.authorizedKeys.length).toBeGreaterThan(0);
    }
  });

  it("renders output its target's schema accepts", async () => {
    const stack = await rendered(system, target);
    expect(stack.target).toBe(target);
    const problems =
      target === "compose"
        ? composeSpecProblems(composeDocumentOf(stack.files))
        : kubernetesSchemaProblems(kubernetesObjectsOf(stack.files));
    expect(problems).toEqual([]);
  });

  it("pins every image to an exact version or digest (built images are deployed by digest)", async () => {
    const stack = await rendered(system, target);
    for (const workload of stack.model.workloads) {
      if (typeof workload.image !== "string") {
        expect(workload.builtFrom, `${workload.name} has a deploy-time image but no build`).toBeDefined();
        continue;
      }
      expect(["exact", "digest"], `${workload.name}: ${workload.image}`).toContain(classifyImage(workload.image));
    }
  });

  it("names a registry login exactly when it builds images (the host or cluster pulls them with it)", async () => {
    const stack = await rendered(system, target);
    const builds = stack.model.workloads.some((w) => w.builtFrom);
    expect(stack.model.registry !== undefined).toBe(builds);
    expect(stack.model.secrets.map((s) => s.name).includes("registry-password")).toBe(builds);
  });

  it("declares its own secrets with a description and rotation, and no value reaches a rendered file", async () => {
    const stack = await rendered(system, target);
    const config = configOf(system, target);
    for (const [name, secret] of Object.entries(config.secrets)) {
      expect(secret.description.length, name).toBeGreaterThan(10);
      expect(secret.rotation.length, name).toBeGreaterThan(10);
      expect(stack.model.secrets.map((s) => s.name)).toContain(name);
    }
    for (const file of stack.files) {
      expect(/LEAKCHECK|render-placeholder-|4c45414b434845434b/.test(file.content), file.path).toBe(false);
    }
  });

  if (target === "compose") {
    it("fits the host it declares (ballast:host)", async () => {
      const stack = await rendered(system, target);
      expect(composeHostFit(stack.model.workloads, configOf(system, target).host).problems).toEqual([]);
    });
  }
});

describe("nyxcore", () => {
  const monitoringImages = {
    prometheus: "prom/prometheus:v2.53.0",
    grafana: "grafana/grafana:11.3.0",
    loki: "grafana/loki:3.4.2",
    alloy: "grafana/alloy:v1.7.1",
    "node-exporter": "prom/node-exporter:v1.8.0",
    "postgres-exporter": "prometheuscommunity/postgres-exporter:v0.15.0",
    "redis-exporter": "oliver006/redis_exporter:v1.62.0",
  };

  it.each(targets)("runs the runbook's production services on %s with its image versions", async (target) => {
    const stack = await rendered("nyxcore", target);
    expect(namesOf(stack)).toEqual(
      expect.arrayContaining(["traefik", "app", "postgres", "redis", "ollama", "ipcha", "ckb", ...Object.keys(monitoringImages)]),
    );
    expect(workloadOf(stack, "postgres").image).toBe("pgvector/pgvector:0.8.1-pg16");
    for (const [name, image] of Object.entries(monitoringImages)) expect(workloadOf(stack, name).image, name).toBe(image);
    // cAdvisor runs as its own container on Compose; the kubelet's serves Kubernetes.
    expect(namesOf(stack).includes("cadvisor")).toBe(target === "compose");
    if (target === "compose") expect(workloadOf(stack, "cadvisor").image).toBe("gcr.io/cadvisor/cadvisor:v0.49.1");
  });

  it.each(targets)("builds the app and ipcha from their Dockerfiles, health and metrics on the runbook's paths (%s)", async (target) => {
    const stack = await rendered("nyxcore", target);
    const app = workloadOf(stack, "app");
    expect(app.builtFrom).toEqual({ repository: "ghcr.io/nyxcore/app", context: ".", dockerfile: "Dockerfile" });
    expect(app.ports).toEqual([{ name: "http", port: 3000 }]);
    expect(app.health?.http).toEqual({ path: "/api/v1/health", port: 3000 });
    expect(app.metrics).toEqual({ path: "/api/v1/metrics", port: 3000 });
    expect(app.route?.host).toBe("nyxcore.cloud");
    expect(workloadOf(stack, "ipcha").builtFrom).toMatchObject({ context: "ipcha", dockerfile: "Dockerfile" });
    expect(workloadOf(stack, "grafana").route?.host).toBe("grafana.nyxcore.cloud");
  });

  it.each(targets)("runs ollama as an explicit root opt-in with persistent model storage (%s)", async (target) => {
    const ollama = workloadOf(await rendered("nyxcore", target), "ollama");
    expect(ollama.security.runAsRoot).toBe(true);
    expect(ollama.labels["ballast.dev/runs-as-root"]).toBe("true");
    expect(ollama.role).toBe("stateful");
    expect(ollama.volumes).toContainEqual({ kind: "persistent", name: "ollama-data", mountPath: "/root/.ollama", sizeGiB: 100 });
    expect(ollama.image).toBe("ollama/ollama:0.5.7");
  });

  it.each(targets)("migrates with the safe script, then ensures the HNSW index m=16 ef=64 cosine (%s)", async (target) => {
    const stack = await rendered("nyxcore", target);
    expect(workloadOf(stack, "migrate").command).toEqual(["./scripts/db-migrate-safe.sh", "--apply"]);
    const ensure = workloadOf(stack, "pgvector-ensure");
    expect(ensure.dependsOn).toContain("migrate");
    expect(configFile(ensure, "pgvector.sql")).toContain(
      'CREATE INDEX IF NOT EXISTS "workflow_insights_embedding_hnsw_idx" ON "public"."workflow_insights" USING hnsw ("embedding" vector_cosine_ops) WITH (m = 16, ef_construction = 64)',
    );
  });

  it("Compose: the app waits for the migration and the index step to complete", async () => {
    const compose = await composeOf("nyxcore");
    expect(compose.services.app.depends_on).toMatchObject({
      migrate: { condition: "service_completed_successfully" },
      "pgvector-ensure": { condition: "service_completed_successfully" },
    });
    expect(compose.services.migrate.image).toBe("ghcr.io/nyxcore/app:built-at-deploy");
  });

  it("keeps Prometheus 30 days and Loki 7 days", async () => {
    const stack = await rendered("nyxcore", "compose");
    expect(workloadOf(stack, "prometheus").args).toContain("--storage.tsdb.retention.time=30d");
    expect(configFile(workloadOf(stack, "loki"), "loki.yaml")).toMatch(/retention_period: 168h/);
  });

  it("declares the Stripe secrets with the runbook's rotation and protects the encryption key", async () => {
    const stack = await rendered("nyxcore", "compose");
    const secrets = Object.fromEntries(stack.model.secrets.map((s) => [s.name, s]));
    expect(secrets["stripe-secret-key"].rotation).toMatch(/Stripe Dashboard/);
    expect(secrets["stripe-webhook-secret"].rotation).toMatch(/Re-create the webhook/);
    expect(secrets["encryption-key"].immutable).toBe(true);
    expect(workloadOf(stack, "app").secretEnv).toMatchObject({ ENCRYPTION_KEY: "encryption-key", AUTH_SECRET: "auth-secret" });
  });
});

describe("nyxcore's error rate", () => {
  it.each(targets)("HighErrorRate counts 5xx responses of the one labelled requests counter (%s)", async (target) => {
    const stack = await rendered("nyxcore", target);
    const rules = configFile(workloadOf(stack, "prometheus"), "ballast.rules.yml");
    expect(rules).toContain(
      '100 * sum(rate(nyxcore_http_requests_total{status_code=~"5.."}[5m])) / sum(rate(nyxcore_http_requests_total[5m])) > 5',
    );
    expect(rules).not.toContain("errors_total");
    const overview = configFile(workloadOf(stack, "grafana"), "ballast-overview.json");
    expect(overview).toContain('nyxcore_http_requests_total{status_code=~\\"5..\\"}');
  });
});

describe("NomosX", () => {
  it("Kubernetes: API HPA 3-10 at 70 %, workers 5-20 on queue length (50 jobs/worker, KEDA), at the runbook's sizes", async () => {
    const objects = await kubernetesObjects("nomosx");
    expect(objectOf(objects, "HorizontalPodAutoscaler", "api").spec).toMatchObject({ minReplicas: 3, maxReplicas: 10 });
    expect(objects.some((o) => o.kind === "HorizontalPodAutoscaler" && o.metadata.name === "worker")).toBe(false);
    expect(objectOf(objects, "ScaledObject", "worker").spec).toMatchObject({
      minReplicaCount: 5,
      maxReplicaCount: 20,
      triggers: [
        {
          type: "redis",
          metadata: { address: "redis.nomosx.svc:6379", listName: "bull:analyst:wait", listLength: "50" },
          authenticationRef: { name: "worker-queue" },
        },
      ],
    });
    expect(objectOf(objects, "TriggerAuthentication", "worker-queue").spec.secretTargetRef).toEqual([
      { parameter: "password", name: "ballast-secrets", key: "redis-password" },
    ]);
    const stack = await rendered("nomosx", "kubernetes");
    expect(workloadOf(stack, "api").autoscaling).toEqual({ minReplicas: 3, maxReplicas: 10, cpuTargetPercent: 70 });
    expect(workloadOf(stack, "worker").autoscaling).toMatchObject({
      minReplicas: 5,
      maxReplicas: 20,
      queue: { kind: "redis-list", key: "bull:analyst:wait", targetPerReplica: 50 },
    });
    expect(workloadOf(stack, "api").resources.limits).toEqual({ cpu: 2, memoryMiB: 4096 });
    expect(workloadOf(stack, "worker").resources.limits).toEqual({ cpu: 4, memoryMiB: 8192 });
    expect(objectOf(objects, "CronJob", "queue-clean").spec.schedule).toBe("0 3 * * *");
  });

  it("Compose: the runbook's 3 api and 5 worker replicas; the workers follow the queue up to 6 (autoscale.sh from cron)", async () => {
    const compose = await composeOf("nomosx");
    expect(compose.services.api.deploy?.replicas).toBe(3);
    expect(compose.services.worker.deploy?.replicas).toBe(5);
    const files = (await rendered("nomosx", "compose")).files;
    expect(files.find((f) => f.path === "crontab")?.content).toContain(
      "* * * * * flock -n /opt/nomosx/.ballast/autoscale.lock bash --noprofile --norc /opt/nomosx/current/autoscale.sh",
    );
    const script = files.find((f) => f.path === "autoscale.sh")?.content ?? "";
    expect(script).toContain("declare -rA QUEUE_KEY=(['worker']='bull:analyst:wait')");
    expect(script).toContain("declare -rA SCALE_MAX=(['worker']='6')");
  });

  it.each(targets)("builds api, worker and cron from Dockerfile.api/.worker/.cron and pushes them to the registry (%s)", async (target) => {
    const stack = await rendered("nomosx", target);
    expect(workloadOf(stack, "api").builtFrom?.dockerfile).toBe("Dockerfile.api");
    expect(workloadOf(stack, "worker").builtFrom?.dockerfile).toBe("Dockerfile.worker");
    expect(workloadOf(stack, "queue-clean").builtFrom?.dockerfile).toBe("Dockerfile.cron");
    expect(stack.model.registry).toEqual({ server: "ghcr.io", username: "nomosx-ci", passwordSecret: "registry-password" });
    const pushes = stack.recorder.byType("docker:index/image:Image").map((r) => r.inputs as { imageName: string; skipPush: boolean });
    expect(pushes.map((p) => p.imageName).sort()).toEqual([
      "ghcr.io/nomosx/nomosx-api:" + target,
      "ghcr.io/nomosx/nomosx-cron:" + target,
      "ghcr.io/nomosx/nomosx-worker:" + target,
    ]);
    expect(pushes.every((p) => p.skipPush === false)).toBe(true);
  });

  it.each(targets)("configures Redis with maxmemory 4gb, allkeys-lru and save 900 1 300 10 60 10000 (%s)", async (target) => {
    const conf = configFile(workloadOf(await rendered("nomosx", target), "redis"), "redis.conf");
    expect(conf).toContain("maxmemory 4gb");
    expect(conf).toContain("maxmemory-policy allkeys-lru");
    expect(conf).toContain('save "900 1 300 10 60 10000"');
  });

  it.each(targets)("backs up daily with retention, copies offsite weekly and drills monthly on AnalysisRun (%s)", async (target) => {
    const stack = await rendered("nomosx", target);
    const backup = workloadOf(stack, "backup");
    expect(backup.schedule).toBe("0 2 * * *");
    expect(backup.env).toMatchObject({ RETAIN_DAILY: "7", RETAIN_WEEKLY: "4", RETAIN_MONTHLY: "6" });
    expect(workloadOf(stack, "backup-offsite").schedule).toBe("0 6 * * 0");
    const drill = workloadOf(stack, "restore-drill");
    expect(drill.schedule).toBe("30 4 1 * *");
    expect(drill.env).toMatchObject({ DRILL_TABLES: "AnalysisRun", FRESHNESS_TABLE: "CostLog", FRESHNESS_COLUMN: "createdAt" });
  });

  it.each(targets)(
    "pages PagerDuty on critical alerts and posts every alert to Slack #incidents, each with its own secret (%s)",
    async (target) => {
      const stack = await rendered("nomosx", target);
      const alertmanagerWorkload = workloadOf(stack, "alertmanager");
      const config = parse(configFile(alertmanagerWorkload, "alertmanager.yml")) as {
        route: Route;
        receivers: { name: string; slack_configs?: { channel: string }[]; pagerduty_configs?: unknown[] }[];
      };
      expect(config.receivers.map((r) => r.name)).toEqual(["ops", "pagerduty"]);
      expect(config.receivers[0].slack_configs?.[0].channel).toBe("#incidents");
      expect(config.receivers[1].pagerduty_configs).toHaveLength(1);
      expect(routeReceivers(config.route, { alertname: "DatabaseDown", severity: "critical" })).toEqual(["pagerduty", "ops"]);
      expect(routeReceivers(config.route, { alertname: "QueueBacklog", severity: "warning" })).toEqual(["ops"]);
      expect(alertmanagerWorkload.secretFiles.map((f) => f.secret)).toEqual(["alertmanager-receiver", "alertmanager-receiver-pagerduty"]);
      expect(stack.placeholderSecrets).toEqual(expect.arrayContaining(["alertmanager-receiver", "alertmanager-receiver-pagerduty"]));
    },
  );

  it("alerts on the runbook's thresholds; health on /health", async () => {
    const stack = await rendered("nomosx", "kubernetes");
    const rules = configFile(workloadOf(stack, "prometheus"), "ballast.rules.yml");
    expect(rules).toMatch(/sum\(rate\(errors_total\[5m\]\)\) \/ sum\(rate\(http_requests_total\[5m\]\)\) > 5\b/);
    expect(rules).toMatch(/queue_waiting_count.*> 1000/);
    expect(workloadOf(stack, "api").health?.http?.path).toBe("/health");
    expect(workloadOf(stack, "api").route?.host).toBe("api.nomosx.ai");
  });

  it.each(targets)(
    "provisions the Trust & Quality and Costs boards from examples/nomosx/dashboards beside the built-ins, titled NomosX - ... (%s)",
    async (target) => {
      const stack = await rendered("nomosx", target);
      const grafana = workloadOf(stack, "grafana");
      const titleOf = (name: string) => (JSON.parse(configFile(grafana, name)) as { title: string }).title;
      expect(titleOf("ballast-overview.json")).toBe("NomosX - Overview");
      expect(titleOf("ballast-api.json")).toBe("NomosX - API performance");
      for (const [file, uid, title] of [
        ["trust-quality.json", "nomosx-trust-quality", "NomosX - Trust & Quality"],
        ["costs.json", "nomosx-costs", "NomosX - Costs"],
      ]) {
        const source = JSON.parse(readFileSync(join(examplesDir, "nomosx", "dashboards", file), "utf8")) as { panels: unknown[] };
        // The file's content is what ships: Compose copies it into the release bundle, Kubernetes into the grafana ConfigMap.
        const shipped =
          target === "compose"
            ? fileText(stack, `config/grafana/${uid}.json`)
            : objectOf(await kubernetesObjects("nomosx"), "ConfigMap", "grafana-config").data?.[`${uid}.json`];
        const model = JSON.parse(shipped ?? "{}") as { title: string; uid: string; id: unknown; panels: unknown[] };
        expect(model).toMatchObject({ title, uid, id: null });
        expect(model.panels).toEqual(source.panels);
        expect(grafana.configFiles.find((f) => f.name === `${uid}.json`)?.mountPath).toBe(`/etc/grafana/dashboards/${uid}.json`);
      }
    },
  );

  it.each(targets)(
    "ships the team's rule groups (inline nomosx-pipeline, nomosx-quality from its rule file) beside Ballast's (%s)",
    async (target) => {
      const stack = await rendered("nomosx", target);
      const prometheus = workloadOf(stack, "prometheus");
      const team = parse(configFile(prometheus, "team.rules.yml")) as { groups: { name: string; rules: { alert: string }[] }[] };
      expect(team.groups.map((g) => [g.name, g.rules.map((r) => r.alert)])).toEqual([
        ["nomosx-pipeline", ["WorkersIdleWithBacklog"]],
        ["nomosx-quality", ["TrustScoreLow", "TokenUsageSpike"]],
      ]);
      const config = parse(configFile(prometheus, "prometheus.yml")) as { rule_files: string[] };
      expect(config.rule_files).toEqual(["/etc/prometheus/rules/ballast.rules.yml", "/etc/prometheus/rules/team.rules.yml"]);
      const shipped =
        target === "compose"
          ? fileText(stack, "config/prometheus/team.rules.yml")
          : objectOf(await kubernetesObjects("nomosx"), "ConfigMap", "prometheus-config").data?.["team.rules.yml"];
      expect(shipped).toBe(configFile(prometheus, "team.rules.yml"));
    },
  );
});

describe("NexusCore", () => {
  it.each(targets)(
    "uses the external Supabase database: no Postgres and no Redis workload, DATABASE_URL from the supplied secret (%s)",
    async (target) => {
      const stack = await rendered("nexuscore", target);
      const names = namesOf(stack);
      for (const absent of ["postgres", "redis", "redis-exporter", "backup", "restore-drill"]) expect(names, absent).not.toContain(absent);
      const api = workloadOf(stack, "api");
      expect(api.secretEnv.DATABASE_URL).toBe("database-url");
      expect(api.secretEnv).not.toHaveProperty("REDIS_URL");
      expect(api.ports).toEqual([{ name: "http", port: 3001 }]);
      expect(stack.placeholderSecrets).toContain("database-url");
      expect(stack.model.secrets.map((s) => s.name)).not.toContain("postgres-password");
    },
  );

  it.each(targets)("builds the LLM gateway as an extra service on port 8000, traced into Jaeger (%s)", async (target) => {
    const stack = await rendered("nexuscore", target);
    const gateway = workloadOf(stack, "llm-gateway");
    expect(gateway.builtFrom).toMatchObject({ context: "apps/llm-gateway", dockerfile: "Dockerfile" });
    expect(gateway.ports).toEqual([{ name: "http", port: 8000 }]);
    expect(gateway.route).toBeUndefined();
    expect(gateway.network.allowFrom).toContain("api");
    expect(namesOf(stack)).toContain("jaeger");
    expect(namesOf(stack)).not.toContain("tempo");
    expect(workloadOf(stack, "jaeger").configFiles[0].content).toContain("spans: 168h");
    for (const traced of [gateway, workloadOf(stack, "api")]) {
      expect(traced.env.OTEL_EXPORTER_OTLP_ENDPOINT, traced.name).toBe("http://jaeger:4318");
      expect(traced.env.OTEL_SERVICE_NAME, traced.name).toBe("nexuscore");
      expect(traced.env.OTEL_TRACES_SAMPLER_ARG, traced.name).toBe("1");
    }
  });
});

describe("NexusCore SLOs", () => {
  it.each(targets)(
    "declares the runbook's SLOs (API and gateway availability, P95 latency, webhook success) with burn-rate alerts and the SLO dashboard (%s)",
    async (target) => {
      const stack = await rendered("nexuscore", target);
      const rules = parse(configFile(workloadOf(stack, "prometheus"), "ballast.rules.yml")) as {
        groups: { name: string; rules: { alert?: string; labels?: Record<string, string> }[] }[];
      };
      const burns = rules.groups.flatMap((g) => g.rules).filter((r) => r.alert === "SLOErrorBudgetBurn");
      expect(burns.map((r) => `${r.labels?.slo}/${r.labels?.service}/${r.labels?.severity}`)).toEqual([
        "api-availability/api/critical",
        "api-availability/api/warning",
        "api-latency/api/critical",
        "api-latency/api/warning",
        "webhook-success/api/critical",
        "webhook-success/api/warning",
        "gateway-availability/llm-gateway/critical",
        "gateway-availability/llm-gateway/warning",
      ]);
      const grafana = workloadOf(stack, "grafana");
      expect(
        grafana.configFiles.some((f) => f.content.includes('"uid": "ballast-slos"') || f.content.includes('"uid":"ballast-slos"')),
      ).toBe(true);
      // Prometheus scrapes both services the SLOs read.
      expect(workloadOf(stack, "api").metrics).toEqual({ path: "/metrics", port: 3001 });
      expect(workloadOf(stack, "llm-gateway").metrics).toEqual({ path: "/metrics", port: 8000 });
    },
  );
});

describe("Dealix", () => {
  it.each(targets)("checks liveness on /health and gates releases on /health/deep (%s)", async (target) => {
    const api = workloadOf(await rendered("dealix", target), "api");
    expect(api.health?.http).toEqual({ path: "/health", port: 8001 });
    expect(api.deepHealth).toEqual({ path: "/health/deep", port: 8001 });
    expect(api.route?.host).toBe("api.dealix.me");
  });

  it("Compose: the release gate probes /health/deep and rolls back within the 5-minute target", async () => {
    const stack = await rendered("dealix", "compose");
    const deploy = fileText(stack, "deploy.sh");
    expect(deploy).toContain("/health/deep");
    expect(deploy).toMatch(/WAIT_TIMEOUT=240\b/);
  });

  it("Kubernetes: probes on /health, a rollout fails after 240 s without progress, the blackbox exporter probes /health/deep", async () => {
    const objects = await kubernetesObjects("dealix");
    const deployment = objectOf(objects, "Deployment", "api");
    expect(deployment.spec.progressDeadlineSeconds).toBe(240);
    const container = deployment.spec.template.spec.containers[0];
    expect(container.livenessProbe?.httpGet?.path).toBe("/health");
    expect(container.readinessProbe?.httpGet?.path).toBe("/health");
    const stack = await rendered("dealix", "kubernetes");
    expect(configFile(workloadOf(stack, "prometheus"), "prometheus.yml")).toContain("/health/deep");
  });

  it.each(targets)(
    "drills monthly on leads and users, freshness leads.created_at within the 24 h RPO, in at most 15 minutes (%s)",
    async (target) => {
      const stack = await rendered("dealix", target);
      const drill = workloadOf(stack, "restore-drill");
      expect(drill.schedule).toBe("30 4 1 * *");
      expect(drill.env).toMatchObject({
        DRILL_TABLES: "leads,users",
        DRILL_TOLERANCE_PERCENT: "5",
        FRESHNESS_TABLE: "leads",
        FRESHNESS_COLUMN: "created_at",
        RPO_HOURS: "24",
        DRILL_GOAL_SECONDS: "900",
      });
      expect(workloadOf(stack, "backup").schedule).toBe("0 2 * * *");
      expect(workloadOf(stack, "migrate").command).toEqual(["alembic", "upgrade", "head"]);
      // The alerts follow the same RPO and drill goal.
      const rules = configFile(workloadOf(stack, "prometheus"), "ballast.rules.yml");
      expect(rules).toContain("(time() - ballast_backup_last_success_timestamp_seconds) / 3600 > 24");
      expect(rules).toContain("ballast_restore_drill_last_duration_seconds / 60 > 15");
    },
  );

  it.each(targets)("rotates ALL generated secrets with one counter (scenario 6), Postgres in place (%s)", async (target) => {
    const stack = await rendered("dealix", target);
    const keepers = Object.fromEntries(
      // The Secrets component's children are named `ballast-secrets-<secret>`.
      stack.recorder
        .byType("random:index/randomPassword:RandomPassword")
        .map((p) => [p.name.replace(/^ballast-secrets-/, ""), p.inputs.keepers]),
    );
    for (const secret of [
      "postgres-password",
      "postgres-app-password",
      "postgres-monitor-password",
      "postgres-backup-password",
      "redis-password",
    ]) {
      expect(keepers[secret], secret).toEqual({ rotation: "1" });
    }
    expect(workloadOf(stack, "api").env.BALLAST_SECRET_REVISIONS).toBe("postgres-app-password=1,redis-password=1");
    expect(workloadOf(stack, "postgres").env.BALLAST_SECRET_REVISIONS).toBeUndefined();
    expect(workloadOf(stack, "postgres").liveSecrets).toEqual([
      { secret: "postgres-password", apply: ["/usr/local/bin/ballast-postgres-rotate"] },
      { secret: "postgres-app-password", apply: ["/usr/local/bin/ballast-postgres-rotate", "ballast_app"] },
      { secret: "postgres-monitor-password", apply: ["/usr/local/bin/ballast-postgres-rotate", "ballast_monitor"] },
      { secret: "postgres-backup-password", apply: ["/usr/local/bin/ballast-postgres-rotate", "ballast_backup"] },
    ]);
  });

  it("keeps queue jobs: Redis never evicts and appends every write", async () => {
    const conf = configFile(workloadOf(await rendered("dealix", "compose"), "redis"), "redis.conf");
    expect(conf).toContain("maxmemory-policy noeviction");
    expect(conf).toContain("appendonly yes");
  });
});

describe("AI Training Portal", () => {
  it.each(targets)("runs `web` and `db` without Redis, health on /api/health (%s)", async (target) => {
    const stack = await rendered("ai-training-portal", target);
    const web = workloadOf(stack, "web");
    expect(web.image).toBe("ghcr.io/charleskrammer/ai-plateforme:sha-1a2b3c4");
    expect(web.health?.http).toEqual({ path: "/api/health", port: 3000 });
    expect(web.secretEnv).toEqual({ DATABASE_URL: "database-url", DATABASE_URL_UNPOOLED: "database-url" });
    expect(web.dependsOn).toEqual(expect.arrayContaining(["db", "migrate"]));
    const db = workloadOf(stack, "db");
    expect(db.env).toMatchObject({ POSTGRES_DB: "claude_training", POSTGRES_USER: "postgres" });
    for (const absent of ["app", "postgres", "redis"]) expect(namesOf(stack), absent).not.toContain(absent);
  });

  it("Compose: the whole stack fits the 1 vCPU / 1 GB host, monitoring off", async () => {
    const stack = await rendered("ai-training-portal", "compose");
    expect(configOf("ai-training-portal", "compose").host).toEqual({ cpus: 1, memoryGiB: 1 });
    expect(namesOf(stack).sort()).toEqual(["backup", "db", "migrate", "restore-drill", "traefik", "volume-owners", "web"]);
    const fit = composeHostFit(stack.model.workloads, { cpus: 1, memoryGiB: 1 });
    expect(fit.problems).toEqual([]);
    expect(fit.memoryMiB).toBeLessThanOrEqual(1024);
    expect(fit.cpu).toBeLessThanOrEqual(1);
    const compose = await composeOf("ai-training-portal");
    expect(Object.keys(compose.services)).toEqual(expect.arrayContaining(["web", "db"]));
    expect(compose.services.web.depends_on).toMatchObject({
      db: { condition: "service_healthy" },
      migrate: { condition: "service_completed_successfully" },
    });
  });

  it("Kubernetes: the database is a StatefulSet named db, the app a Deployment named web", async () => {
    const objects = await kubernetesObjects("ai-training-portal");
    expect(objectOf(objects, "StatefulSet", "db").spec.template.spec.containers[0].image).toBe("pgvector/pgvector:0.8.0-pg16");
    expect(objectOf(objects, "Deployment", "web").spec.replicas).toBe(2);
  });
});
