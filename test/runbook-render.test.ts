/**
 * The runbook renderer on the hand-built fixture model, for both targets: the exact
 * commands for the stack's names, the secrets table, the alert list, determinism, and
 * that no secret value can reach the text. The real stacks' runbooks are checked for
 * staleness in test/runbook.test.ts.
 */
import { describe, expect, it } from "vitest";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { parsePlatformConfig } from "../components/config";
import { alertsFromModel, renderRunbook, runbookInput, type ComposeFacts, type RunbookInput } from "../components/runbook";
import { healthCheck, workload, type StackModel, type WorkloadSpec } from "../components/spec";
import { fixtureModel, fixtureSecretValues } from "./fixtures/stack-model";

const composeFacts: ComposeFacts = {
  mode: "ssh",
  project: "ballast",
  releaseDir: "/opt/ballast",
  ssh: { host: "203.0.113.10", port: 22, user: "deploy" },
  composeCommand: "docker compose",
  keepReleases: 5,
  deployTimeoutSeconds: 300,
};

function composeInput(model: StackModel = fixtureModel(), facts: Partial<ComposeFacts> = {}): RunbookInput {
  return { model, target: "compose", environment: "staging", compose: { ...composeFacts, ...facts } };
}

function kubernetesInput(model: StackModel = fixtureModel(), context = ""): RunbookInput {
  return { model, target: "kubernetes", environment: "prod", kubernetes: { namespace: "ballast", context, secretName: "ballast-secrets" } };
}

/** The backup jobs as components/backups names them, hand-built so a renderer failure points here. */
function backupJobs(): WorkloadSpec[] {
  const base = {
    component: "backups",
    role: "job" as const,
    image: "pgvector/pgvector:pg16",
    secretEnv: { PGPASSWORD: "postgres-password" },
    resources: { requests: { cpu: 0.5, memoryMiB: 256 }, limits: { cpu: 1, memoryMiB: 512 } },
    volumes: [{ kind: "persistent" as const, name: "backups", mountPath: "/backups", sizeGiB: 20 }],
    dependsOn: ["postgres"],
    jobTimeoutSeconds: 7200,
  };
  return [
    workload({
      ...base,
      name: "backup",
      description: "pg_dump of app to the backups volume",
      command: ["bash", "/etc/ballast/backups/backup.sh"],
      schedule: "15 3 * * *",
    }),
    workload({
      ...base,
      name: "restore-drill",
      description: "Restores the newest backup into app_restore_drill",
      command: ["bash", "/etc/ballast/backups/restore-drill.sh"],
      schedule: "30 4 1 * *",
    }),
  ];
}

function withBackups(model: StackModel): StackModel {
  return { ...model, workloads: [...model.workloads, ...backupJobs()] };
}

/** Every line of every fenced code block: what an operator copies. */
function commandLines(markdown: string): string[] {
  const lines: string[] = [];
  let inside = false;
  for (const line of markdown.split("\n")) {
    if (/^```/.test(line)) {
      inside = !inside;
      continue;
    }
    if (inside) lines.push(line);
  }
  return lines;
}

/** The table row of a secret in the secrets section. */
function secretRow(markdown: string, secret: string): string {
  const section = markdown.slice(markdown.indexOf("## Secrets"));
  const row = section.split("\n").find((line) => line.startsWith(`| \`${secret}\` |`));
  if (!row) throw new Error(`no row for secret ${secret}`);
  return row;
}

describe("renderRunbook, compose target", () => {
  const text = renderRunbook(composeInput(withBackups(fixtureModel())));
  const commands = commandLines(text);

  it("lists every service with image, purpose, health check, route, replicas and resources", () => {
    const app = text.split("\n").find((line) => line.startsWith("| `app` |"));
    expect(app).toContain("`ghcr.io/acme/app:1.4.2`");
    expect(app).toContain("Web/API application");
    expect(app).toContain("`GET :3000/api/health`");
    expect(app).toContain("https://app.example.com/");
    expect(app).toContain("3 (the autoscaling minimum; Compose has no autoscaler)");
    expect(app).toContain("1 CPU / 2Gi → 2 CPU / 4Gi");
    // A pipe inside a health command is escaped, so the table keeps its columns.
    const redis = text.split("\n").find((line) => line.startsWith("| `redis` |"));
    expect(redis).toContain("ping \\| grep -q PONG");
    expect(redis?.split(/(?<!\\)\|/).length).toBe(app?.split(/(?<!\\)\|/).length);
  });

  it("lists scheduled jobs with schedule and timeout", () => {
    expect(text).toMatch(/\| `cron-cleanup` \| `ghcr\.io\/acme\/app:1\.4\.2` \| Cleans old queue jobs \| `0 3 \* \* \*` \| 600s \|/);
  });

  it("gives exact commands for the project, the host and the release directory", () => {
    expect(commands).toContain("ssh deploy@203.0.113.10");
    expect(commands).toContain("cd /opt/ballast/current");
    expect(commands).toContain("pulumi up --stack test");
    expect(commands).toContain("curl -fsS https://app.example.com/api/health");
    expect(commands).toContain("docker compose -p ballast ps");
    expect(commands).toContain("docker compose -p ballast logs -f app");
    expect(commands).toContain("docker compose -p ballast exec postgres psql -U app -d app");
    expect(commands).toContain("ln -sfn releases/<previous-release> .current.new && mv -Tf .current.new current");
    expect(commands).toContain("cd /opt/ballast/current && docker compose -p ballast up -d --wait --wait-timeout 300 --remove-orphans");
  });

  it("describes the automatic rollback", () => {
    expect(text).toContain("**Automatic.**");
    expect(text).toContain("rolled back by `pulumi up` itself");
  });

  it("runs the backup jobs and the restore drill through compose, and the real restore with its flags", () => {
    expect(text).toContain("[backup-restore.md](../backup-restore.md)");
    expect(commands).toContain("docker compose -p ballast --profile jobs run --rm --no-deps backup");
    expect(commands).toContain("docker compose -p ballast --profile jobs run --rm --no-deps restore-drill");
    expect(commands).toContain(
      "docker compose -p ballast --profile jobs run --rm --no-deps restore-drill --restore-for-real --i-understand-this-replaces app",
    );
    // Scheduled jobs pause (Ballast's crontab block) and writers stop before the real restore; both come back after.
    const pause = commands.findIndex((line) => line.startsWith("crontab -l > ~/crontab.before-restore"));
    const stop = commands.findIndex((line) => line.startsWith("docker compose -p ballast stop app worker"));
    const restore = commands.findIndex((line) => line.includes("--restore-for-real"));
    expect(pause).toBeGreaterThan(-1);
    expect(stop).toBeGreaterThan(pause);
    expect(restore).toBeGreaterThan(stop);
    expect(commands.indexOf("crontab ~/crontab.before-restore")).toBeGreaterThan(restore);
  });

  it("scales through the stack file, and on the host in an emergency", () => {
    expect(text).toContain("`pulumi config set --stack test --path 'ballast:workers[0].autoscaling.minReplicas' 6`");
    expect(text).toContain("`docker compose -p ballast up -d --wait --no-deps --scale worker=6 worker`");
  });

  it("has a secrets table: where each secret lives, who uses it, how to rotate it", () => {
    const databaseUrl = secretRow(text, "database-url");
    expect(databaseUrl).toContain("`/opt/ballast/current/.env` as `DATABASE_URL`");
    expect(text).toContain(
      "On Compose every value is in the release's `.env` (mode 0600 in a 0700 release directory, owned by the deploy user `deploy`)",
    );
    expect(databaseUrl).toContain("`app`, `worker`, `cron-cleanup`");
    expect(databaseUrl).toContain("follows postgres-password");
    // The backup jobs read the Postgres password under another name: the table says so.
    expect(secretRow(text, "postgres-password")).toContain("`backup` (as `PGPASSWORD`)");
    const key = secretRow(text, "encryption-key");
    expect(key).toContain("**Cannot be rotated**");
    expect(key).not.toMatch(/rotation\.encryption-key/);
  });

  it("never contains a secret value", () => {
    for (const [name, value] of Object.entries(fixtureSecretValues)) expect(text, name).not.toContain(value);
    expect(text).not.toContain("LEAKCHECK");
  });

  it("is deterministic and carries no timestamp", () => {
    expect(renderRunbook(composeInput(withBackups(fixtureModel())))).toBe(text);
    expect(text).not.toMatch(/\b20\d\d-\d\d-\d\d\b/);
    expect(text.endsWith("\n")).toBe(true);
    expect(text).not.toMatch(/[ \t]+$/m);
  });
});

describe("renderRunbook, compose variants", () => {
  it("uses the SSH port and the compose command of the stack", () => {
    const text = renderRunbook(
      composeInput(fixtureModel(), { ssh: { host: "vps.example.net", port: 2222, user: "ops" }, composeCommand: "docker-compose" }),
    );
    const commands = commandLines(text);
    expect(commands).toContain("ssh -p 2222 ops@vps.example.net");
    expect(commands).toContain("docker-compose -p ballast ps");
  });

  it("says where SSH is admitted from when Ballast prepared the host", () => {
    const text = renderRunbook(composeInput(fixtureModel(), { sshAllowFrom: ["198.51.100.0/24", "2001:db8::/32"] }));
    expect(text).toContain("| SSH from | `198.51.100.0/24`, `2001:db8::/32` only (the host's firewall drops SSH from anywhere else) |");
    expect(renderRunbook(composeInput())).not.toContain("SSH from");
  });

  it("runs locally without SSH, from the checkout's release directory", () => {
    const model = fixtureModel({ tls: false });
    const text = renderRunbook(composeInput(model, { mode: "local", ssh: undefined, releaseDir: ".ballast/dev" }));
    const commands = commandLines(text);
    expect(commands.some((line) => line.startsWith("ssh "))).toBe(false);
    expect(commands).toContain("cd .ballast/dev/current");
    expect(commands).toContain("curl -fsS http://app.example.com/api/health");
  });

  it("puts the proxy's published port in URLs when it is not the scheme's default", () => {
    const model = fixtureModel({ tls: false });
    const traefik = model.workloads.find((w) => w.name === "traefik")!;
    traefik.ports = traefik.ports.map((p) => (p.name === "web" ? { ...p, publish: 8080 } : p));
    const text = renderRunbook(composeInput(model, { mode: "local", ssh: undefined, releaseDir: ".ballast/dev" }));
    expect(commandLines(text)).toContain("curl -fsS http://app.example.com:8080/api/health");
  });

  it("says where a built image comes from instead of an unresolved Output", () => {
    const model = fixtureModel();
    model.workloads.find((w) => w.name === "app")!.image = pulumi.output("registry.local/app:built");
    const text = renderRunbook(composeInput(model));
    expect(text).toContain("| `app` | built by `pulumi up` from `ballast:app.build` |");
    expect(text).not.toContain("Calling [toString]");
    // Without a pinned tag there is no image to set: the deploy section skips that step.
    expect(text).not.toContain("ballast:app.image");
  });

  it("falls back to a manual dump when the stack has no backup jobs", () => {
    const text = renderRunbook(composeInput());
    expect(text).toContain("This stack declares no backup jobs");
    expect(
      commandLines(text).some((line) => line.startsWith("docker compose -p ballast exec -T postgres pg_dump -U app -d app -Fc > app-")),
    ).toBe(true);
  });
});

describe("renderRunbook, kubernetes target", () => {
  const text = renderRunbook(kubernetesInput(withBackups(fixtureModel())));
  const commands = commandLines(text);

  it("names the Kubernetes object of every workload", () => {
    expect(text).toContain("| `app` | `deployment/app` |");
    expect(text).toContain("| `postgres` | `statefulset/postgres` |");
    expect(text).toContain("| `node-exporter` | `daemonset/node-exporter` |");
    expect(text).toContain("| `cron-cleanup` | `cronjob/cron-cleanup` |");
    expect(text).toContain("HPA 3–10 at 70 % CPU");
  });

  it("gives exact kubectl commands in the stack's namespace", () => {
    expect(commands).toContain("kubectl -n ballast get pods");
    expect(commands).toContain("kubectl -n ballast rollout undo deployment/app");
    expect(commands).toContain("kubectl -n ballast rollout status deployment/app --timeout=300s");
    expect(commands).toContain("kubectl -n ballast logs -l app.kubernetes.io/name=app -f --prefix --max-log-requests 10");
    expect(commands).toContain("kubectl -n ballast exec -it statefulset/postgres -- psql -U app -d app");
    expect(commands).toContain("kubectl -n ballast get hpa");
  });

  it("runs the drill from its CronJob and the real restore with added arguments", () => {
    expect(commands).toContain('job="restore-drill-manual-$(date -u +%Y%m%d%H%M%S)"');
    expect(commands).toContain('kubectl -n ballast create job --from=cronjob/restore-drill "$job"');
    expect(commands).toContain(
      `kubectl -n ballast create job --from=cronjob/restore-drill "$job" --dry-run=client -o json | jq '.spec.template.spec.containers[0].args += ["--restore-for-real","--i-understand-this-replaces","app"]' | kubectl -n ballast create -f -`,
    );
    // Writers stop first and come back at their minimum; the writing CronJob is suspended meanwhile.
    expect(commands).toContain("kubectl -n ballast scale deployment/app --replicas=0");
    expect(commands).toContain("kubectl -n ballast scale deployment/worker --replicas=5");
    expect(commands).toContain(`kubectl -n ballast patch cronjob/cron-cleanup -p '{"spec":{"suspend":true}}'`);
    expect(commands).toContain(`kubectl -n ballast patch cronjob/cron-cleanup -p '{"spec":{"suspend":false}}'`);
  });

  it("scales through the HPA bounds in the stack file", () => {
    expect(text).toContain("`pulumi config set --stack test --path ballast:app.autoscaling.maxReplicas 20`");
    expect(text).toContain(`\`kubectl -n ballast patch hpa worker --type=merge -p '{"spec":{"maxReplicas":40}}'\``);
  });

  it("places every secret in the stack's Secret, and never its value", () => {
    expect(secretRow(text, "redis-url")).toContain("Secret `ballast-secrets`, key `redis-url`");
    expect(secretRow(text, "encryption-key")).toContain("**Cannot be rotated**");
    for (const value of Object.values(fixtureSecretValues)) expect(text).not.toContain(value);
  });

  it("names a supplied secret's users to restart, since a Secret change restarts nothing", () => {
    const input = kubernetesInput();
    input.secretSources = { "encryption-key": "generated", "database-url": "supplied" };
    const row = secretRow(renderRunbook(input), "database-url");
    expect(row).toContain("`kubectl -n ballast rollout restart deployment/app deployment/worker`");
  });

  it("adds the kubeconfig context to every kubectl command when the stack names one", () => {
    const lines = commandLines(renderRunbook(kubernetesInput(fixtureModel(), "prod-eu")));
    const kubectl = lines.filter((line) => /(^|\| )kubectl /.test(line) && !line.startsWith("kubectl config"));
    expect(kubectl.length).toBeGreaterThan(5);
    for (const line of kubectl) expect(line).toMatch(/kubectl --context prod-eu -n ballast /);
    expect(lines).toContain("kubectl config use-context prod-eu");
  });
});

describe("alerts", () => {
  const rules = {
    groups: [
      {
        name: "ballast",
        rules: [
          {
            alert: "PostgresDown",
            expr: "pg_up == 0",
            for: "1m",
            labels: { severity: "critical" },
            annotations: { summary: "Postgres is down", description: "postgres-exporter cannot reach the database" },
          },
          {
            alert: "BackupTooOld",
            expr: "time() - ballast_backup_last_success_timestamp_seconds > 86400",
            labels: { severity: "warning" },
            annotations: {
              summary: "No backup for 24 h",
              description: "The newest backup is older than the RPO",
              first_action: "Check the backup job",
            },
          },
          { record: "job:up:sum", expr: "sum(up) by (job)" },
        ],
      },
    ],
  };

  function modelWithRules(): StackModel {
    const model = fixtureModel();
    model.workloads.push(
      workload({
        name: "prometheus",
        component: "observability",
        role: "stateful",
        description: "Metrics and alert rules",
        image: "prom/prometheus:v2.53.0",
        ports: [{ name: "http", port: 9090 }],
        health: healthCheck({ http: { path: "/-/ready", port: 9090 } }),
        resources: { requests: { cpu: 0.25, memoryMiB: 256 }, limits: { cpu: 0.5, memoryMiB: 512 } },
        configFiles: [{ name: "alerts.yml", mountPath: "/etc/prometheus/rules/alerts.yml", content: stringify(rules) }],
      }),
    );
    return model;
  }

  it("reads alerting rules from the model's Prometheus rule files, skipping recording rules", () => {
    expect(alertsFromModel(modelWithRules())).toEqual([
      {
        name: "PostgresDown",
        severity: "critical",
        summary: "Postgres is down",
        description: "postgres-exporter cannot reach the database",
        for: "1m",
        group: "ballast",
      },
      {
        name: "BackupTooOld",
        severity: "warning",
        summary: "No backup for 24 h",
        description: "The newest backup is older than the RPO",
        firstAction: "Check the backup job",
        group: "ballast",
      },
    ]);
  });

  it("lists them most severe first, with meaning and a first action in the stack's own commands", () => {
    const text = renderRunbook(composeInput(modelWithRules()));
    const section = text.slice(text.indexOf("## Alerts"), text.indexOf("## Secrets"));
    expect(section.indexOf("`PostgresDown`")).toBeLessThan(section.indexOf("`BackupTooOld`"));
    const postgres = section.split("\n").find((line) => line.startsWith("| `PostgresDown` |"))!;
    expect(postgres).toContain("| critical | Postgres is down: postgres-exporter cannot reach the database (for 1m) |");
    expect(postgres).toContain("`docker compose -p ballast logs --tail 200 postgres`");
    expect(section).toContain(
      "| `BackupTooOld` | warning | No backup for 24 h: The newest backup is older than the RPO | Check the backup job |",
    );
    expect(text).toContain("- [Alerts](#alerts)");
  });

  it("turns Alertmanager templates into readable placeholders", () => {
    const model = fixtureModel();
    const templated = {
      groups: [
        {
          name: "platform",
          rules: [
            {
              alert: "CertificateExpiresSoon",
              expr: "probe_ssl_earliest_cert_expiry - time() < 14 * 86400",
              labels: { severity: "warning" },
              annotations: {
                summary: "Certificate for {{ $labels.cn }} expires soon",
                description: 'It expires in {{ printf "%.1f" $value }} days; check the ACME log.',
              },
            },
          ],
        },
      ],
    };
    model.workloads[0].configFiles.push({
      name: "tls.rules.yml",
      mountPath: "/etc/prometheus/rules/tls.rules.yml",
      content: stringify(templated),
    });
    const [alert] = alertsFromModel(model);
    expect(alert.summary).toBe("Certificate for {cn} expires soon");
    expect(alert.description).toBe("It expires in {value} days; check the ACME log.");
    // The first action for a certificate alert points at the proxy's log.
    expect(renderRunbook(composeInput(model))).toContain("`docker compose -p ballast logs --tail 200 traefik`");
  });

  it("takes the alert list the caller passes instead", () => {
    const input = kubernetesInput();
    input.alerts = [{ name: "AppHighErrorRate", severity: "critical", summary: "5xx above 5 %", description: "The app answers errors" }];
    const text = renderRunbook(input);
    expect(text).toContain("| `AppHighErrorRate` | critical | 5xx above 5 %: The app answers errors |");
    expect(text).toContain("`kubectl -n ballast logs -l app.kubernetes.io/name=app --tail 200 --prefix --max-log-requests 10`");
  });

  it("derives the first action from the alert's name before its prose", () => {
    const input = kubernetesInput(withBackups(fixtureModel()));
    const alert = (name: string, description = "") => ({ name, severity: "warning", summary: "", description });
    input.alerts = [
      alert("QueueBacklog", "Jobs wait in Redis"),
      alert("LLMSpendHigh"),
      alert("ContainerOOMKilled"),
      alert("RestoreDrillOverdue"),
      alert("HighErrorRate", "Check the LLM providers' status pages"),
    ];
    const rows = renderRunbook(input)
      .split("\n")
      .filter((line) => line.startsWith("| `"));
    const action = (name: string) => rows.find((row) => row.startsWith(`| \`${name}\` |`)) ?? "";
    expect(action("QueueBacklog")).toContain(
      "Check the workers: `kubectl -n ballast logs -l app.kubernetes.io/name=worker --tail 200 --prefix --max-log-requests 20`",
    );
    expect(action("LLMSpendHigh")).toContain("remove the provider's API key");
    expect(action("ContainerOOMKilled")).toContain("`kubectl -n ballast top pods`");
    expect(action("RestoreDrillOverdue")).toContain(
      "`kubectl -n ballast logs -l app.kubernetes.io/name=restore-drill --tail 200 --prefix`",
    );
    expect(action("HighErrorRate")).toContain("[roll back](#roll-back)");
  });

  it("has no alert section when the stack ships no rules", () => {
    const text = renderRunbook(composeInput());
    expect(text).not.toContain("## Alerts");
    expect(text).not.toContain("(#alerts)");
  });
});

describe("logs with monitoring in the stack", () => {
  function withMonitoring(): StackModel {
    const model = fixtureModel();
    const resources = { requests: { cpu: 0.1, memoryMiB: 128 }, limits: { cpu: 0.5, memoryMiB: 256 } };
    model.workloads.push(
      workload({
        name: "grafana",
        component: "observability",
        role: "stateful",
        description: "Dashboards",
        image: "grafana/grafana:11.3.0",
        ports: [{ name: "http", port: 3000 }],
        env: { GF_SECURITY_ADMIN_USER: "admin" },
        secretEnv: { GF_SECURITY_ADMIN_PASSWORD: "grafana-admin-password" },
        resources,
        route: { host: "grafana.example.com", pathPrefix: "/", port: 3000, tls: true },
      }),
      workload({
        name: "loki",
        component: "observability",
        role: "stateful",
        description: "Log store",
        image: "grafana/loki:3.4.2",
        resources,
      }),
      workload({
        name: "alloy",
        component: "observability",
        role: "agent",
        description: "Ships container logs to Loki",
        image: "grafana/alloy:v1.7.1",
        resources,
        configFiles: [{ name: "config.alloy", mountPath: "/etc/alloy/config.alloy", content: 'rule {\n  target_label = "service"\n}\n' }],
      }),
    );
    return model;
  }

  it("points to Grafana Explore with a Loki query for the app", () => {
    const text = renderRunbook(kubernetesInput(withMonitoring()));
    expect(text).toContain('https://grafana.example.com/ → Explore → data source Loki, e.g. `{service="app"} |= "error"`');
    expect(text).toContain("Log in as `admin` with the `grafana-admin-password` secret.");
    expect(text).toContain("| Grafana | https://grafana.example.com/ |");
  });

  it("says where logs stay when the stack has no log store", () => {
    expect(renderRunbook(composeInput())).toContain("No log aggregation in this stack: container logs rotate on the host");
  });
});

describe("runbookInput from the validated config", () => {
  const raw = (extra: Record<string, unknown>) =>
    Object.fromEntries(
      Object.entries(extra).map(([key, value]) => [`ballast:${key}`, typeof value === "string" ? value : JSON.stringify(value)]),
    );

  it("takes the compose host, release directory and project from the config", () => {
    const { config } = parsePlatformConfig(
      raw({
        target: "compose",
        domain: "staging.example.com",
        acmeEmail: "ops@example.com",
        compose: {
          mode: "ssh",
          ssh: {
            host: "203.0.113.10",
            user: "deploy",
            hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIKey staging",
            remoteDir: "/srv/app/",
          },
          // The host is prepared by hand here: the bootstrap's own settings are not what this test is about.
          bootstrap: { enabled: false },
        },
        // Without the bootstrap's SSH ranges to follow, Grafana's audience is explicit.
        monitoring: { grafana: { allowFrom: ["203.0.113.0/24"] } },
        app: { image: "ghcr.io/acme/app:1.0.0" },
      }),
      "staging",
      "ballast",
    );
    const input = runbookInput(fixtureModel(), config, { suppliedSecrets: ["encryption-key"] });
    expect(input.target).toBe("compose");
    expect(input.compose).toMatchObject({
      mode: "ssh",
      project: "ballast",
      releaseDir: "/srv/app",
      ssh: { host: "203.0.113.10", port: 22, user: "deploy" },
    });
    // The host was not prepared by Ballast, so the runbook claims nothing about its firewall.
    expect(input.compose?.sshAllowFrom).toBeUndefined();
    expect(input.secretSources).toMatchObject({
      "encryption-key": "supplied",
      "postgres-password": "generated",
      "database-url": "derived",
    });
  });

  it("takes the namespace and names the stack's Secret on Kubernetes", () => {
    const { config } = parsePlatformConfig(
      raw({
        target: "kubernetes",
        domain: "example.com",
        acmeEmail: "ops@example.com",
        kubernetes: { namespace: "shop" },
        app: { image: "ghcr.io/acme/app:1.0.0" },
      }),
      "prod",
      "ballast",
    );
    const input = runbookInput(fixtureModel(), config);
    expect(input.kubernetes).toEqual({ namespace: "shop", context: "", secretName: "ballast-secrets" });
    expect(input.compose).toBeUndefined();
  });
});

describe("the Backups section of an encrypted set with Redis and the config archive", () => {
  const recipient = "age1kgpj0txpla5thvw8cgmmnvl0nnlzupa0ssftzckhrvyx2pvw745q5dzp6s";
  function encryptedModel(): StackModel {
    const [backup, drill] = backupJobs();
    const sets = [
      {
        ...backup,
        env: { ...backup.env, REDIS_HOST: "redis", REDIS_PORT: "6379", STACK_CONFIG_DIR: "/stack", ENCRYPTION_RECIPIENT: recipient },
        volumes: [
          ...backup.volumes,
          { kind: "persistent" as const, name: "traefik-acme", mountPath: "/stack/acme", sizeGiB: 1, readOnly: true },
        ],
      },
      { ...drill, secretFiles: [{ secret: "backup-encryption-identity", mountPath: "/run/ballast/backup-encryption-identity" }] },
    ];
    const model = fixtureModel();
    return { ...model, workloads: [...model.workloads, ...sets] };
  }

  it.each(["compose", "kubernetes"] as const)(
    "on %s names the set's files, the recipient, the drill-only identity and the Redis restore",
    (target) => {
      const text = renderRunbook(target === "compose" ? composeInput(encryptedModel()) : kubernetesInput(encryptedModel()));
      expect(text).toContain(
        "Each run writes one set: `app-<UTC timestamp>.dump` (pg_dump), `app-<UTC timestamp>.redis.rdb` (Redis snapshot through `redis-cli --rdb`), `app-<UTC timestamp>.config.tar.gz` (the stack's non-secret config and Traefik's acme.json), each with a `.sha256` sidecar; retention keeps or deletes whole sets.",
      );
      expect(text).toContain(`Every file of a set is age-encrypted to \`${recipient}\``);
      expect(text).toContain(
        "the drill decrypts with the secret `backup-encryption-identity`, mounted into it alone (`/run/ballast/backup-encryption-identity`)",
      );
      expect(commandLines(text)).toContain("age --decrypt --identity backup.key --output app.dump app-<UTC timestamp>.dump.age");
      expect(text).toContain(
        "Redis after a loss: stop Redis, put the (decrypted) `app-<UTC timestamp>.redis.rdb` on its data volume as `dump.rdb`",
      );
    },
  );
});

describe("rotate all secrets", () => {
  /** The fixture with sources as a stack gives them: generated passwords, a supplied registry token. */
  function rotationInput(rotation: RunbookInput["rotation"], secrets = fixtureModel().secrets): RunbookInput {
    const model = {
      ...fixtureModel(),
      secrets: [
        ...secrets,
        {
          name: "registry-password",
          description: "Registry token",
          rotation: "create a new token at the registry, set it, pulumi up, revoke the old token",
          immutable: false,
        },
      ],
    };
    const input = composeInput(model);
    input.secretSources = {
      "postgres-password": "generated",
      "redis-password": "generated",
      "encryption-key": "generated",
      "database-url": "derived",
      "redis-url": "derived",
      "registry-password": "supplied",
    };
    input.rotation = rotation;
    return input;
  }
  const section = (markdown: string) => markdown.slice(markdown.indexOf("### Rotate all secrets"));

  it("bumps ballast:rotation.all past its current value and names what it rotates and exactly who restarts", () => {
    const text = section(renderRunbook(rotationInput({ all: 2 })));
    expect(text).toContain("1. `pulumi config set --stack test --path 'ballast:rotation.all' 3`, then `pulumi up --stack test`.");
    expect(text).toContain(
      "Every generated secret gets a new value exactly once: `postgres-password` (set inside the running Postgres with `ALTER ROLE` before its clients restart; Postgres keeps running), `redis-password`.",
    );
    expect(text).toContain(
      "Exactly their users restart (a job takes the new value on its next run): `app`, `cron-cleanup`, `postgres`, `redis`, `worker`.",
    );
  });

  it("lists what it cannot rotate as manual steps, each with why and how", () => {
    const text = section(renderRunbook(rotationInput({ all: 0 })));
    expect(text).toContain("2. By hand, what the switch cannot rotate, each with why and how:");
    expect(text).toContain(
      "   - `encryption-key`: **not rotated**: the encryption key cannot be rotated: stored API keys were encrypted with it",
    );
    expect(text).toContain("opt in with `ballast:encryptionKeyRotation` (README).");
    expect(text).toContain(
      "   - `registry-password` (supplied: Ballast cannot issue it): create a new token at the registry, set it, pulumi up, revoke the old token",
    );
  });

  it("with two encryption keys: the key rotates with the rest and the window's closing step is printed", () => {
    const secrets = fixtureModel().secrets.map((s) =>
      s.name === "encryption-key" ? { ...s, immutable: false, rotation: "bump, re-encrypt, close" } : s,
    );
    const closed = section(
      renderRunbook(
        rotationInput({ all: 0, encryptionKey: { previousKeyEnv: "ENCRYPTION_KEY_PREVIOUS", generation: 0, reencrypted: 0 } }, secrets),
      ),
    );
    expect(closed).toContain("`encryption-key` (opens a re-encryption window, below)");
    expect(closed).not.toContain("**not rotated**");
    expect(closed).toContain(
      "3. Encryption key (the app reads two keys): after step 1 its users get the new key and the old one as `ENCRYPTION_KEY_PREVIOUS`. Re-encrypt the stored data with the app's own procedure, then close the window: `pulumi config set --stack test --path 'ballast:encryptionKeyRotation.reencrypted' 1` and `pulumi up --stack test`",
    );
    const open = section(
      renderRunbook(
        rotationInput({ all: 1, encryptionKey: { previousKeyEnv: "ENCRYPTION_KEY_PREVIOUS", generation: 1, reencrypted: 0 } }, secrets),
      ),
    );
    expect(open).toContain("'ballast:encryptionKeyRotation.reencrypted' 1`");
    expect(open).toContain("A window is open now (generation 1, re-encrypted to 0): close it before step 1, which is refused until then.");
  });
});
