/**
 * `npm run import`: a team's docker-compose file -> a Ballast stack file. One realistic compose
 * file per runbook (test/fixtures/compose-import/) is imported for both targets, checked by the
 * config pipeline `pulumi up` uses, and rendered like `npm run render` (compose-spec schema,
 * kubernetes-models); then one test per mapping rule and per error.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import {
  findingLine,
  ImportError,
  importComposeText,
  stackFileText,
  summaryText,
  validateImport,
  type ComposeImport,
} from "../scripts/import/index";
import { cronOf, cronOfInterval, sleepLoop } from "../scripts/import/schedule";
import { memoryOf, splitHost } from "../scripts/import/values";
import { renderStackFile } from "../scripts/lib/render-stack";
import { composeDocumentOf, composeSpecProblems, kubernetesObjectsOf, kubernetesSchemaProblems } from "./fixtures/validators";

const root = join(__dirname, "..");
const systems = ["nyxcore", "nomosx", "nexuscore", "dealix", "ai-training-portal"] as const;
type System = (typeof systems)[number];
const targets = ["compose", "kubernetes"] as const;
type Target = (typeof targets)[number];

/** The runbooks' moving tags (ollama/ckb :latest, NomosX's locally built :latest), pinned as a user does with --image. */
const pins: Partial<Record<System, Record<string, string>>> = {
  nyxcore: { ollama: "ollama/ollama:0.5.7", ckb: "ghcr.io/simplyliz/ckb:1.0.0" },
  nomosx: { api: "ghcr.io/nomosx/nomosx-api:2.0.0", worker: "ghcr.io/nomosx/nomosx-worker:2.0.0" },
};

const fixturePath = (system: System) => `test/fixtures/compose-import/${system}.docker-compose.yml`;

function imported(system: System, target: Target, images = pins[system]): ComposeImport {
  return importComposeText(readFileSync(join(root, fixturePath(system)), "utf8"), fixturePath(system), { stack: target, target, images });
}

/** A compose file written inline; `prod` on Compose unless said otherwise. */
function inline(text: string, options: Partial<Parameters<typeof importComposeText>[2]> = {}): ComposeImport {
  return importComposeText(text, "docker-compose.yml", { stack: "prod", target: "compose", ...options });
}

const config = (result: ComposeImport) => result.config as Record<string, any>;
const findings = (result: ComposeImport) => result.findings.map(findingLine);
const requiredSecrets = (result: ComposeImport) => result.secrets.filter((s) => s.required).map((s) => s.name);

const scratch = mkdtempSync(join(tmpdir(), "ballast-import-"));
/** Writes the stack file as the CLI does and renders it exactly as `npm run render` does. */
async function renderImported(system: System, target: Target) {
  const directory = join(scratch, system);
  mkdirSync(directory, { recursive: true });
  const path = join(directory, `Pulumi.${target}.yaml`);
  writeFileSync(path, stackFileText(imported(system, target), path));
  return renderStackFile(path);
}

describe.each(systems)("importing %s's production compose file", (system) => {
  it.each(targets)("gives a stack file the config pipeline accepts for %s", (target) => {
    expect(validateImport(imported(system, target)).problems).toEqual([]);
  });

  it.each(targets)("renders on %s, valid against the target's schema", async (target) => {
    const stack = await renderImported(system, target);
    expect(stack.target).toBe(target);
    const problems =
      target === "compose"
        ? composeSpecProblems(composeDocumentOf(stack.files))
        : kubernetesSchemaProblems(kubernetesObjectsOf(stack.files));
    expect(problems).toEqual([]);
    const app = config(imported(system, target)).app;
    expect(stack.model.workloads.map((w) => w.name)).toContain(app.name ?? "app");
  });

  it("writes a stack file whose config block is what was imported, with the header and the findings as comments", () => {
    const result = imported(system, "compose");
    const text = stackFileText(result, `Pulumi.${system}.yaml`);
    expect(text.startsWith(`# Imported by \`npm run import\` from ${fixturePath(system)} (target compose, environment prod).`)).toBe(true);
    const parsed = parse(text) as { config: Record<string, unknown> };
    expect(Object.keys(parsed.config)[0]).toBe("ballast:environment");
    expect(parsed.config["ballast:app"]).toEqual(config(result).app);
    for (const finding of result.findings) expect(text).toContain(`#   ${findingLine(finding)}`);
  });
});

describe("what each runbook's compose file becomes", () => {
  it("nyxcore: the built app behind Traefik, pgvector, Redis, three extra services; proxy and monitoring replaced", () => {
    const result = imported("nyxcore", "compose");
    const c = config(result);
    expect(c.domain).toBe("nyxcore.cloud");
    expect(c.acmeEmail).toBe("ops@nyxcore.cloud");
    expect(c.registry).toEqual({ server: "ghcr.io" });
    expect(c.app).toEqual({
      build: { context: ".", dockerfile: "Dockerfile", repository: "ghcr.io/nyxcore/app" },
      port: 3000,
      health: { liveness: "/api/v1/health", startPeriodSeconds: 90 },
      metrics: false,
      subdomain: "",
      env: { NODE_ENV: "production", OLLAMA_BASE_URL: "http://ollama:11434", IPCHA_URL: "http://ipcha:8080" },
      secretEnv: {
        AUTH_SECRET: "auth-secret",
        ENCRYPTION_KEY: "encryption-key",
        STRIPE_SECRET_KEY: "stripe-secret-key",
        STRIPE_WEBHOOK_SECRET: "stripe-webhook-secret",
      },
    });
    expect(c.postgres).toEqual({ image: "pgvector/pgvector:0.8.0-pg16", database: "nyxcore", user: "nyxcore", extensions: ["vector"] });
    expect(c.redis).toEqual({ maxmemory: "256mb", evictionPolicy: "allkeys-lru" });
    expect(c.services).toEqual([
      { name: "ollama", image: "ollama/ollama:0.5.7", port: 11434, storage: { mountPath: "/root/.ollama", sizeGiB: 10 } },
      { name: "ipcha", build: { context: "ipcha", dockerfile: "Dockerfile", repository: "ghcr.io/nyxcore/ipcha" }, port: 8080 },
      { name: "ckb", image: "ghcr.io/simplyliz/ckb:1.0.0", port: 8080 },
    ]);
    expect(c.monitoring).toBeUndefined();
    expect(requiredSecrets(result)).toEqual(["encryption-key", "stripe-secret-key", "stripe-webhook-secret"]);
    expect(result.secrets.find((s) => s.name === "auth-secret")).toMatchObject({
      required: false,
      builtin: true,
      readBy: ["app.AUTH_SECRET"],
      line: 15,
    });
    expect(findings(result)).toEqual(
      expect.arrayContaining([
        "line 13: app: DATABASE_URL — not mapped because Ballast injects DATABASE_URL for its own Postgres (a generated password); the compose value is not copied",
        "line 83: ckb: volume /opt/nyxcore/repos:/repos:ro — not mapped because bind mounts of host files are not declarable: bake the files into the image or use a config key",
        "line 86: traefik: traefik:latest — replaced: replaced by Ballast's own Traefik (routes, TLS from Let's Encrypt): its labels, config files and ports are not copied",
        "line 41: postgres: image pgvector/pgvector:pg16 — changed: pgvector/pgvector:0.8.0-pg16 instead: the same PostgreSQL 16, pinned, with pgvector (Ballast's restore drill creates the vector extension)",
      ]),
    );
    expect(result.findings.filter((f) => f.kind === "replaced").map((f) => f.line)).toEqual([86, 105, 113, 124, 131, 138, 143, 148, 154]);
  });

  it("nyxcore without --image: the runbook's :latest images are refused with pulumi up's own message and the lines", () => {
    const result = imported("nyxcore", "compose", {});
    expect(result.unpinned).toEqual([
      { service: "ollama", line: 65, image: "ollama/ollama:latest" },
      { service: "ckb", line: 79, image: "ghcr.io/simplyliz/ckb:latest" },
    ]);
    expect(validateImport(result).problems).toEqual([
      'ballast:services[0].image: must be pinned by an exact version tag (e.g. "redis:7.4.2-alpine") or a digest ("name@sha256:..."); "latest" and an untagged name move under a running stack (got "ollama/ollama:latest")',
      'ballast:services[2].image: must be pinned by an exact version tag (e.g. "redis:7.4.2-alpine") or a digest ("name@sha256:..."); "latest" and an untagged name move under a running stack (got "ghcr.io/simplyliz/ckb:latest")',
    ]);
    expect(summaryText(result, "Pulumi.nyxcore.yaml", validateImport(result), false)).toContain(
      `npm run import -- ${fixturePath("nyxcore")} --image ollama=ollama/ollama:<version> --image ckb=ghcr.io/simplyliz/ckb:<version>`,
    );
  });

  it("nomosx: api with 3 replicas, 5 workers at 4 CPU / 8 GB, Redis flags; the cron container and env_file are findings", () => {
    const result = imported("nomosx", "kubernetes");
    const c = config(result);
    expect(c.app).toMatchObject({
      name: "api",
      image: "ghcr.io/nomosx/nomosx-api:2.0.0",
      port: 3000,
      replicas: 3,
      resources: { cpu: 2, memory: "4Gi" },
    });
    expect(c.app.secretEnv).toEqual({
      OPENAI_API_KEY: "openai-api-key",
      JWT_SECRET: "auth-secret",
      ADMIN_KEY: "admin-key",
      SENTRY_DSN: "sentry-dsn",
    });
    expect(c.workers).toEqual([
      {
        name: "worker",
        image: "ghcr.io/nomosx/nomosx-worker:2.0.0",
        replicas: 5,
        resources: { cpu: 4, memory: "8Gi" },
        env: { NODE_ENV: "production" },
        secretEnv: { OPENAI_API_KEY: "openai-api-key", SENTRY_DSN: "sentry-dsn" },
      },
    ]);
    expect(c.cronJobs).toBeUndefined();
    expect(c.postgres).toEqual({ image: "pgvector/pgvector:0.8.0-pg15", database: "nomosx", user: "nomosx", extensions: ["vector"] });
    expect(c.redis).toEqual({ maxmemory: "4gb", evictionPolicy: "allkeys-lru", save: "900 1 300 10 60 10000" });
    expect(c.kubernetes).toEqual({ namespace: "nomosx" });
    expect(c.monitoring).toEqual({ grafana: { allowFrom: ["198.51.100.0/24"] } });
    expect(requiredSecrets(result)).toEqual(["admin-key", "openai-api-key", "sentry-dsn"]);
    expect(findings(result)).toEqual(
      expect.arrayContaining([
        "line 17: api: env_file — not mapped because the importer does not read env files (they hold secret values): declare each variable under env or secretEnv",
        "line 47: cron: a scheduler container (nomosx-cron:latest) — not mapped because its schedule lives inside the image or a crontab file the importer cannot read: declare each job under ballast:cronJobs (name, schedule, command)",
        "line 68: redis: --requirepass — not mapped because Ballast generates the Redis password (secret redis-password) and gives clients REDIS_URL",
        "line 5: api: no HTTP health check — not mapped because Ballast's default liveness path /api/health is used: set app.health.liveness to your health endpoint",
      ]),
    );
  });

  it("nexuscore: Supabase as an external database, no Redis, the gateway as an extra service, a sleep loop as a daily job, Jaeger as tracing", () => {
    const result = imported("nexuscore", "compose");
    const c = config(result);
    expect(c.postgres).toEqual({ external: true });
    expect(c.redis).toEqual({ enabled: false });
    expect(c.app).toMatchObject({
      name: "api",
      build: { context: ".", dockerfile: "apps/api/Dockerfile", repository: "ghcr.io/nexuscore/api" },
      port: 3001,
      health: { liveness: "/api/health", startPeriodSeconds: 20 },
    });
    expect(c.app.env).toEqual({
      NODE_ENV: "production",
      PORT: "3001",
      SUPABASE_URL: "https://abcdefghijklmnop.supabase.co",
      LLM_GATEWAY_URL: "http://llm-gateway:8000",
      OTEL_SERVICE_NAME: "nexuscore",
    });
    expect(c.cronJobs).toEqual([
      {
        name: "usage-report",
        schedule: "0 0 * * *",
        command: ["node", "dist/jobs/report-usage.js"],
        secretEnv: { STRIPE_SECRET_KEY: "stripe-secret-key" },
      },
    ]);
    expect(c.services).toEqual([
      {
        name: "llm-gateway",
        build: { context: "apps/llm-gateway", dockerfile: "Dockerfile", repository: "ghcr.io/nexuscore/llm-gateway" },
        port: 8000,
        health: { liveness: "/health" },
        env: { SUPABASE_URL: "https://abcdefghijklmnop.supabase.co", OTEL_SERVICE_NAME: "nexuscore" },
        secretEnv: {
          OPENAI_API_KEY: "openai-api-key",
          ANTHROPIC_API_KEY: "anthropic-api-key",
          TOGETHER_API_KEY: "together-api-key",
          SUPABASE_SERVICE_ROLE_KEY: "supabase-service-role-key",
        },
      },
    ]);
    expect(c.monitoring).toEqual({ tracing: { enabled: true, backend: "jaeger" } });
    expect(result.secrets.find((s) => s.name === "database-url")).toMatchObject({
      required: true,
      builtin: true,
      readBy: ["api.DATABASE_URL", "usage-report.DATABASE_URL"],
      line: 17,
    });
    expect(findings(result)).toEqual(
      expect.arrayContaining([
        "line 21: api: OTEL_EXPORTER_OTLP_ENDPOINT — not mapped because Ballast sets the OTLP settings of its own tracing backend (monitoring.tracing)",
        "line 47: usage-report: image ghcr.io/nexuscore/api:latest — changed: the image built for api: it runs the app's image (built and pushed by Ballast)",
        "line 48: usage-report: every 86400 s — changed: runs at fixed times (0 0 * * *, UTC) instead of 86400 s after the container started",
      ]),
    );
  });

  it("dealix: the domain from VIRTUAL_HOST, alembic as the migration, the worker on the app's image, Redis as a queue; nginx replaced", () => {
    const result = imported("dealix", "compose");
    const c = config(result);
    expect(c.domain).toBe("dealix.me");
    expect(c.acmeEmail).toBe("ops@dealix.me");
    expect(c.app).toMatchObject({
      name: "api",
      port: 8001,
      subdomain: "api",
      command: ["uvicorn", "app.main:app", "--host", "0.0.0.0", "--port", "8001", "--workers", "4"],
      health: { liveness: "/health", startPeriodSeconds: 30 },
      stopGracePeriodSeconds: 60,
      migration: { command: ["alembic", "upgrade", "head"] },
      env: { POSTHOG_HOST: "https://eu.i.posthog.com", LLM_PROVIDER_PRIORITY: "anthropic,openai,google" },
    });
    expect(c.workers).toEqual([
      {
        name: "worker",
        command: ["arq", "app.worker.WorkerSettings"],
        replicas: 2,
        secretEnv: { SENTRY_DSN: "sentry-dsn", ANTHROPIC_API_KEY: "anthropic-api-key", OPENAI_API_KEY: "openai-api-key" },
      },
    ]);
    expect(c.redis).toEqual({ image: "redis:7.2.4-alpine", evictionPolicy: "noeviction", appendonly: true });
    expect(c.postgres).toEqual({ image: "pgvector/pgvector:0.8.0-pg16", database: "dealix", user: "dealix", extensions: ["vector"] });
    expect(result.mapped.map((m) => `${m.line} ${m.service} -> ${m.role}`)).toEqual([
      "6 api -> app",
      "40 migrate -> migration",
      "53 worker -> worker",
      "65 postgres -> postgres",
      "77 redis -> redis",
      "85 nginx -> proxy",
    ]);
    expect(findings(result)).toEqual(
      expect.arrayContaining([
        "line 73: postgres: volume ./backups:/var/backups/postgres — not mapped because Ballast's Postgres data keeps only its data directory",
        "line 72: postgres: volume pg_data — changed: mapped to Ballast's Postgres data volume, which starts empty: the data is not moved (restore a dump, docs/backup-restore.md)",
        "line 85: nginx: nginx:1.27-alpine — replaced: replaced by Ballast's own Traefik (routes, TLS from Let's Encrypt): its labels, config files and ports are not copied",
      ]),
    );
  });

  it("ai-training-portal: web and db keep their names; the direct URL to db becomes Ballast's database-url; a key written in the file becomes a secret", () => {
    const result = imported("ai-training-portal", "compose");
    const c = config(result);
    expect(c.app).toMatchObject({
      name: "web",
      port: 3000,
      health: { liveness: "/api/health", startPeriodSeconds: 60 },
      env: { NODE_ENV: "production", SEED_DB: "true" },
    });
    expect(c.app.secretEnv).toEqual({ DATABASE_URL_UNPOOLED: "database-url", ANTHROPIC_API_KEY: "anthropic-api-key" });
    expect(c.app.build).toEqual({ context: ".", dockerfile: "Dockerfile", repository: "registry.example.com/ai-training-portal/web" });
    expect(c.postgres).toEqual({
      name: "db",
      image: "pgvector/pgvector:0.8.0-pg16",
      database: "claude_training",
      user: "postgres",
      extensions: ["vector"],
    });
    expect(c.redis).toEqual({ enabled: false });
    expect(result.secrets.find((s) => s.name === "anthropic-api-key")).toMatchObject({
      required: true,
      line: 12,
      note: "ANTHROPIC_API_KEY, written in the compose file (not copied)",
    });
    expect(result.placeholders.map((p) => p.path.join("."))).toEqual([
      "domain",
      "acmeEmail",
      "compose.ssh.host",
      "compose.ssh.hostKey",
      "compose.bootstrap.sshAllowFrom",
      "compose.bootstrap.authorizedKeys",
      "compose.bootstrap.adminKeys",
      "app.build.repository",
    ]);
    expect(stackFileText(result, "Pulumi.portal.yaml")).toContain(
      "      # REPLACE: the registry web's built image is pushed to and pulled from (the compose file names none).\n      repository: registry.example.com/ai-training-portal/web",
    );
  });

  it("copies no secret value from a compose file into the stack file, the summary or the render", async () => {
    const compose = readFileSync(join(root, fixturePath("ai-training-portal")), "utf8");
    const values = ["Tr41ning-Portal-Pw", "sk-ant-api03-portal-literal-key-0001"];
    for (const value of values) expect(compose).toContain(value);
    for (const target of targets) {
      const result = imported("ai-training-portal", target);
      const texts = [
        stackFileText(result, "Pulumi.x.yaml"),
        summaryText(result, "Pulumi.x.yaml", validateImport(result), true),
        JSON.stringify(result),
      ];
      const rendered = await renderImported("ai-training-portal", target);
      texts.push(...rendered.files.map((f) => f.content));
      for (const value of values) for (const text of texts) expect(text).not.toContain(value);
    }
  });
});

describe("mapping rules", () => {
  it("picks as workers the services without ports and those whose command runs a queue consumer", () => {
    const result = inline(`services:
  web:
    image: acme/web:1.2.3
    ports: ["8080:8080"]
  celery:
    image: acme/web:1.2.3
    command: celery -A acme worker -l info
    ports: ["5555:5555"]
  mailer:
    image: acme/mailer:2.0.1
`);
    expect(config(result).app).toMatchObject({ name: "web", image: "acme/web:1.2.3", port: 8080 });
    expect(config(result).workers.map((w: { name: string; command?: string[] }) => [w.name, w.command])).toEqual([
      ["celery", ["celery", "-A", "acme", "worker", "-l", "info"]],
      ["mailer", undefined],
    ]);
    expect(findings(result)).toContain(
      "line 8: celery: published ports 5555:5555 — not mapped because workers serve no traffic in Ballast",
    );
  });

  it("turns ofelia job-exec labels into cron jobs in the app's image and replaces the ofelia scheduler", () => {
    const result = inline(`services:
  app:
    image: acme/app:1.4.0
    ports: ["3000"]
    labels:
      ofelia.enabled: "true"
      ofelia.job-exec.cleanup.schedule: "0 30 3 * * *"
      ofelia.job-exec.cleanup.command: "npm run cleanup -- --days 30"
  ofelia:
    image: mcuadros/ofelia:0.3.13
    command: daemon --docker
`);
    expect(config(result).cronJobs).toEqual([
      { name: "cleanup", schedule: "30 3 * * *", command: ["npm", "run", "cleanup", "--", "--days", "30"] },
    ]);
    expect(findings(result)).toEqual(
      expect.arrayContaining([
        'line 7: app: ofelia job cleanup — changed: mapped to cronJobs[] cleanup "30 3 * * *" (UTC); it runs in a new container, not inside the running one',
        "line 9: ofelia: mcuadros/ofelia:0.3.13 — replaced: replaced by Ballast's scheduler: its jobs are imported from the ofelia labels as cronJobs",
      ]),
    );
  });

  it("turns a schedule label or a sleep loop into a cron job, and reports a crond container it cannot read", () => {
    const result = inline(`services:
  app:
    image: acme/app:1.4.0
    ports: ["3000"]
  report:
    image: acme/app:1.4.0
    command: ["node", "report.js"]
    labels:
      schedule: "@hourly"
  poll:
    image: acme/app:1.4.0
    command: sh -c "while true; do node poll.js; sleep 300; done"
  crontab:
    image: alpine:3.20.3
    command: crond -f -l 2
    volumes:
      - ./crontab:/etc/crontabs/root:ro
`);
    expect(config(result).cronJobs).toEqual([
      { name: "report", schedule: "0 * * * *", image: "acme/app:1.4.0", command: ["node", "report.js"] },
      { name: "poll", schedule: "*/5 * * * *", image: "acme/app:1.4.0", command: ["node", "poll.js"] },
    ]);
    expect(findings(result)).toEqual(
      expect.arrayContaining([
        "line 13: crontab: a scheduler container (alpine:3.20.3) — not mapped because its schedule lives inside the image or a crontab file the importer cannot read: declare each job under ballast:cronJobs (name, schedule, command)",
        "line 17: crontab: volume ./crontab:/etc/crontabs/root:ro — not mapped because bind mounts of host files are not declarable: bake the files into the image or use a config key",
      ]),
    );
  });

  it("reads cron schedules as 5-field UTC cron, or not at all", () => {
    expect(cronOf("@daily")).toBe("0 0 * * *");
    expect(cronOf("@every 15m")).toBe("*/15 * * * *");
    expect(cronOf("@every 6h")).toBe("0 */6 * * *");
    expect(cronOf("0 0 4 * * 1")).toBe("0 4 * * 1");
    expect(cronOf("15 0 4 * * 1")).toBeUndefined();
    expect(cronOf("@every 7m")).toBeUndefined();
    expect(cronOfInterval(86400)).toBe("0 0 * * *");
    expect(cronOfInterval(45)).toBeUndefined();
    expect(sleepLoop("while :; do ./sync.sh; sleep 2h; done")).toEqual({ job: "./sync.sh", seconds: 7200 });
  });

  it("maps a one-shot awaited with service_completed_successfully to app.migration, and says when it has its own image", () => {
    const result = inline(`services:
  app:
    image: acme/app:1.4.0
    ports: ["3000"]
    depends_on:
      migrate:
        condition: service_completed_successfully
  migrate:
    image: acme/migrator:1.4.0
    command: ["npx", "prisma", "migrate", "deploy"]
    restart: "no"
`);
    expect(config(result).app.migration).toEqual({ command: ["npx", "prisma", "migrate", "deploy"] });
    expect(findings(result)).toContain(
      "line 9: migrate: its own image — not mapped because app.migration runs in the app's image: the migration command must exist there",
    );
    expect(result.mapped.find((m) => m.service === "migrate")).toMatchObject({ role: "migration", line: 8 });
  });

  it("says that Ballast's command replaces the image's entrypoint, and imports a second Postgres as an extra service", () => {
    const result = inline(`services:
  app:
    image: acme/app:1.4.0
    command: ["node", "server.js"]
    ports: ["3000"]
  postgres:
    image: pgvector/pgvector:0.8.0-pg16
  analytics-db:
    image: postgres:16.4
    expose: ["5432"]
`);
    expect(config(result).app.command).toEqual(["node", "server.js"]);
    expect(config(result).services).toEqual([{ name: "analytics-db", image: "postgres:16.4", port: 5432 }]);
    expect(findings(result)).toEqual(
      expect.arrayContaining([
        "line 4: app: command — changed: Ballast's command replaces the image's ENTRYPOINT too (compose kept it): if the image has an entrypoint script, put it first",
        "line 8: analytics-db: a second Postgres — changed: imported as an extra service: Ballast backs up, monitors and injects the URL of its own postgres only",
      ]),
    );
  });

  it("maps Postgres: the major version to a pinned pgvector image, max_connections, and reports other settings and init scripts", () => {
    const result = inline(`services:
  app:
    image: acme/app:1.4.0
    ports: ["3000"]
  database:
    image: postgres:15.6-alpine
    command: ["postgres", "-c", "max_connections=250", "-c", "shared_preload_libraries=pg_stat_statements"]
    environment:
      POSTGRES_DB: shop
      POSTGRES_USER: shop
      PGDATA: /var/lib/postgresql/data/pgdata
    volumes:
      - db:/var/lib/postgresql/data
      - ./init:/docker-entrypoint-initdb.d:ro
volumes:
  db:
`);
    expect(config(result).postgres).toEqual({
      name: "database",
      image: "pgvector/pgvector:0.8.0-pg15",
      database: "shop",
      user: "shop",
      extensions: ["vector"],
      maxConnections: 250,
    });
    expect(findings(result)).toEqual(
      expect.arrayContaining([
        "line 7: database: -c shared_preload_libraries=pg_stat_statements — not mapped because Postgres server settings other than max_connections are not declarable",
        "line 11: database: PGDATA — not mapped because Postgres server environment is not declarable",
        "line 14: database: init scripts ./init — not mapped because not run: put the SQL in postgres.initSql (run once when the database is created)",
      ]),
    );
  });

  it("copies plain env, takes a non-secret ${VAR:-default} as its default, and makes secrets of secret-looking names, credentials and ${VAR}", () => {
    const result = inline(`services:
  app:
    image: acme/app:1.4.0
    ports: ["3000"]
    environment:
      - LOG_LEVEL=\${LOG_LEVEL:-info}
      - FEATURE_X=true
      - STRIPE_SECRET_KEY=sk_live_51LiteralValueInCompose
      - MAIL_URL=smtp://mailer:hunter2@smtp.example.com:587
      - REGION=\${REGION}
      - SENTRY_DSN
`);
    const app = config(result).app;
    expect(app.env).toEqual({ LOG_LEVEL: "info", FEATURE_X: "true" });
    expect(app.secretEnv).toEqual({
      STRIPE_SECRET_KEY: "stripe-secret-key",
      MAIL_URL: "mail-url",
      REGION: "region",
      SENTRY_DSN: "sentry-dsn",
    });
    expect(result.secrets.map((s) => [s.name, s.line, s.note])).toEqual([
      ["mail-url", 9, "MAIL_URL, written in the compose file (not copied)"],
      ["region", 10, "REGION, from the deploy environment (${REGION})"],
      ["sentry-dsn", 11, "SENTRY_DSN, passed through from the deploy environment"],
      ["stripe-secret-key", 8, "STRIPE_SECRET_KEY, written in the compose file (not copied)"],
    ]);
    const text = stackFileText(result, "Pulumi.prod.yaml") + summaryText(result, "Pulumi.prod.yaml", validateImport(result), true);
    expect(text).not.toContain("sk_live_51LiteralValueInCompose");
    expect(text).not.toContain("hunter2");
    expect(text).toContain(
      "pulumi config set --config-file Pulumi.prod.yaml --secret --path 'ballast:secretValues.stripe-secret-key' <STRIPE_SECRET_KEY>",
    );
  });

  it("reports the volumes of stateless workloads with their lines, and keeps one named volume of an extra service as storage", () => {
    const result = inline(`services:
  app:
    image: acme/app:1.4.0
    ports: ["3000"]
    volumes:
      - ./uploads:/app/uploads
      - cache:/app/.cache
  search:
    image: getmeili/meilisearch:v1.11.3
    expose: ["7700"]
    volumes:
      - meili:/meili_data
volumes:
  cache:
  meili:
`);
    expect(findings(result)).toEqual(
      expect.arrayContaining([
        "line 6: app: volume ./uploads:/app/uploads — not mapped because bind mounts of host files are not declarable: bake the files into the image or use a config key",
        "line 7: app: volume cache:/app/.cache — not mapped because the workload is stateless in Ballast: keep its data in Postgres, Redis or object storage",
      ]),
    );
    expect(config(result).services).toEqual([
      { name: "search", image: "getmeili/meilisearch:v1.11.3", port: 7700, storage: { mountPath: "/meili_data", sizeGiB: 10 } },
    ]);
  });

  it("reads resources, health commands and a VIRTUAL_HOST, and renames a service that takes a Ballast workload's name", () => {
    const result = inline(`services:
  frontend:
    image: acme/front:3.1.0
    environment:
      VIRTUAL_HOST: shop.example.org
      VIRTUAL_PORT: "8080"
    healthcheck:
      test: curl -fsS http://localhost:8080/healthz?full=1 || exit 1
    deploy:
      resources:
        limits:
          cpus: "0.5"
          memory: 1.5G
  scheduler:
    image: acme/jobs:3.1.0
    command: ["python", "-m", "jobs.consumer"]
    healthcheck:
      test: ["CMD", "python", "-m", "jobs.ping"]
      start_period: 1m30s
`);
    const c = config(result);
    expect(c.domain).toBe("example.org");
    expect(c.app).toMatchObject({
      name: "frontend",
      port: 8080,
      subdomain: "shop",
      health: { liveness: "/healthz" },
      resources: { cpu: 0.5, memory: "1536Mi" },
    });
    expect(c.workers).toEqual(
      [
        {
          name: "scheduler-job",
          command: ["python", "-m", "jobs.consumer"],
          image: "acme/jobs:3.1.0",
          health: { command: ["python", "-m", "jobs.ping"], startPeriodSeconds: 90 },
        },
      ].map((w) => expect.objectContaining(w)),
    );
    expect(findings(result)).toContain(
      'line 14: scheduler: name scheduler — changed: "scheduler" is the name of a Ballast workload: imported as "scheduler-job"',
    );
    expect(memoryOf("512M")).toBe("512Mi");
    expect(memoryOf("2g")).toBe("2Gi");
    expect(memoryOf("1k")).toBeUndefined();
    expect(splitHost("nyxcore.cloud")).toEqual({ domain: "nyxcore.cloud", subdomain: "" });
  });

  it("never copies a secret build argument, and says when a command relied on compose filling in ${VAR}", () => {
    const result = inline(`services:
  app:
    build:
      context: .
      args:
        NODE_VERSION: "20"
        NPM_TOKEN: npm_LiteralBuildToken
    image: ghcr.io/acme/app:main
    command: sh -c "node server.js --region \${REGION}"
    ports: ["3000"]
`);
    expect(config(result).app.build).toEqual({
      context: ".",
      dockerfile: "Dockerfile",
      args: { NODE_VERSION: "20" },
      repository: "ghcr.io/acme/app",
    });
    expect(findings(result)).toEqual(
      expect.arrayContaining([
        "line 5: app: build args NPM_TOKEN — not mapped because a secret passed as a build argument stays in the image history: use a BuildKit secret mount in the Dockerfile (the value is not copied)",
        "line 9: app: command uses $REGION — not mapped because compose filled it in from the deploy shell; Ballast passes the command as written, so only a shell in the container expands it from the container's environment (declare the variable under env or secretEnv)",
      ]),
    );
    expect(stackFileText(result, "Pulumi.prod.yaml")).not.toContain("npm_LiteralBuildToken");
  });

  it("lists keys Ballast has no place for (privileged, cap_add, GPUs), each with its line", () => {
    const result = inline(`services:
  app:
    image: acme/app:1.4.0
    ports: ["3000"]
    privileged: true
    cap_add: [NET_ADMIN]
    deploy:
      resources:
        reservations:
          devices:
            - driver: nvidia
              count: 1
              capabilities: [gpu]
`);
    expect(findings(result)).toEqual(
      expect.arrayContaining([
        "line 5: app: privileged — not mapped because Ballast never runs privileged containers",
        "line 6: app: cap_add — not mapped because Ballast drops capabilities and does not add any",
        "line 10: app: device reservations (GPUs) — not mapped because GPUs are not declarable; the workload runs on CPU",
      ]),
    );
  });

  it("on Kubernetes asks for Grafana's address ranges and a registry for built images, and pins --image overrides", () => {
    const result = inline(
      `services:
  api:
    build: .
    image: registry.acme.dev:5000/shop/api:latest
    ports: ["3000"]
  sidecar:
    image: acme/sidecar:latest
    expose: ["9000"]
`,
      { target: "kubernetes", images: { sidecar: "acme/sidecar:4.2.0" } },
    );
    const c = config(result);
    expect(c.registry).toEqual({ server: "registry.acme.dev:5000" });
    expect(c.app.build.repository).toBe("registry.acme.dev:5000/shop/api");
    expect(c.services[0].image).toBe("acme/sidecar:4.2.0");
    expect(c.monitoring.grafana.allowFrom).toEqual(["198.51.100.0/24"]);
    expect(validateImport(result).problems).toEqual([]);
  });

  it("writes a dev stack for the local engine, without SSH placeholders", () => {
    const result = inline("services:\n  web:\n    image: acme/web:1.0.0\n    ports: ['80']\n", { stack: "dev" });
    expect(config(result).compose).toEqual({ mode: "local", project: "dev" });
    expect(config(result).domain).toBeUndefined();
    expect(result.placeholders).toEqual([]);
    expect(validateImport(result).problems).toEqual([]);
  });
});

describe("errors", () => {
  const error = (text: string, options = {}) => {
    try {
      inline(text, options);
    } catch (e) {
      return e;
    }
    throw new Error("no error");
  };

  it("names the file and line of invalid YAML", () => {
    const e = error("services:\n  web:\n    image: [acme\n");
    expect(e).toBeInstanceOf(ImportError);
    expect((e as ImportError).message).toMatch(/^docker-compose\.yml: line 4: not valid YAML: /);
  });

  it("refuses a file without services, with empty services, or with a service that is not a mapping", () => {
    expect((error("version: '3.8'\n") as Error).message).toBe(
      "docker-compose.yml: line 1: no services: key: a docker-compose file declares its containers under services:",
    );
    expect((error("name: x\nservices: {}\n") as Error).message).toBe(
      "docker-compose.yml: line 2: services: is empty or not a mapping: there is nothing to import",
    );
    expect((error("services:\n  web: nginx\n") as Error).message).toBe(
      "docker-compose.yml: line 2: service web is not a mapping of compose keys (image, build, ports, ...)",
    );
    expect((error("- a\n- b\n") as Error).message).toBe(
      "docker-compose.yml: line 1: not a docker-compose file: the top level must be a mapping with a services: key",
    );
  });

  it("asks for --app when no service looks like the app, and refuses an --app or --image that names no service", () => {
    expect((error("services:\n  sync:\n    image: acme/sync:1.0.0\n") as Error).message).toBe(
      "docker-compose.yml: line 1: no service looks like the web/API app (one with ports, a Traefik rule or VIRTUAL_HOST): name it with --app SERVICE",
    );
    expect((error("services:\n  sync:\n    image: acme/sync:1.0.0\n", { app: "web" }) as Error).message).toBe(
      "docker-compose.yml: line 1: --app web: no such service (services: sync)",
    );
    expect(
      (error("services:\n  sync:\n    image: acme/sync:1.0.0\n    ports: ['80']\n", { images: { synk: "acme/sync:1.0.1" } }) as Error)
        .message,
    ).toBe("docker-compose.yml: line 1: --image synk: no such service (services: sync)");
  });
});

describe("npm run import (the CLI)", () => {
  const run = (args: string[], cwd: string) =>
    spawnSync(process.execPath, [join(root, "node_modules", "tsx", "dist", "cli.mjs"), join(root, "scripts", "import.ts"), ...args], {
      cwd,
      encoding: "utf8",
      env: { ...process.env, INIT_CWD: cwd },
    });

  it("writes the stack file and prints the secrets with their commands; refuses to overwrite it", () => {
    const cwd = mkdtempSync(join(tmpdir(), "ballast-import-cli-"));
    const compose = join(root, fixturePath("dealix"));
    const first = run([compose, "--stack", "dealix", "--target", "kubernetes"], cwd);
    expect(first.stderr).toBe("");
    expect(first.status).toBe(0);
    expect(first.stdout).toContain("Wrote Pulumi.dealix.yaml from ");
    expect(first.stdout).toContain(
      "pulumi config set --config-file Pulumi.dealix.yaml --secret --path 'ballast:secretValues.admin-key' <ADMIN_KEY>",
    );
    expect(first.stdout).toContain("line 85: nginx: nginx:1.27-alpine — replaced:");
    expect(readFileSync(join(cwd, "Pulumi.dealix.yaml"), "utf8")).toContain("ballast:target: kubernetes");
    const again = run([compose, "--stack", "dealix"], cwd);
    expect(again.status).toBe(2);
    expect(again.stderr).toContain("Pulumi.dealix.yaml exists: choose another --out, or --force to overwrite it");
  });

  it("does not write a file pulumi up would refuse (exit 1) unless --force; a bad compose file exits 2 with its line", () => {
    const cwd = mkdtempSync(join(tmpdir(), "ballast-import-cli-"));
    const compose = join(root, fixturePath("nomosx"));
    const refused = run([compose, "--out", "stack.yaml", "--stack", "nomosx"], cwd);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toContain("ballast:app.image: must be pinned by an exact version tag");
    expect(refused.stderr).toContain("Not written");
    expect(refused.stdout).toContain("Did not write stack.yaml from ");
    expect(existsSync(join(cwd, "stack.yaml"))).toBe(false);
    const forced = run([compose, "--out", "stack.yaml", "--stack", "nomosx", "--force"], cwd);
    expect(forced.status).toBe(0);
    const written = readFileSync(join(cwd, "stack.yaml"), "utf8");
    expect(written).toContain("image: nomosx-api:latest");
    expect(written).toContain("# Render: npm run render -- stack.yaml --stack nomosx\n");
    writeFileSync(join(cwd, "broken.yml"), "services:\n  web:\n    image: [x\n");
    const broken = run(["broken.yml"], cwd);
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(/^broken\.yml: line 4: not valid YAML: /);
  });
});
