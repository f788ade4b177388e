/**
 * The Compose target's pure render: compose-spec validity, secrets kept out of every
 * rendered file, networks and ports, volumes, health checks, hardening, Traefik
 * labels, `.env` quoting, cron, and the network-joining rule.
 */
import { composeHostDefaults } from "../fixtures/config";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import Ajv from "ajv";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import type { ComposeConfig } from "../../components/config/types";
import { healthCheck, workload, type StackModel, type WorkloadSpec } from "../../components/spec";
import {
  ComposeTarget,
  assignNetworks,
  joinNetworksForFlows,
  releasePlan,
  renderComposeProject,
  renderCrontab,
  renderEnvExample,
  renderEnvFile,
  renderRouters,
  validateSchedule,
  type ComposeTargetOptions,
} from "../../components/targets/compose";
import { bundleId, decodeBundle, encodeBundle } from "../../components/targets/compose/bundle";
import { dotenvLine, renderEnvText } from "../../components/targets/compose/env";
import type { NetworkName } from "../../components/targets/compose/networks";
import { renderHealthcheck } from "../../components/targets/compose/render";
import type { ComposeDocument, ComposeService } from "../../components/targets/compose/types";
import { fixtureModel, fixtureSecretValues } from "../fixtures/stack-model";
import { withVolumeOwners } from "../../components/volume-owners";

const sshConfig: ComposeConfig = {
  mode: "ssh",
  project: "ballast",
  ssh: {
    host: "203.0.113.10",
    port: 22,
    user: "deploy",
    hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBallastTestHostKey",
    remoteDir: "/opt/ballast",
    dialTimeoutSeconds: 10,
    dialAttempts: 3,
  },
  localDir: "/var/lib/ballast-dev",
  keepReleases: 5,
  deployTimeoutSeconds: 300,
  composeCommand: "docker compose",
  ...composeHostDefaults(),
};

const targetOptions: ComposeTargetOptions = {
  domain: "example.com",
  tls: true,
  healthUrlPath: "/api/health",
  appName: "app",
  sshPrivateKey: pulumi.secret("-----BEGIN OPENSSH PRIVATE KEY-----test"),
};

/** Every file of a release, secrets included, as deploy() computes them. */
function releaseBundleFiles(model: StackModel, config: ComposeConfig, values: Record<string, string>) {
  return new ComposeTarget(config, targetOptions).releaseFiles(model, values);
}

function render(model: StackModel = fixtureModel()): ComposeDocument {
  return renderComposeProject(model, sshConfig).document;
}

function service(document: ComposeDocument, name: string): ComposeService {
  const found = document.services[name];
  if (!found) throw new Error(`no service ${name}`);
  return found;
}

function withWorkload(model: StackModel, name: string, change: (w: WorkloadSpec) => WorkloadSpec): StackModel {
  return { ...model, workloads: model.workloads.map((w) => (w.name === name ? change(w) : w)) };
}

/** The fixture with the proxy's published ports bound to one host address (ballast:proxy.bindAddress). */
function withBindAddress(address: string): StackModel {
  return withWorkload(fixtureModel(), "traefik", (w) => ({
    ...w,
    ports: w.ports.map((p) => (p.publish === undefined ? p : { ...p, publishAddress: address })),
  }));
}

function prometheus(): WorkloadSpec {
  return workload({
    name: "prometheus",
    component: "observability",
    role: "stateful",
    description: "Metrics store",
    image: "prom/prometheus:v2.53.0",
    resources: { requests: { cpu: 0.2, memoryMiB: 256 }, limits: { cpu: 1, memoryMiB: 1024 } },
    health: healthCheck({ http: { path: "/-/ready", port: 9090 } }),
    volumes: [{ kind: "persistent", name: "prometheus-data", mountPath: "/prometheus", sizeGiB: 10 }],
    network: { fromProxy: false, allowFrom: [], egressInternet: false },
  });
}

describe("compose-spec validity", () => {
  // dclint's package exports hide the schema, so it is read by path.
  const schemaPath = join(__dirname, "../../node_modules/dclint/schemas/compose.schema.json");
  const schema = JSON.parse(readFileSync(schemaPath, "utf8")) as Record<string, unknown>;
  // Its $schema is the https spelling of draft-07, which Ajv does not register; the body is draft-07.
  delete schema.$schema;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validate = ajv.compile(schema);

  for (const [label, model] of [
    ["staging fixture (tls)", fixtureModel()],
    ["dev fixture (no tls)", fixtureModel({ tls: false })],
  ] as const) {
    it(`the ${label} validates against the compose-spec schema shipped with dclint`, () => {
      const { document, yaml } = renderComposeProject(model, sshConfig);
      const parsed = parse(yaml) as unknown;
      expect(parsed).toEqual(JSON.parse(JSON.stringify(document)));
      const valid = validate(parsed);
      expect(validate.errors ?? []).toEqual([]);
      expect(valid).toBe(true);
    });
  }

  it("passes dclint with its default rules (the proxy's public ports carry a documented exception)", () => {
    const dir = mkdtempSync(join(tmpdir(), "ballast-dclint-"));
    try {
      const file = join(dir, "docker-compose.yml");
      writeFileSync(file, renderComposeProject(fixtureModel(), sshConfig).yaml);
      const result = spawnSync(join(__dirname, "../../node_modules/.bin/dclint"), [file], { encoding: "utf8" });
      expect(`${result.stdout}${result.stderr}`.trim()).toBe("");
      expect(result.status).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("names the project and renders one service per workload (scheduled jobs run from the host's cron, no scheduler service)", () => {
    const document = render();
    expect(document.name).toBe("ballast");
    expect(Object.keys(document.services).sort()).toEqual(
      ["app", "cron-cleanup", "node-exporter", "postgres", "redis", "traefik", "worker"].sort(),
    );
  });
});

describe("secrets stay out of rendered files", () => {
  it("no fixture secret value appears in any file render() returns", () => {
    const files = new ComposeTarget(sshConfig, targetOptions).render(fixtureModel());
    for (const file of files) {
      for (const value of Object.values(fixtureSecretValues)) expect(file.content, file.path).not.toContain(value);
    }
    expect(files.map((f) => f.path)).not.toContain(".env");
  });

  it("fills secret env vars with required interpolations from .env", () => {
    const app = service(render(), "app");
    expect(app.environment).toMatchObject({
      NODE_ENV: "production",
      DATABASE_URL: "${DATABASE_URL:?secret missing}",
      ENCRYPTION_KEY: "${ENCRYPTION_KEY:?secret missing}",
    });
    expect(service(render(), "postgres").environment?.POSTGRES_PASSWORD).toBe("${POSTGRES_PASSWORD:?secret missing}");
  });

  it("doubles every $ that comes from a spec so compose does not interpolate it", () => {
    const model = withWorkload(fixtureModel(), "app", (w) => ({ ...w, env: { ...w.env, PRICE: "$5 or ${HOME}" } }));
    const document = render(model);
    expect(service(document, "app").environment?.PRICE).toBe("$$5 or $${HOME}");
    expect(service(document, "redis").healthcheck?.test).toEqual([
      "CMD",
      "sh",
      "-c",
      'redis-cli -a "$$REDIS_PASSWORD" --no-auth-warning ping | grep -q PONG',
    ]);
  });

  it("refuses two secrets that map to the same .env variable", () => {
    const model = withWorkload(fixtureModel(), "app", (w) => ({ ...w, secretEnv: { ...w.secretEnv, OTHER: "database_url" } }));
    expect(() => render(model)).toThrow(/database-url and database_url both map to the \.env variable DATABASE_URL/);
  });
});

describe("PID limits", () => {
  it("gives every service a PID limit (deploy.resources.limits.pids): the stack's own code 2048, stateful 1024, the rest 512; a spec's own wins", () => {
    const document = render();
    const limits = Object.fromEntries(Object.entries(document.services).map(([name, s]) => [name, s.deploy.resources.limits.pids]));
    // The fixture's Traefik is stateless (the stack's own is stateful: 1024).
    expect(limits).toEqual({
      app: 2048,
      "cron-cleanup": 2048,
      "node-exporter": 512,
      postgres: 1024,
      redis: 1024,
      traefik: 512,
      worker: 2048,
    });
    const model = withWorkload(fixtureModel(), "postgres", (w) => ({ ...w, pidsLimit: 2256 }));
    expect(service(render(model), "postgres").deploy.resources.limits.pids).toBe(2256);
    // Compose refuses pids_limit beside deploy limits ("can't set distinct values"): never both.
    expect(Object.values(document.services).filter((s) => "pids_limit" in s)).toEqual([]);
  });
});

describe("ports and networks", () => {
  it("only the proxy publishes ports", () => {
    const document = render();
    const publishing = Object.entries(document.services)
      .filter(([, s]) => s.ports !== undefined)
      .map(([name]) => name);
    expect(publishing).toEqual(["traefik"]);
    // The API port deploy.sh confirms switches on is published on loopback only.
    expect(service(document, "traefik").ports).toEqual(["80:80", "443:443", "127.0.0.1:8099:8099"]);
    expect(renderComposeProject(fixtureModel(), sshConfig).yaml).toContain(
      "    ports:\n      - '80:80'\n      - '443:443'\n      - '127.0.0.1:8099:8099'\n",
    );
  });

  it("binds the published ports to one address when the proxy has one (IPv6 in brackets), and says nothing of every interface", () => {
    expect(service(render(withBindAddress("127.0.0.1")), "traefik").ports).toEqual([
      "127.0.0.1:80:80",
      "127.0.0.1:443:443",
      "127.0.0.1:8099:8099",
    ]);
    expect(service(render(withBindAddress("2001:db8::7")), "traefik").ports).toEqual([
      "[2001:db8::7]:80:80",
      "[2001:db8::7]:443:443",
      "[2001:db8::7]:8099:8099",
    ]);
    const yaml = renderComposeProject(withBindAddress("127.0.0.1"), sshConfig).yaml;
    expect(yaml).toContain("    ports:\n      - '127.0.0.1:80:80'\n");
    expect(yaml).not.toContain("listens on every interface");
    expect(renderComposeProject(fixtureModel(), sshConfig).yaml).toContain("listens on every interface");
  });

  it("refuses a datastore that publishes a port, and any other non-proxy publisher", () => {
    const pgPublishing = withWorkload(fixtureModel(), "postgres", (w) => ({
      ...w,
      ports: [{ name: "postgres", port: 5432, publish: 5432 }],
    }));
    expect(() => render(pgPublishing)).toThrow(/postgres is a datastore and must never publish a port/);
    const appPublishing = withWorkload(fixtureModel(), "app", (w) => ({ ...w, ports: [{ name: "http", port: 3000, publish: 3000 }] }));
    expect(() => render(appPublishing)).toThrow(/app publishes a port; only the proxy publishes ports/);
  });

  it("puts datastores on their own network with their clients only, the proxy and routed egress workloads on edge, other egress on egress", () => {
    const document = render();
    expect(service(document, "postgres").networks).toEqual(["datastores"]);
    expect(service(document, "redis").networks).toEqual(["datastores"]);
    expect(service(document, "traefik").networks).toEqual(["edge"]);
    expect(service(document, "app").networks).toEqual(["edge", "internal", "datastores"]);
    // Not routed: the internet through egress, never the proxy's network.
    expect(service(document, "worker").networks).toEqual(["egress", "internal", "datastores"]);
    expect(service(document, "cron-cleanup").networks).toEqual(["egress", "internal", "datastores"]);
    // Prometheus is not deployed in the fixture; node-exporter is no datastore client.
    expect(service(document, "node-exporter").networks).toEqual(["internal"]);
    expect(document.networks).toEqual({
      edge: { name: "ballast_edge", driver: "bridge" },
      egress: { name: "ballast_egress", driver: "bridge" },
      internal: { name: "ballast_internal", driver: "bridge", internal: true },
      datastores: { name: "ballast_datastores", driver: "bridge", internal: true },
    });
  });

  it("gives a routed workload without internet (Grafana) and a client of the proxy (Prometheus) each its own internal link to the proxy", () => {
    const grafana = workload({
      name: "grafana",
      component: "observability",
      role: "stateful",
      description: "dashboards",
      image: "grafana/grafana:11.3.0",
      resources: { requests: { cpu: 0.1, memoryMiB: 64 }, limits: { cpu: 0.2, memoryMiB: 128 } },
      ports: [{ name: "http", port: 3000 }],
      network: { fromProxy: true, allowFrom: [], egressInternet: false },
    });
    const model = fixtureModel();
    const document = render({ ...model, workloads: [...model.workloads, grafana, prometheus()] });
    expect(service(document, "grafana").networks).toEqual(["internal", "edge-grafana"]);
    expect(service(document, "prometheus").networks).toEqual(["internal", "datastores", "edge-prometheus"]);
    expect(service(document, "traefik").networks).toEqual(["edge", "edge-grafana", "edge-prometheus"]);
    expect(document.networks["edge-grafana"]).toEqual({ name: "ballast_edge-grafana", driver: "bridge", internal: true });
    expect(document.networks["edge-prometheus"]).toEqual({ name: "ballast_edge-prometheus", driver: "bridge", internal: true });
  });

  it("puts the Docker socket proxy alone with its clients on docker-api, and a network-less step on network_mode none", () => {
    const socketProxy = workload({
      name: "docker-socket-proxy",
      component: "observability",
      role: "agent",
      description: "read-only Docker API",
      image: "wollomatic/socket-proxy:1.12.2",
      resources: { requests: { cpu: 0.05, memoryMiB: 16 }, limits: { cpu: 0.05, memoryMiB: 32 } },
      ports: [{ name: "docker-api", port: 2375 }],
      volumes: [{ kind: "docker-socket", name: "docker-socket", mountPath: "/var/run/docker.sock", readOnly: true }],
      network: { fromProxy: false, allowFrom: ["node-exporter"], egressInternet: false },
      security: {
        readOnlyRootFilesystem: true,
        addCapabilities: [],
        runAsRoot: true,
        runAsUser: 0,
        runAsGroup: 0,
        privileged: false,
        hostPid: false,
        hostNetwork: false,
      },
    });
    const step = workload({
      name: "volume-owners",
      component: "volumes",
      role: "job",
      description: "chown",
      image: "traefik:v3.7.13",
      resources: { requests: { cpu: 0.05, memoryMiB: 16 }, limits: { cpu: 0.25, memoryMiB: 32 } },
      runsFirst: true,
    });
    const model = fixtureModel();
    const document = render({ ...model, workloads: [...model.workloads, socketProxy, step] });
    expect(service(document, "docker-socket-proxy").networks).toEqual(["docker-api"]);
    expect(service(document, "docker-socket-proxy").user).toBe("0:0");
    expect(service(document, "node-exporter").networks).toEqual(["internal", "docker-api"]);
    expect(document.networks["docker-api"]).toEqual({ name: "ballast_docker-api", driver: "bridge", internal: true });
    expect(service(document, "volume-owners").network_mode).toBe("none");
    expect(service(document, "volume-owners").networks).toBeUndefined();
  });

  it("host-network workloads get network_mode host and no networks", () => {
    const model = withWorkload(fixtureModel(), "node-exporter", (w) => ({ ...w, security: { ...w.security, hostNetwork: true } }));
    const exporter = service(render(model), "node-exporter");
    expect(exporter.network_mode).toBe("host");
    expect(exporter.networks).toBeUndefined();
  });
});

function networksOf(entries: Record<string, NetworkName[]>): Map<string, Set<NetworkName>> {
  return new Map(Object.entries(entries).map(([name, networks]) => [name, new Set(networks)]));
}

describe("the network-joining rule", () => {
  it("a workload allowed to reach the proxy gets its own link to it, not edge (Prometheus -> proxy metrics)", () => {
    const base = networksOf({ traefik: ["edge"], prometheus: ["internal"] });
    const joined = joinNetworksForFlows(base, [{ from: "prometheus", to: "traefik" }], new Set(["traefik"]));
    expect([...(joined.get("prometheus") ?? [])].sort()).toEqual(["edge-prometheus", "internal"]);
    expect([...(joined.get("traefik") ?? [])].sort()).toEqual(["edge", "edge-prometheus"]);
  });

  it("a client joins its datastore's network, not the datastore the client's", () => {
    const base = networksOf({ postgres: ["datastores"], app: ["edge", "internal"] });
    const joined = joinNetworksForFlows(base, [{ from: "app", to: "postgres" }]);
    expect([...(joined.get("app") ?? [])].sort()).toEqual(["datastores", "edge", "internal"]);
    expect([...(joined.get("postgres") ?? [])]).toEqual(["datastores"]);
  });

  it("leaves flows that already share a network alone and prefers internal when it must add one", () => {
    const base = networksOf({ traefik: ["edge"], app: ["edge", "internal"], vault: ["internal"] });
    const joined = joinNetworksForFlows(base, [
      { from: "traefik", to: "app" },
      { from: "traefik", to: "vault" },
    ]);
    expect([...(joined.get("traefik") ?? [])].sort()).toEqual(["edge", "internal"]);
    expect([...(joined.get("app") ?? [])].sort()).toEqual(["edge", "internal"]);
  });

  it("on the fixture plus Prometheus: Prometheus reaches the proxy over its own link, never edge; the datastores keep their network", () => {
    const model = fixtureModel();
    const workloads = [...model.workloads, prometheus()];
    const networks = assignNetworks(workloads);
    // The fixture's Postgres lists Prometheus as a client, so it joins datastores too.
    expect(networks.get("prometheus")).toEqual(["internal", "datastores", "edge-prometheus"]);
    expect(networks.get("postgres")).toEqual(["datastores"]);
    expect(networks.get("traefik")).toEqual(["edge", "edge-prometheus"]);
    expect(service(render({ ...model, workloads }), "prometheus").networks).toEqual(["internal", "datastores", "edge-prometheus"]);
  });

  it("a workload that no datastore lists never joins datastores", () => {
    const networks = assignNetworks(fixtureModel().workloads);
    const onDatastores = [...networks]
      .filter(([, n]) => n.includes("datastores"))
      .map(([name]) => name)
      .sort();
    expect(onDatastores).toEqual(["app", "cron-cleanup", "postgres", "redis", "worker"]);
  });

  it("skips allowFrom names that are not deployed", () => {
    // The fixture lists prometheus in allowFrom without deploying it.
    expect(assignNetworks(fixtureModel().workloads).get("node-exporter")).toEqual(["internal"]);
  });
});

describe("volumes", () => {
  it("declares persistent volumes top-level as external with fixed <project>_<volume> names", () => {
    const document = render();
    expect(document.volumes).toEqual({
      "traefik-acme": { external: true, name: "ballast_traefik-acme" },
      "postgres-data": { external: true, name: "ballast_postgres-data" },
      "redis-data": { external: true, name: "ballast_redis-data" },
    });
    expect(service(document, "postgres").volumes).toContain("postgres-data:/var/lib/postgresql/data");
  });

  it("renders scratch volumes as sized tmpfs, host paths as binds; the proxy reads its routes from a directory, not the Docker socket", () => {
    const document = render();
    expect(service(document, "app").tmpfs).toEqual(["/tmp:size=256m"]);
    expect(service(document, "postgres").tmpfs).toEqual(["/var/run/postgresql:size=64m"]);
    expect(service(document, "node-exporter").volumes).toEqual([{ type: "bind", source: "/", target: "/host", read_only: true }]);
    expect(service(document, "traefik").volumes).toContainEqual({
      type: "bind",
      source: "/opt/ballast/routing",
      target: "/etc/traefik/dynamic",
      read_only: true,
    });
    const withSocket = Object.entries(document.services)
      .filter(([, s]) => (s.volumes ?? []).some((v) => typeof v === "string" && v.startsWith("/var/run/docker.sock:")))
      .map(([name]) => name);
    expect(withSocket).toEqual([]);
  });

  it("bind-mounts config files read-only with a content hash label that follows the content", () => {
    const document = render();
    const redis = service(document, "redis");
    expect(redis.volumes).toContainEqual({
      type: "bind",
      source: "./config/redis/redis.conf",
      target: "/usr/local/etc/redis/redis.conf",
      read_only: true,
    });
    const before = redis.labels?.["ballast.config-hash"];
    expect(before).toMatch(/^[0-9a-f]{64}$/);
    const changed = withWorkload(fixtureModel(), "redis", (w) => ({
      ...w,
      configFiles: [{ ...w.configFiles[0], content: "maxmemory 512mb\n" }],
    }));
    expect(service(render(changed), "redis").labels?.["ballast.config-hash"]).not.toBe(before);
    expect(service(document, "app").labels?.["ballast.config-hash"]).toBeUndefined();
  });

  it("mounts secret files through top-level secrets, with a hash label filled from .env", () => {
    const model = withWorkload(fixtureModel(), "app", (w) => ({
      ...w,
      secretFiles: [{ secret: "encryption-key", mountPath: "/run/secrets/encryption-key" }],
    }));
    const document = render(model);
    expect(document.secrets).toEqual({ "encryption-key": { file: "./secrets/encryption-key" } });
    const app = service(document, "app");
    expect(app.secrets).toEqual([{ source: "encryption-key", target: "/run/secrets/encryption-key" }]);
    expect(app.labels?.["ballast.secret-files-hash"]).toBe("${BALLAST_SECRET_FILES_SHA256_APP:?secret files hash missing}");
    const env = renderEnvText(model, fixtureSecretValues);
    expect(env).toMatch(/^BALLAST_SECRET_FILES_SHA256_APP='[0-9a-f]{64}'$/m);
    const files = releaseBundleFiles(model, sshConfig, fixtureSecretValues);
    expect(files.find((f) => f.path === "secrets/encryption-key")).toEqual({
      path: "secrets/encryption-key",
      mode: 0o444,
      content: fixtureSecretValues["encryption-key"],
    });
  });
});

describe("health checks and dependencies", () => {
  it("exec checks become CMD with the spec's timings", () => {
    expect(service(render(), "postgres").healthcheck).toEqual({
      test: ["CMD", "pg_isready", "-U", "app", "-d", "app"],
      interval: "10s",
      timeout: "5s",
      retries: 5,
      start_period: "30s",
    });
  });

  it("http checks try wget, then curl, then node, then python3, and say so when the image has none", () => {
    const test = service(render(), "app").healthcheck?.test ?? [];
    expect(test[0]).toBe("CMD-SHELL");
    const command = test[1] ?? "";
    const order = ["command -v wget", "command -v curl", "command -v node", "command -v python3"].map((probe) => command.indexOf(probe));
    expect(order.every((index) => index >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(command).toContain("'http://127.0.0.1:3000/api/health'");
    expect(command).toContain("health check needs wget, curl, node or python3 in the image (or set health.command)");
  });

  it("tcp checks connect to the port and exactly one probe kind is allowed", () => {
    const tcp = renderHealthcheck(healthCheck({ tcp: { port: 6379 } }), "redis");
    expect(tcp.test[0]).toBe("CMD-SHELL");
    expect(tcp.test[1]).toContain("nc -z -w 5 127.0.0.1 6379");
    expect(() => renderHealthcheck(healthCheck({ tcp: { port: 1 }, exec: ["true"] }), "x")).toThrow(/exactly one of exec, http, tcp/);
  });

  it("waits for healthy dependencies, and for started ones when the dependency has no health check", () => {
    expect(service(render(), "app").depends_on).toEqual({
      postgres: { condition: "service_healthy" },
      redis: { condition: "service_healthy" },
    });
    const model = withWorkload(fixtureModel(), "app", (w) => ({ ...w, dependsOn: [...w.dependsOn, "worker"] }));
    expect(service(render(model), "app").depends_on?.worker).toEqual({ condition: "service_started" });
  });

  it("refuses dependencies on unknown workloads and on cron jobs", () => {
    const unknown = withWorkload(fixtureModel(), "app", (w) => ({ ...w, dependsOn: ["nope"] }));
    expect(() => render(unknown)).toThrow(/app depends on nope, which is not in the stack/);
    const onJob = withWorkload(fixtureModel(), "app", (w) => ({ ...w, dependsOn: ["cron-cleanup"] }));
    expect(() => render(onJob)).toThrow(
      /app depends on cron-cleanup, a scheduled job \(.*\); only services and one-shot steps can be waited for/,
    );
  });

  it("waits for one-shot steps (migration, pgvector ensure) to complete successfully; they run on up, not from the scheduler", () => {
    const migrate = workload({
      name: "migrate",
      component: "app",
      role: "job",
      description: "Schema migration",
      image: "ghcr.io/acme/app:1.0.0",
      command: ["npx", "prisma", "migrate", "deploy"],
      resources: { requests: { cpu: 0.25, memoryMiB: 256 }, limits: { cpu: 0.5, memoryMiB: 512 } },
      jobTimeoutSeconds: 600,
    });
    const model = withWorkload({ ...fixtureModel(), workloads: [...fixtureModel().workloads, migrate] }, "app", (w) => ({
      ...w,
      dependsOn: [...w.dependsOn, "migrate"],
    }));
    const project = render(model);
    expect(service(project, "app").depends_on?.migrate).toEqual({ condition: "service_completed_successfully" });
    expect(service(project, "migrate").profiles).toBeUndefined();
    expect(service(project, "migrate").restart).toBe("no");
  });
});

describe("runtime settings and hardening", () => {
  it("every service drops all capabilities, forbids new privileges and rotates its logs", () => {
    for (const [name, svc] of Object.entries(render().services)) {
      expect(svc.security_opt, name).toEqual(["no-new-privileges:true"]);
      expect(svc.cap_drop, name).toEqual(["ALL"]);
      expect(svc.logging, name).toEqual({ driver: "json-file", options: { "max-size": "10m", "max-file": "3" } });
    }
  });

  it("follows the spec for read-only root, user, capabilities, privileged, host pid", () => {
    const document = render();
    expect(service(document, "app").read_only).toBe(true);
    expect(service(document, "postgres").read_only).toBe(false);
    expect(service(document, "app").user).toBe("1000:1000");
    expect(service(document, "node-exporter").user).toBe("65534");
    expect(service(document, "traefik").user).toBeUndefined();
    expect(service(document, "node-exporter").pid).toBe("host");
    for (const name of ["app", "worker", "postgres", "redis", "traefik"]) {
      const svc = service(document, name);
      expect(svc.pid, name).toBeUndefined();
      expect(svc.privileged, name).toBeUndefined();
      expect(svc.network_mode, name).toBeUndefined();
      expect(svc.cap_add, name).toBeUndefined();
    }
    const relaxed = withWorkload(fixtureModel(), "node-exporter", (w) => ({
      ...w,
      security: { ...w.security, privileged: true, addCapabilities: ["SYS_PTRACE"], runAsRoot: true },
    }));
    const exporter = service(render(relaxed), "node-exporter");
    expect(exporter.privileged).toBe(true);
    expect(exporter.cap_add).toEqual(["SYS_PTRACE"]);
    expect(exporter.user).toBeUndefined();
  });

  it("sets limits and reservations, restart policies, grace periods and replicas", () => {
    const document = render();
    expect(service(document, "app").deploy).toEqual({
      replicas: 3,
      resources: { limits: { cpus: "2", memory: "4096M", pids: 2048 }, reservations: { cpus: "1", memory: "2048M" } },
    });
    expect(service(document, "node-exporter").deploy.resources.reservations).toEqual({ cpus: "0.05", memory: "32M" });
    expect(service(document, "worker").deploy.replicas).toBe(5);
    expect(service(document, "traefik").deploy.replicas).toBe(1);
    expect(service(document, "postgres").deploy.replicas).toBe(1);
    expect(service(document, "cron-cleanup").deploy.replicas).toBeUndefined();
    expect(service(document, "app").restart).toBe("unless-stopped");
    expect(service(document, "cron-cleanup").restart).toBe("no");
    expect(service(document, "app").stop_grace_period).toBe("30s");
  });

  it("uses minReplicas for autoscaled services (Compose has no autoscaler) and 1 for publishers", () => {
    const model = withWorkload(fixtureModel(), "worker", (w) => ({
      ...w,
      replicas: 9,
      autoscaling: { minReplicas: 2, maxReplicas: 20, cpuTargetPercent: 80 },
    }));
    expect(service(render(model), "worker").deploy.replicas).toBe(2);
    const proxy = withWorkload(fixtureModel(), "traefik", (w) => ({ ...w, replicas: 3 }));
    expect(service(render(proxy), "traefik").deploy.replicas).toBe(1);
  });

  it("maps command to entrypoint and args to command", () => {
    const document = render();
    expect(service(document, "worker").entrypoint).toEqual(["node", "dist/worker.js"]);
    expect(service(document, "worker").command).toBeUndefined();
    expect(service(document, "traefik").command).toEqual(["--configFile=/etc/traefik/traefik.yml"]);
  });

  it("renders an image Pulumi still has to build as a readable marker naming its repository", () => {
    const model = withWorkload(fixtureModel(), "app", (w) => ({ ...w, image: pulumi.output("registry/app@sha256:abc") }));
    expect(service(render(model), "app").image).toBe("built-at-deploy/app:unresolved");
    const built = withWorkload(fixtureModel(), "app", (w) => ({
      ...w,
      image: pulumi.output("ghcr.io/acme/app@sha256:abc"),
      builtFrom: { repository: "ghcr.io/acme/app", context: ".", dockerfile: "Dockerfile" },
    }));
    expect(service(render(built), "app").image).toBe("ghcr.io/acme/app:built-at-deploy");
  });
});

describe("Traefik routes (file provider)", () => {
  type Routers = { http: { routers: Record<string, Record<string, unknown>>; services?: Record<string, unknown>; middlewares: object } };
  const routers = (model: StackModel = fixtureModel()) => parse(renderRouters(model)) as Routers;

  it("routes the app over websecure with the ACME resolver and security headers when tls", () => {
    expect(routers().http.routers.app).toEqual({
      rule: "Host(`app.example.com`)",
      service: "app",
      entryPoints: ["websecure"],
      tls: { certResolver: "letsencrypt" },
      middlewares: ["security-headers"],
    });
    expect(routers().http.middlewares).toHaveProperty("security-headers");
  });

  it("uses the web entrypoint and no certificate on dev", () => {
    expect(routers(fixtureModel({ tls: false })).http.routers.app).toEqual({
      rule: "Host(`app.example.com`)",
      service: "app",
      entryPoints: ["web"],
    });
  });

  it("adds PathPrefix for routes below /", () => {
    const model = withWorkload(fixtureModel(), "app", (w) => ({
      ...w,
      route: { host: "example.com", pathPrefix: "/api", port: 3000, tls: true },
    }));
    expect(routers(model).http.routers.app.rule).toBe("Host(`example.com`) && PathPrefix(`/api`)");
  });

  it("leaves the servers of rolling services to deploy.sh, and gives routed singletons their service name", () => {
    expect(routers().http.services).toBeUndefined();
    const grafana = workload({
      name: "grafana",
      component: "observability",
      role: "stateful",
      description: "Dashboards",
      image: "grafana/grafana:11.3.0",
      ports: [{ name: "http", port: 3000 }],
      resources: { requests: { cpu: 0.1, memoryMiB: 64 }, limits: { cpu: 0.2, memoryMiB: 128 } },
      health: healthCheck({ http: { path: "/api/health", port: 3000 } }),
      route: { host: "grafana.example.com", pathPrefix: "/", port: 3000, tls: true },
    });
    expect(routers({ ...fixtureModel(), workloads: [...fixtureModel().workloads, grafana] }).http.services).toEqual({
      grafana: {
        loadBalancer: { servers: [{ url: "http://grafana:3000" }], healthCheck: { path: "/api/health", interval: "5s", timeout: "5s" } },
      },
    });
  });

  it("no service carries Traefik labels: routes live in files, not on containers", () => {
    for (const [name, svc] of Object.entries(render().services)) {
      expect(
        Object.keys(svc.labels ?? {}).filter((k) => k.startsWith("traefik.")),
        name,
      ).toEqual([]);
    }
  });
});

describe("the release plan", () => {
  it("rolls the stack's own stateless services, stops datastores and the proxy first, runs one-shots in order, schedules jobs", () => {
    expect(releasePlan(fixtureModel().workloads)).toEqual({
      singletons: ["node-exporter", "postgres", "redis", "traefik"],
      preparers: [],
      oneShots: [],
      rolling: [
        { name: "app", replicas: 3 },
        { name: "worker", replicas: 5 },
      ],
      scaled: [],
      routed: [{ name: "app", port: 3000, healthPath: "/api/health" }],
      scheduled: ["cron-cleanup"],
      proxy: "traefik",
      liveSecrets: [],
    });
  });
});

describe(".env and .env.example", () => {
  it("renderEnvFile is a Pulumi secret holding single-quoted KEY='value' lines", async () => {
    const secrets = Object.fromEntries(Object.entries(fixtureSecretValues).map(([k, v]) => [k, pulumi.secret(v)]));
    const env = renderEnvFile(fixtureModel(), secrets);
    expect(await pulumi.isSecret(env)).toBe(true);
    const text = await new Promise<string>((resolve) => env.apply(resolve));
    expect(text).toContain("DATABASE_URL='postgresql://app:LEAKCHECKpg0001@postgres:5432/app'");
    expect(text).toContain("POSTGRES_PASSWORD='LEAKCHECKpg0001'");
    expect(text.split("\n").filter((line) => /^[A-Z]/.test(line))).toHaveLength(5);
  });

  it("escapes single quotes the way docker compose v2 reads them and keeps $ literal", () => {
    expect(dotenvLine("KEY", "it's $HOME", "k")).toBe("KEY='it\\'s $HOME'");
    expect(dotenvLine("KEY", 'multi\nline "dq" # x', "k")).toBe("KEY='multi\nline \"dq\" # x'");
    expect(dotenvLine("KEY", "back\\slash", "k")).toBe("KEY='back\\slash'");
  });

  it("refuses values with no unambiguous single-quoted form, naming the secret and not the value", () => {
    expect(() => dotenvLine("KEY", "ends-with-backslash\\", "api-token")).toThrow(/secret api-token cannot be written to \.env/);
    try {
      dotenvLine("KEY", "TOPSECRET\\'x", "api-token");
      throw new Error("expected a refusal");
    } catch (error) {
      expect(String(error)).not.toContain("TOPSECRET");
    }
  });

  it("refuses to render when a secret value is missing", () => {
    const { "redis-url": _dropped, ...rest } = fixtureSecretValues;
    expect(() => renderEnvText(fixtureModel(), rest)).toThrow(/no value for secret\(s\) redis-url/);
  });

  it(".env.example lists every name with its description and no value", () => {
    const example = renderEnvExample(fixtureModel());
    for (const name of ["DATABASE_URL", "REDIS_URL", "ENCRYPTION_KEY", "POSTGRES_PASSWORD", "REDIS_PASSWORD"]) {
      expect(example).toMatch(new RegExp(`^${name}=$`, "m"));
    }
    expect(example).toContain("# encryption-key: Encrypts stored API keys (rotation: never; never change once data exists)");
    expect(example).toContain("# used by: app, worker, cron-cleanup");
    for (const value of Object.values(fixtureSecretValues)) expect(example).not.toContain(value);
  });
});

describe("cron", () => {
  it("keeps jobs out of `up` with the jobs profile", () => {
    expect(service(render(), "cron-cleanup").profiles).toEqual(["jobs"]);
  });

  it("renders one host crontab line per job running it through compose as the deploy user, bounded and non-overlapping", () => {
    const jobs = fixtureModel().workloads.filter((w) => w.role === "job");
    const crontab = renderCrontab(jobs, { project: "ballast", releaseBase: "/opt/ballast", composeCommand: "docker compose" });
    const lines = crontab.split("\n").filter((line) => line && !line.startsWith("#"));
    expect(lines).toEqual([
      "0 3 * * * flock -n /opt/ballast/.ballast/cron-cleanup.lock timeout 600 docker compose -p ballast " +
        "--project-directory /opt/ballast/current -f /opt/ballast/current/docker-compose.yml " +
        "--profile jobs run --rm --no-deps -T cron-cleanup >>/opt/ballast/.ballast/jobs.log 2>&1",
    ]);
  });

  it("adds the maintenance prune on its schedule", () => {
    const crontab = renderCrontab([], {
      project: "ballast",
      releaseBase: "/opt/ballast",
      composeCommand: "docker compose",
      maintenanceSchedule: "30 4 * * 0",
    });
    expect(crontab).toContain(
      "30 4 * * 0 flock -n /opt/ballast/.ballast/maintenance.lock bash --noprofile --norc /opt/ballast/current/maintenance.sh >>/opt/ballast/.ballast/maintenance.log 2>&1",
    );
  });

  it("ships the crontab in the release when there are jobs or maintenance, and none otherwise", () => {
    expect(renderComposeProject(fixtureModel(), sshConfig).crontab).toContain("cron-cleanup");
    const model = fixtureModel();
    const noJobs = { ...model, workloads: model.workloads.filter((w) => w.role !== "job") };
    expect(
      renderComposeProject(noJobs, { ...sshConfig, maintenance: { ...sshConfig.maintenance, enabled: false } }).crontab,
    ).toBeUndefined();
    expect(renderComposeProject(noJobs, sshConfig).crontab).toContain("maintenance.sh");
  });

  it("accepts five-field schedules with ranges, lists, steps and names", () => {
    expect(validateSchedule("*/15  2-4 1,15 jan-jun mon-fri", "job")).toBe("*/15 2-4 1,15 jan-jun mon-fri");
    expect(validateSchedule("0 0 * * 0", "job")).toBe("0 0 * * 0");
  });

  it.each([
    ["61 3 * * *", /job nightly: schedule "61 3 \* \* \*": minute field "61" is invalid \(61 is outside 0-59\)/],
    ["0 3 * *", /has 4 field\(s\); expected five fields/],
    ["0 0 3 * * *", /has 6 field\(s\)/],
    ["@daily", /is a macro; write it as five fields/],
    ["0 3 * * 7", /day of week field "7" is invalid \(7 is outside 0-6\)/],
    ["0 5-2 * * *", /range "5-2" runs backwards/],
    ["*/0 * * * *", /step "0" must be at least 1/],
    ["0 3 * foo *", /month field "foo" is invalid/],
  ])("refuses the schedule %s with a clear message", (schedule, message) => {
    expect(() => validateSchedule(schedule, "nightly")).toThrow(message);
  });

  it("refuses to render a job with a bad schedule", () => {
    const model = withWorkload(fixtureModel(), "cron-cleanup", (w) => ({ ...w, schedule: "0 25 * * *" }));
    expect(() => render(model)).toThrow(/job cron-cleanup: schedule "0 25 \* \* \*": hour field "25" is invalid/);
  });
});

describe("ComposeTarget.render", () => {
  it("returns the compose file, config files, crontab, routes, the three scripts and .env.example with their modes", () => {
    const files = new ComposeTarget(sshConfig, targetOptions).render(fixtureModel());
    expect(files.map((f) => [f.path, f.mode])).toEqual([
      ["docker-compose.yml", 0o644],
      ["config/traefik/traefik.yml", 0o444],
      ["config/postgres/01-init.sql", 0o444],
      ["config/redis/redis.conf", 0o444],
      ["crontab", 0o644],
      ["routing/routers.yml", 0o644],
      ["deploy.sh", 0o755],
      ["destroy.sh", 0o755],
      ["maintenance.sh", 0o755],
      [".env.example", 0o644],
    ]);
  });

  it("bakes the project, directories, health gate and release plan into deploy.sh", () => {
    const deploy = new ComposeTarget(sshConfig, targetOptions).render(fixtureModel()).find((f) => f.path === "deploy.sh")?.content ?? "";
    expect(deploy).toContain("readonly BASE_DIR='/opt/ballast'");
    expect(deploy).toContain("readonly HEALTH_URL='https://app.example.com/api/health'");
    expect(deploy).toContain("readonly HEALTH_RESOLVE='app.example.com:443:127.0.0.1'");
    expect(deploy).toContain("readonly HEALTH_INSECURE=1");
    expect(deploy).toContain("readonly KEEP_RELEASES=5");
    expect(deploy).toContain("readonly ADMIN_URL='http://127.0.0.1:8099'");
    expect(deploy).toContain("readonly -a ROLLING=('app' 'worker')");
    expect(deploy).toContain("readonly -a SINGLETONS=('node-exporter' 'postgres' 'redis' 'traefik')");
    expect(deploy).toContain("declare -rA ROUTE_PORT=(['app']='3000')");
    expect(deploy).toContain("readonly CRON_ENABLED=1");
    expect(deploy).toContain('up -d --no-deps --no-recreate --scale "$service=$count" "$service"');
    expect(deploy).toContain("readonly -a PREPARERS=()");
  });

  it("runs the volume-owners step before anything restarts, with its own timeout, and not among the one-shots", () => {
    const model = fixtureModel();
    const traefik = model.workloads.find((w) => w.name === "traefik")!;
    const owned = {
      ...model,
      workloads: withVolumeOwners(
        model.workloads.map((w) =>
          w === traefik
            ? { ...w, volumes: w.volumes.map((v) => (v.kind === "persistent" ? { ...v, owner: { uid: 65532, gid: 65532 } } : v)) }
            : w,
        ),
        "traefik:v3.7.13",
      ),
    };
    const plan = releasePlan(owned.workloads);
    expect(plan.preparers).toEqual(["volume-owners"]);
    expect(plan.oneShots).toEqual([]);
    expect(plan.singletons).not.toContain("volume-owners");
    const deploy = new ComposeTarget(sshConfig, targetOptions).render(owned).find((f) => f.path === "deploy.sh")?.content ?? "";
    expect(deploy).toContain("readonly -a PREPARERS=('volume-owners')");
    expect(deploy).toContain("['volume-owners']='300'");
    const main = deploy.slice(deploy.indexOf("\nmain() {"));
    expect(main.indexOf("preparing_steps")).toBeGreaterThan(main.indexOf("STAGE=pull"));
    expect(main.indexOf("preparing_steps")).toBeLessThan(main.indexOf("singletons_up"));
    const document = render(owned);
    expect(document.services.traefik.depends_on).toEqual({ "volume-owners": { condition: "service_completed_successfully" } });
    expect(document.services["volume-owners"].entrypoint).toEqual(["sh", "-c", "chown -R -h 65532:65532 /volumes/traefik-acme"]);
  });

  it("refuses two owners for one volume", () => {
    const model = fixtureModel();
    const claim = (uid: number) => (w: WorkloadSpec) => ({
      ...w,
      volumes: w.volumes.map((v) => (v.kind === "persistent" ? { ...v, name: "shared", owner: { uid, gid: uid } } : v)),
    });
    const workloads = model.workloads.map((w) => (w.name === "traefik" ? claim(65532)(w) : w.name === "postgres" ? claim(999)(w) : w));
    expect(() => withVolumeOwners(workloads, "traefik:v3.7.13")).toThrow(
      /volume shared: postgres wants it owned by 999:999, another workload by 65532:65532/,
    );
  });

  it("gates dev over plain http on the proxy's published http port", () => {
    const target = new ComposeTarget(
      { ...sshConfig, mode: "local" },
      { ...targetOptions, tls: false, sshPrivateKey: undefined, httpPort: 8080 },
    );
    const gate = target.healthGate(fixtureModel({ tls: false }));
    expect(gate).toMatchObject({ url: "http://app.example.com:8080/api/health", resolve: "app.example.com:8080:127.0.0.1", tls: false });
    expect(target.appUrl(fixtureModel({ tls: false }))).toBe("http://app.example.com:8080");
  });

  it("sends the health gate to the proxy's bind address; loopback for every interface or a wildcard", () => {
    const target = new ComposeTarget(sshConfig, targetOptions);
    expect(target.healthGate(withBindAddress("203.0.113.7")).resolve).toBe("app.example.com:443:203.0.113.7");
    expect(target.healthGate(withBindAddress("::1")).resolve).toBe("app.example.com:443:[::1]");
    expect(target.healthGate(withBindAddress("0.0.0.0")).resolve).toBe("app.example.com:443:127.0.0.1");
    expect(target.healthGate(fixtureModel()).resolve).toBe("app.example.com:443:127.0.0.1");
  });

  it("refuses a tls mismatch between the stack and the app route, and keepReleases below 2", () => {
    expect(() => new ComposeTarget(sshConfig, targetOptions).healthGate(fixtureModel({ tls: false }))).toThrow(
      /the app route has tls=false but the stack has tls=true/,
    );
    expect(() => new ComposeTarget({ ...sshConfig, keepReleases: 1 }, targetOptions)).toThrow(/keepReleases is 1; it must be at least 2/);
  });

  it("renders without the SSH key (review and CI need no credentials)", () => {
    const files = new ComposeTarget(sshConfig, { ...targetOptions, sshPrivateKey: undefined }).render(fixtureModel());
    expect(files.length).toBeGreaterThan(0);
  });
});

describe("release bundle", () => {
  it("holds .env with mode 0600, changes id when a secret changes, and frames every file", () => {
    const files = releaseBundleFiles(fixtureModel(), sshConfig, fixtureSecretValues);
    expect(files.find((f) => f.path === ".env")?.mode).toBe(0o600);
    const rotated = releaseBundleFiles(fixtureModel(), sshConfig, { ...fixtureSecretValues, "redis-password": "rotated" });
    expect(bundleId(rotated)).not.toBe(bundleId(files));
    const encoded = encodeBundle(files);
    expect(encoded.startsWith(`ballast-bundle 1 ${bundleId(files)}\n`)).toBe(true);
    expect(encoded.endsWith("\nend\n")).toBe(true);
    expect(encoded).toContain("\nfile 0600 .env\n");
    for (const value of Object.values(fixtureSecretValues)) expect(encoded).not.toContain(value);
    expect(decodeBundle(encoded)).toEqual({ id: bundleId(files), files: [...files].sort((a, b) => (a.path < b.path ? -1 : 1)) });
  });

  it("decoding refuses a truncated bundle", () => {
    const encoded = encodeBundle(releaseBundleFiles(fixtureModel(), sshConfig, fixtureSecretValues));
    expect(() => decodeBundle(encoded.slice(0, encoded.indexOf("\nend")))).toThrow(/truncated/);
  });

  it("refuses unsafe paths", () => {
    expect(() => bundleId([{ path: "../etc/passwd", mode: 0o644, content: "" }])).toThrow(/unsafe path/);
  });
});
