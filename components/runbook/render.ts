/**
 * renderRunbook: the operations runbook of one stack, as Markdown, from the same model
 * and config facts that deploy it. Pure and deterministic (no clock, no I/O, no secret
 * values), so a committed runbook can be checked for staleness by rendering it again.
 */
import { BACKUP_ENCRYPTION_IDENTITY_SECRET, BUILTIN_RULE_GROUPS, encryptionKeyRotationRefusal } from "../config";
import { agentsNamespaceOf } from "../config/kubernetes";
import {
  cpuQuantity,
  memoryQuantity,
  secretEnvName,
  type HealthCheckSpec,
  type QueueTriggerSpec,
  type SecretSpec,
  type WorkloadSpec,
} from "../spec";
import { firstAction } from "./alerts";
import { createContext, envVarFor, routeUrl, type RunbookContext } from "./context";
import { alertsFromModel, dashboardsFromModel } from "./facts";
import { alertRoutingFromModel, type AlertRouting } from "./routing";
import { anchor, code, codeBlock, shellLine, shellWord, table } from "./markdown";
import { tracesText } from "./traces";
import { composeInterruptedSection, kubernetesInterruptedSection } from "./interrupted";
import { composeOps, configSet, kubernetesOps, type ComposeExtras, type KubernetesExtras, type TargetOps } from "./ops";
import type { RunbookAlert, RunbookInput, RunbookSlo, SecretSource } from "./types";

type ComposeOps = TargetOps & ComposeExtras;
type KubernetesOps = TargetOps & KubernetesExtras;

const DEFAULT_BACKUP_GUIDE = "../backup-restore.md";

function opsFor(ctx: RunbookContext): ComposeOps | KubernetesOps {
  const { input } = ctx;
  if (input.target === "compose") {
    if (!input.compose) throw new Error(`runbook of stack ${ctx.stack}: target compose needs the compose facts (input.compose)`);
    return composeOps(input.compose);
  }
  if (!input.kubernetes) throw new Error(`runbook of stack ${ctx.stack}: target kubernetes needs the kubernetes facts (input.kubernetes)`);
  return kubernetesOps(input.kubernetes);
}

const isCompose = (ops: ComposeOps | KubernetesOps): ops is ComposeOps => ops.kind === "compose";

/** The image cell: the pinned reference, or where a built image comes from. */
function imageCell(workload: WorkloadSpec): string {
  return typeof workload.image === "string" ? code(workload.image) : "built by `pulumi up` from `ballast:app.build`";
}

function healthText(health: HealthCheckSpec | undefined): string {
  if (!health) return "none: the process staying up is the check";
  const probe = health.http
    ? `GET :${health.http.port}${health.http.path}`
    : health.tcp
      ? `TCP :${health.tcp.port}`
      : code(shellLine(health.exec ?? []));
  const timing = `every ${health.intervalSeconds}s, timeout ${health.timeoutSeconds}s, ${health.retries} retries, start ${health.startPeriodSeconds}s`;
  return `${health.http ? code(probe) : probe} (${timing})`;
}

function portsText(workload: WorkloadSpec): string {
  if (workload.ports.length === 0) return "none";
  return workload.ports
    .map(
      (p) =>
        `${p.name} ${p.port}${p.protocol === "UDP" ? "/udp" : ""}${p.publish !== undefined ? ` (${isLoopback(p.publishAddress) ? "host loopback" : "public"} ${p.publish})` : ""}`,
    )
    .join(", ");
}

function resourcesText(workload: WorkloadSpec): string {
  const { requests, limits } = workload.resources;
  return `${cpuQuantity(requests.cpu)} CPU / ${memoryQuantity(requests.memoryMiB)} → ${cpuQuantity(limits.cpu)} CPU / ${memoryQuantity(limits.memoryMiB)}`;
}

/** A port bound to the host's loopback (Traefik's API for deploy.sh) is not a public entry point. */
function isLoopback(address: string | undefined): boolean {
  return address === "127.0.0.1" || address === "::1";
}

function routeText(ctx: RunbookContext, workload: WorkloadSpec): string {
  if (workload.route) return routeUrl(workload.route, ctx.model, ctx.input.target);
  const published = workload.ports
    .filter((p) => p.publish !== undefined && (p.name !== "admin" || !isLoopback(p.publishAddress)))
    .map((p) => String(p.publish));
  return published.length > 0 ? `entry point of every route (public ${published.join(", ")})` : "internal";
}

/** Compose has no autoscaler: stateless services run their minimum; anything holding state or publishing ports runs one. */
function composeReplicas(workload: WorkloadSpec): number {
  if (workload.role !== "stateless" || workload.ports.some((p) => p.publish !== undefined)) return 1;
  return workload.autoscaling?.minReplicas ?? workload.replicas;
}

/** `bull:analyst:wait` (list), or `events` group `workers` (stream), with its target per replica. */
function queueText(queue: QueueTriggerSpec): string {
  const source =
    queue.kind === "redis-list"
      ? `Redis list ${code(queue.key)}`
      : `Redis stream ${code(queue.key)} (pending in group ${code(queue.consumerGroup ?? "")})`;
  return `${source}, ${queue.targetPerReplica} jobs per replica`;
}

function replicasText(workload: WorkloadSpec, ops: ComposeOps | KubernetesOps): string {
  const queue = workload.role === "stateless" ? workload.autoscaling?.queue : undefined;
  if (queue && workload.autoscaling) {
    const { minReplicas, maxReplicas } = workload.autoscaling;
    return `${minReplicas}–${maxReplicas} on the ${queueText(queue)} (${isCompose(ops) ? "autoscale.sh, every minute" : "KEDA"})`;
  }
  if (isCompose(ops)) {
    const replicas = composeReplicas(workload);
    return workload.autoscaling ? `${replicas} (the autoscaling minimum; Compose has no autoscaler)` : String(replicas);
  }
  switch (workload.role) {
    case "agent":
      return "one per node";
    case "stateful":
      return "1";
    default:
      return workload.autoscaling
        ? `HPA ${workload.autoscaling.minReplicas}–${workload.autoscaling.maxReplicas} at ${workload.autoscaling.cpuTargetPercent} % CPU`
        : String(workload.replicas);
  }
}

function roleText(workload: WorkloadSpec): string {
  const roles: Record<WorkloadSpec["role"], string> = { stateless: "stateless", stateful: "stateful", agent: "per-node agent", job: "job" };
  return roles[workload.role];
}

// ---------------------------------------------------------------------------------------------
// Sections

function header(ctx: RunbookContext, ops: ComposeOps | KubernetesOps): string {
  const { input, model, stack } = ctx;
  const rows: string[][] = [];
  if (isCompose(ops) && input.compose) {
    const c = input.compose;
    rows.push([
      "Target",
      c.ssh ? `Docker Compose on ${code(`${c.ssh.user}@${c.ssh.host}`)} over SSH` : "Docker Compose on this machine's Docker engine",
    ]);
    if (c.ssh && c.sshAllowFrom)
      rows.push(["SSH from", `${c.sshAllowFrom.map(code).join(", ")} only (the host's firewall drops SSH from anywhere else)`]);
    rows.push(["Compose project", code(c.project)]);
    rows.push([
      "Release directory",
      `${code(c.releaseDir)}${c.mode === "local" ? " (relative to the Ballast checkout)" : ""}: ${code("current")} is the live release, ${code("releases/")} keeps the last ${c.keepReleases}`,
    ]);
  } else if (input.kubernetes) {
    const k = input.kubernetes;
    rows.push(["Target", `Kubernetes${k.context ? `, kubeconfig context ${code(k.context)}` : ", the current kubeconfig context"}`]);
    rows.push(["Namespace", code(k.namespace)]);
  }
  rows.push(["Environment", input.environment]);
  rows.push(["Domain", code(model.domain)]);
  if (ctx.appUrl) rows.push(["App", ctx.appUrl]);
  if (ctx.healthUrl) rows.push(["Health", ctx.healthUrl]);
  if (ctx.grafanaUrl) rows.push(["Grafana", ctx.grafanaUrl]);
  rows.push([
    "Data on destroy",
    model.allowDataLoss
      ? `**deleted**: ${code("ballast:allowDataLoss")} is true for this stack`
      : `retained: volumes are protected (${code("ballast:allowDataLoss")} is false)`,
  ]);
  return [
    `# Runbook: stack ${code(stack)}`,
    "",
    `> Generated by ${code(`npm run runbook -- ${stack}`)} from ${code(`Pulumi.${stack}.yaml`)} and the component specs: the same declaration ${code(`pulumi up --stack ${stack}`)} deploys. Do not edit by hand: change the declaration, then run ${code("npm run runbook -- --all")} (${code("npm test")} fails while this file is stale).`,
    "",
    table(["", ""], rows),
    "",
    `Where commands run: ${ops.where}`,
  ].join("\n");
}

const sectionTitles = {
  services: "Services",
  jobs: "Scheduled jobs",
  deploy: "Deploy",
  verify: "Verify",
  rollback: "Roll back",
  interrupted: "When a deploy was interrupted",
  logs: "Read logs",
  database: "Database shell",
  backups: "Backups and restore",
  scale: "Scale",
  alerts: "Alerts",
  routing: "Alert routing",
  slos: "SLOs",
  secrets: "Secrets",
} as const;

function contents(titles: string[]): string {
  return ["## Contents", "", ...titles.map((title) => `- [${title}](#${anchor(title)})`)].join("\n");
}

function servicesSection(ctx: RunbookContext, ops: ComposeOps | KubernetesOps): string {
  const kube = !isCompose(ops);
  const headers = ["Service", "Image", "Purpose", "Role", "Ports", "Health check", "Route", "Replicas", "Resources (request → limit)"];
  if (kube) headers.splice(1, 0, "Object");
  const rows = ctx.services.map((w) => {
    const row = [
      code(w.name),
      imageCell(w),
      w.description,
      roleText(w),
      portsText(w),
      healthText(w.health),
      routeText(ctx, w),
      replicasText(w, ops),
      resourcesText(w),
    ];
    if (kube) row.splice(1, 0, code((ops as KubernetesOps).objectOf(w)));
    return row;
  });
  return [`## ${sectionTitles.services}`, "", table(headers, rows)].join("\n");
}

function jobsSection(ctx: RunbookContext, ops: ComposeOps | KubernetesOps): string {
  const kube = !isCompose(ops);
  const headers = ["Job", "Image", "Purpose", "Schedule (UTC)", "Timeout", "Resources (request → limit)"];
  if (kube) headers.splice(1, 0, "Object");
  const rows = ctx.jobs.map((w) => {
    const row = [
      code(w.name),
      imageCell(w),
      w.description,
      w.schedule ? code(w.schedule) : "once per deploy",
      w.jobTimeoutSeconds !== undefined ? `${w.jobTimeoutSeconds}s` : "none",
      resourcesText(w),
    ];
    if (kube) row.splice(1, 0, code((ops as KubernetesOps).objectOf(w)));
    return row;
  });
  const how = isCompose(ops)
    ? `On Compose the host's cron runs them as the deploy user: every deploy installs the release's ${code("crontab")} as a marked block of that user's crontab (on the local dev engine they are not scheduled: run them by hand). Each run is ${code(`${ops.composeCommand} --profile jobs run --rm --no-deps <job>`)}, never two at once, killed after its timeout; its output is appended to ${code(`${ops.base}/.ballast/jobs.log`)}.`
    : "On Kubernetes they are CronJobs (UTC, `concurrencyPolicy: Forbid`) and Jobs; run one by hand with the commands under [Backups and restore](#backups-and-restore).";
  return [`### ${sectionTitles.jobs}`, "", table(headers, rows), "", how].join("\n");
}

function deploySection(ctx: RunbookContext, ops: ComposeOps | KubernetesOps): string {
  const { stack, input } = ctx;
  const lines: string[] = [`## ${sectionTitles.deploy}`, ""];
  lines.push(`From the Ballast checkout, logged in to the stack's Pulumi backend:`, "");
  lines.push(
    codeBlock([
      `npm run render -- ${stack}          # what would be deployed, written to out/${stack}/ (no secret values)`,
      `pulumi preview --stack ${stack}`,
      `pulumi up --stack ${stack}`,
    ]),
  );
  lines.push("");
  if (ctx.app && typeof ctx.app.image === "string") {
    const set = configSet(ctx, ctx.app, "image", "<registry/app:new-tag>");
    lines.push(
      `Ship a new app image (workers and jobs without an ${code("image")} of their own follow it):`,
      "",
      codeBlock([set ?? "", `pulumi up --stack ${stack}`]),
      "",
    );
  }
  if (isCompose(ops) && input.compose) {
    const c = input.compose;
    const transport = c.ssh
      ? `ships the release bundle (compose file, config files, ${code(".env")}) over SSH to ${code(`${c.ssh.user}@${c.ssh.host}`)} (host key pinned) and runs its ${code("deploy.sh")} there`
      : `hands the release bundle (compose file, config files, ${code(".env")}) to its ${code("deploy.sh")} on this machine`;
    const rolling = ctx.services
      .filter((w) => w.role === "stateless" && ["app", "workers", "services"].includes(w.component))
      .map((w) => code(w.name));
    lines.push(
      `${code("pulumi up")} ${transport}: it unpacks the bundle into ${code(`${ops.releases}/<UTC time>-<bundle hash>/`)} (mode 0700, ${code(".env")} mode 0600), pulls the images and points ${code(ops.current)} at the new release. ` +
        `Datastores, the proxy and monitoring are recreated only when their definition changed (stop-first); one-shot steps run to completion; then ${rolling.join(", ") || "the stack's own services"} roll without downtime: new containers start beside the old ones, become healthy, Traefik is switched to them (and confirms it), ${ctx.healthUrl ?? "the health endpoint"} is checked through the proxy, and only then do the old containers get SIGTERM and their drain time. ` +
        `If a step fails, the old containers never left rotation: the new ones are removed, changed datastores come back from the previous release, ${code("current")} goes back, the release is renamed ${code("<id>.failed")} (its ${code("deploy.log")} has every command's output) and the update fails naming the service and what its check said. The newest ${c.keepReleases} releases are kept; deploys are serialised by ${code(`${c.releaseDir}/.deploy.lock`)} (docs/compose-release.md).`,
    );
  } else if (!isCompose(ops)) {
    const rolling = ctx.services.filter((w) => w.role === "stateless");
    lines.push(
      `${code("pulumi up")} updates the objects in namespace ${code(ops.namespace)} and waits until they are ready. Deployments roll without dropping below their desired count (${rolling.map((w) => code(w.name)).join(", ") || "none"}); StatefulSets keep their volume claims.`,
    );
  }
  return lines.join("\n");
}

function verifySection(ctx: RunbookContext, ops: ComposeOps | KubernetesOps): string {
  const lines: string[] = [`## ${sectionTitles.verify}`, ""];
  const commands: string[] = [];
  if (ctx.healthUrl) commands.push(`curl -fsS ${ctx.healthUrl}`);
  if (isCompose(ops)) {
    commands.push(...ops.shell, ops.status);
    lines.push(codeBlock(commands), "");
    lines.push(
      `Every service should show ${code("Up … (healthy)")} (services without a health check: ${code("Up …")}). Jobs are not listed: they run only when cron starts them.`,
    );
  } else {
    commands.push(...ops.shell, ops.status);
    for (const w of ctx.services) if (w.role === "stateless" || w.role === "stateful") commands.push(ops.rolloutStatus(w));
    if (ctx.services.some((w) => w.autoscaling)) commands.push(`${ops.kubectl} get hpa`);
    if (ctx.services.some((w) => w.autoscaling?.queue)) commands.push(`${ops.kubectl} get scaledobject`);
    lines.push(codeBlock(commands), "");
    lines.push(
      `Every pod should be ${code("Running")} and ready; ${code("rollout status")} returns once the newest revision is fully available.`,
    );
  }
  return lines.join("\n");
}

function rollbackSection(ctx: RunbookContext, ops: ComposeOps | KubernetesOps): string {
  const { stack } = ctx;
  const lines: string[] = [`## ${sectionTitles.rollback}`, ""];
  if (isCompose(ops) && ctx.input.compose) {
    const c = ctx.input.compose;
    lines.push(
      `**Automatic.** A release whose new containers are not running and healthy within ${c.deployTimeoutSeconds}s, or that fails the health check${ctx.healthUrl ? ` on ${ctx.healthUrl}` : ""}, is rolled back by ${code("pulumi up")} itself, without dropping a request: the old containers never left rotation (or get the traffic back), the new ones are removed, ${code("current")} goes back to the previous release, the failed one is kept as ${code("<id>.failed")} with its ${code("deploy.log")}, and the update fails naming the service and what its check said. Nothing else to do.`,
      "",
      `**A release that deployed fine but misbehaves**: revert the change in ${code(`Pulumi.${stack}.yaml`)} and run ${code(`pulumi up --stack ${stack}`)}: that is a new release, rolled out without downtime like any other.`,
      "",
      `**By hand** (only when Pulumi cannot run): point ${code("current")} at the previous release and start it. This path is stop-first: the app's containers are recreated, so expect a few seconds of failed requests. Not while a ${code("pulumi up")} runs (it holds ${code(`${c.releaseDir}/.deploy.lock`)}).`,
      "",
      codeBlock([
        ...ops.shell.filter((line) => !line.startsWith("cd ")),
        `cd ${shellWord(ops.base)}`,
        `ls -1 releases | grep -v '\\.failed$'    # oldest first: UTC time, then bundle hash`,
        `readlink current                           # the live release`,
        `ln -sfn releases/<previous-release> .current.new && mv -Tf .current.new current`,
        `cd ${shellWord(ops.current)} && ${ops.up}`,
        ...(ctx.healthUrl ? [`curl -fsS ${ctx.healthUrl}`] : []),
      ]),
      "",
      `Then make the declaration match: revert the change in ${code(`Pulumi.${stack}.yaml`)} (e.g. the image tag) and run ${code(`pulumi up --stack ${stack}`)}, which deploys it as a new release; otherwise the next ${code("pulumi up")} brings the bad change back. Only containers roll back: the database keeps its data and schema (a schema migration needs its own down-migration or a [restore](#backups-and-restore)).`,
    );
  } else if (!isCompose(ops)) {
    const deployments = ctx.services.filter((w) => w.role === "stateless");
    const first = ctx.app && deployments.includes(ctx.app) ? ctx.app : deployments[0];
    const commands = [...ops.shell];
    if (first) {
      commands.push(`${ops.kubectl} rollout history ${ops.objectOf(first)}`);
      commands.push(`${ops.kubectl} rollout undo ${ops.objectOf(first)}`);
      commands.push(ops.rolloutStatus(first));
    }
    if (ctx.healthUrl) commands.push(`curl -fsS ${ctx.healthUrl}`);
    const others = deployments.filter((w) => w !== first);
    lines.push(
      `${code("pulumi up")} waits for new pods to become ready and fails the update when they do not; old pods keep serving meanwhile (rolling update, never below the desired count). To go back to the previous revision of a Deployment:`,
      "",
      codeBlock(commands),
      "",
      ...(others.length > 0
        ? [
            `Undo another Deployment only if it changed in the bad release: the same commands with ${others.map((w) => code(ops.objectOf(w))).join(", ")}.`,
            "",
          ]
        : []),
      `Then revert the change in ${code(`Pulumi.${stack}.yaml`)} (e.g. the image tag) and run ${code(`pulumi up --stack ${stack}`)}, or the next update rolls the bad revision out again. The database keeps its data and schema (a schema migration needs its own down-migration or a [restore](#backups-and-restore)).`,
    );
  }
  return lines.join("\n");
}

function interruptedSection(ctx: RunbookContext, ops: ComposeOps | KubernetesOps): string {
  if (isCompose(ops)) return composeInterruptedSection(sectionTitles.interrupted, ctx.stack, ops.base, ops.shell);
  return kubernetesInterruptedSection(
    sectionTitles.interrupted,
    ctx.stack,
    ops.namespace,
    ctx.services.filter((w) => w.role === "stateless"),
  );
}

function logsSection(ctx: RunbookContext, ops: ComposeOps | KubernetesOps): string {
  const lines: string[] = [`## ${sectionTitles.logs}`, ""];
  const app = ctx.app ?? ctx.services[0];
  const commands = [...ops.shell];
  if (app) commands.push(ops.logs(app), ops.recentLogs(app));
  const scheduled = ctx.jobs.find((j) => j.schedule !== undefined);
  if (scheduled) commands.push(ops.jobLogs(scheduled));
  lines.push(codeBlock(commands), "");
  const others = ctx.services.filter((w) => w !== app).map((w) => code(w.name));
  if (others.length > 0) lines.push(`Other services: replace ${code(app?.name ?? "")} with ${others.join(", ")}.`, "");
  const agents = ctx.services.filter((w) => w.role === "agent");
  if (!isCompose(ops) && agents.length > 0) {
    lines.push(
      `The per-node agents (${agents.map((w) => code(w.name)).join(", ")}) run in the namespace ${code(agentsNamespaceOf(ops.namespace))}: use ${code(`-n ${agentsNamespaceOf(ops.namespace)}`)} for them.`,
      "",
    );
  }
  if (scheduled) {
    lines.push(
      isCompose(ops)
        ? `Job runs append to ${code(`${(ops as ComposeOps).base}/.ballast/jobs.log`)}; every job's lines are there.`
        : `${code(`${ops.kubectl} get jobs`)} lists the recent runs${otherJobs(ctx, scheduled)}.`,
      "",
    );
  }
  if (ctx.grafanaUrl && ctx.hasLoki) {
    const query = ctx.lokiServiceLabel && app ? `, e.g. ${code(`{${ctx.lokiServiceLabel}="${app.name}"} |= "error"`)}` : "";
    const shipped = ctx.shipsLogs
      ? " Alloy ships every container's log there, client IPs anonymised, health and metrics requests dropped."
      : "";
    const login = ctx.grafanaAdmin ? ` Log in as ${code(ctx.grafanaAdmin)} with the ${code("grafana-admin-password")} secret.` : "";
    lines.push(`Searchable history: ${ctx.grafanaUrl} → Explore → data source Loki${query}.${shipped}${login}`);
  } else if (ctx.hasLoki) {
    lines.push("Searchable history: Grafana → Explore → data source Loki.");
  } else {
    lines.push(
      isCompose(ops)
        ? "No log aggregation in this stack: container logs rotate on the host (json-file, 10 MB × 3 per container)."
        : "No log aggregation in this stack: container logs live on the nodes until the kubelet rotates them.",
    );
  }
  const traces = tracesText(ctx);
  if (traces) lines.push("", "### Traces", "", traces);
  return lines.join("\n");
}

function otherJobs(ctx: RunbookContext, shown: WorkloadSpec): string {
  const others = ctx.jobs.filter((j) => j.schedule !== undefined && j !== shown).map((j) => code(j.name));
  return others.length > 0 ? `; for another job replace ${code(shown.name)} with ${others.join(", ")}` : "";
}

function databaseSection(ctx: RunbookContext, ops: ComposeOps | KubernetesOps): string | undefined {
  const db = ctx.database;
  if (!db) return undefined;
  const psql = ["psql", "-U", db.user, "-d", db.database];
  const lines: string[] = [`## ${sectionTitles.database}`, ""];
  const commands = [...ops.shell, ops.exec(db.workload, psql)];
  commands.push(ops.execNoTty(db.workload, [...psql, "-c", "SELECT count(*), state FROM pg_stat_activity GROUP BY state;"]));
  lines.push(codeBlock(commands), "");
  lines.push(
    `The shell connects over the container's own Unix socket as ${code(db.user)} to ${code(db.database)}; no password is typed or shown. Never run ${code("prisma db push")} (or another schema push) against this database: it drops columns such as pgvector embeddings; use the migration job.`,
  );
  if (ctx.redis) {
    const variable = envVarFor(ctx.redis, "redis-password");
    const cli = variable ? ["sh", "-c", `REDISCLI_AUTH="$${variable}" redis-cli`] : ["redis-cli"];
    lines.push("", "Redis:", "", codeBlock([...ops.shell, ops.exec(ctx.redis, cli)]));
  }
  return lines.join("\n");
}

/** What one backup run writes (from the backup job's environment) and how an encrypted set is read. */
function backupSetLines(database: string, backupJob: WorkloadSpec, drillJob: WorkloadSpec | undefined, guide: string): string[] {
  const env = backupJob.env;
  const set = `${database}-<UTC timestamp>`;
  const parts = [
    `${code(`${set}.dump`)} (pg_dump)`,
    ...(env.REDIS_HOST ? [`${code(`${set}.redis.rdb`)} (Redis snapshot through ${code("redis-cli --rdb")})`] : []),
    ...(env.STACK_CONFIG_DIR
      ? [
          `${code(`${set}.config.tar.gz`)} (the stack's non-secret config${backupJob.volumes.some((v) => v.mountPath === `${env.STACK_CONFIG_DIR}/acme`) ? " and Traefik's acme.json" : ""})`,
        ]
      : []),
  ];
  const lines = [
    `Each run writes one set: ${parts.join(", ")}, each with a ${code(".sha256")} sidecar; retention keeps or deletes whole sets.`,
    "",
  ];
  const recipient = env.ENCRYPTION_RECIPIENT;
  if (recipient) {
    const identity = drillJob?.secretFiles.find((f) => f.secret === BACKUP_ENCRYPTION_IDENTITY_SECRET);
    lines.push(
      `Every file of a set is age-encrypted to ${code(recipient)} before it is written (names end in ${code(".age")}); the offsite copy ships only those. The backup job holds the public key only; ${
        identity
          ? `the drill decrypts with the secret ${code(BACKUP_ENCRYPTION_IDENTITY_SECRET)}, mounted into it alone (${code(identity.mountPath)})`
          : "no drill holds the private key"
      }. To read a set by hand, with the private key from your offline copy:`,
      "",
      codeBlock([
        `age --decrypt --identity backup.key --output ${database}.dump ${set}.dump.age`,
        `pg_restore --list ${database}.dump | head`,
      ]),
      "",
    );
  }
  if (env.REDIS_HOST) {
    lines.push(
      `Redis after a loss: stop Redis, put the (decrypted) ${code(`${set}.redis.rdb`)} on its data volume as ${code("dump.rdb")} (with ${code("appendonly yes")} move ${code("appendonlydir")} aside first, or Redis loads the AOF instead), start Redis; see [backup-restore.md](${guide}).`,
      "",
    );
  }
  return lines;
}

function backupsSection(ctx: RunbookContext, ops: ComposeOps | KubernetesOps): string | undefined {
  const db = ctx.database;
  if (!db) return undefined;
  const guide = ctx.input.backupGuide ?? DEFAULT_BACKUP_GUIDE;
  const lines: string[] = [`## ${sectionTitles.backups}`, ""];
  lines.push(
    `The full procedure, with what to check before and after, is in [backup-restore.md](${guide}). The commands for this stack:`,
    "",
  );
  const { backupJob, drillJob, offsiteJob } = ctx;
  if (!backupJob) {
    lines.push(
      `This stack declares no backup jobs (${code("ballast:backups")}). Take a dump by hand before any risky change:`,
      "",
      codeBlock([
        ...ops.shell,
        `${ops.execNoTty(db.workload, ["pg_dump", "-U", db.user, "-d", db.database, "-Fc"])} > ${db.database}-$(date -u +%Y%m%dT%H%M%SZ).dump`,
      ]),
    );
    return lines.join("\n");
  }
  const schedules = [backupJob, offsiteJob, drillJob].filter((j): j is WorkloadSpec => j !== undefined);
  lines.push(schedules.map((j) => `- ${code(j.name)}: ${j.description}`).join("\n"), "");
  lines.push(...backupSetLines(db.database, backupJob, drillJob, guide));
  lines.push("Run a backup now:", "", codeBlock([...ops.shell, ...ops.runJob(backupJob)]), "");
  if (isCompose(ops)) {
    lines.push(
      "List the backups:",
      "",
      codeBlock([...ops.shell, `${ops.composeCommand} --profile jobs run --rm --no-deps --entrypoint ls ${backupJob.name} -l /backups`]),
      "",
    );
  }
  if (drillJob) {
    lines.push(
      `Restore drill (restores the newest backup into the scratch database ${code(`${db.database}_restore_drill`)}, compares it with the live one, drops it; the live database is not touched):`,
      "",
      codeBlock([...ops.shell, ...ops.runJob(drillJob)]),
      "",
    );
    const restoreArgs = ["--restore-for-real", "--i-understand-this-replaces", db.database];
    const commands = [...ops.shell];
    if (isCompose(ops)) {
      const writers = ctx.databaseWriters.map((w) => w.name);
      const scheduled = ctx.jobs.some((j) => j.schedule !== undefined);
      if (scheduled) commands.push(`${ops.pauseJobs}     # no scheduled job writes meanwhile`);
      if (writers.length > 0) commands.push(`${ops.stop(writers)}     # stop every writer first`);
      commands.push(...ops.runJob(drillJob, restoreArgs));
      commands.push(ops.up);
      if (scheduled) commands.push(ops.resumeJobs);
    } else {
      for (const w of ctx.databaseWriterJobs) commands.push(ops.suspend(w, true));
      for (const w of ctx.databaseWriters) commands.push(ops.scale(w, 0));
      commands.push(...ops.runJob(drillJob, restoreArgs));
      for (const w of ctx.databaseWriters) commands.push(ops.scale(w, w.autoscaling?.minReplicas ?? w.replicas));
      for (const w of ctx.databaseWriterJobs) commands.push(ops.suspend(w, false));
    }
    if (ctx.healthUrl) commands.push(`curl -fsS ${ctx.healthUrl}`);
    lines.push(
      `Real restore (data loss or corruption): the same job with explicit flags. It renames the live database to ${code(`${db.database}_before_restore_<timestamp>`)} (never drops it), restores the newest backup (add ${code("--backup <file>")} for another) and refuses while other sessions are connected, so stop the writers first:`,
      "",
      codeBlock(commands),
    );
  }
  return lines.join("\n");
}

/** The stack-config change that scales a workload; only the app and workers have replica settings. */
function declaredScale(ctx: RunbookContext, workload: WorkloadSpec, setting: string, value: number): string {
  const scalable =
    (workload.component === "app" && workload.role === "stateless") ||
    workload.component === "workers" ||
    (workload.component === "services" && workload.role === "stateless");
  const command = scalable ? configSet(ctx, workload, setting, value) : undefined;
  return command
    ? code(command)
    : `none: ${code(workload.component === "services" ? "ballast:services" : workload.component)} has no replica setting`;
}

function scaleSection(ctx: RunbookContext, ops: ComposeOps | KubernetesOps): string {
  const lines: string[] = [`## ${sectionTitles.scale}`, ""];
  // The stack's own application workloads scale; datastores, the proxy, monitoring and agents run one each.
  const scalable = ctx.services.filter(
    (w) => w.role === "stateless" && ["app", "workers", "services"].includes(w.component) && !w.ports.some((p) => p.publish !== undefined),
  );
  const fixed = ctx.services.filter((w) => !scalable.includes(w)).map((w) => code(w.name));
  if (isCompose(ops)) {
    lines.push(
      `Compose has no CPU autoscaler: each service runs the replica count in the stack file (for an autoscaled service, its ${code("autoscaling.minReplicas")}), except workers scaled on a queue (below). Change it in the declaration and deploy; for a quick change in an emergency, scale on the host (the next ${code("pulumi up")} resets it to the declaration).`,
      "",
    );
    const queued = scalable.filter((w) => w.autoscaling?.queue);
    const rows = scalable.map((w) => {
      if (w.autoscaling?.queue) {
        const a = w.autoscaling;
        return [
          code(w.name),
          replicasText(w, ops),
          declaredScale(ctx, w, "autoscaling.maxReplicas", a.maxReplicas + 1),
          code(`cat ${ops.base}/.ballast/autoscale.state`),
        ];
      }
      const setting = w.autoscaling ? "autoscaling.minReplicas" : "replicas";
      const replicas = composeReplicas(w);
      return [code(w.name), String(replicas), declaredScale(ctx, w, setting, replicas + 1), code(ops.scaleNow(w, replicas + 1))];
    });
    if (rows.length > 0)
      lines.push(table(["Service", "Replicas", "Declared (then `pulumi up`)", "Now, on the host (in `current`)"], rows), "");
    if (queued.length > 0) {
      lines.push(
        `Workers scaled on a queue (${queued.map((w) => code(w.name)).join(", ")}) follow it: the deploy user's cron runs ${code(`${ops.current}/autoscale.sh`)} every minute, which reads the length inside the Redis container and runs ${code("up -d --no-deps --no-recreate --scale")} to ceil(length / jobs per replica) within the bounds: up at once, down at most once per 5 minutes after a scale-up (a removed container gets its stop grace period). It skips a minute while a deploy holds ${code(".deploy.lock")}, and a release keeps the count it left. A scale by hand lasts until its next run; change the bounds in the declaration. Each change is logged:`,
        "",
        codeBlock([...ops.shell, `tail -n 50 ${ops.base}/.ballast/autoscale.log`, `cat ${ops.base}/.ballast/autoscale.state`]),
        "",
      );
    }
  } else {
    lines.push(
      `Autoscaled Deployments follow their HorizontalPodAutoscaler; change its bounds in the declaration. Other Deployments run the declared replica count. ${code("kubectl scale")} and ${code("kubectl patch hpa")} act at once but the next ${code("pulumi up")} puts the declaration back.`,
      "",
    );
    const rows = scalable.map((w) => {
      if (w.autoscaling?.queue) {
        const a = w.autoscaling;
        return [
          code(w.name),
          replicasText(w, ops),
          declaredScale(ctx, w, "autoscaling.maxReplicas", a.maxReplicas * 2),
          code(`${ops.kubectl} patch scaledobject ${w.name} --type=merge -p '{"spec":{"maxReplicaCount":${a.maxReplicas * 2}}}'`),
        ];
      }
      if (w.autoscaling) {
        const a = w.autoscaling;
        return [
          code(w.name),
          `HPA ${a.minReplicas}–${a.maxReplicas} at ${a.cpuTargetPercent} % CPU`,
          declaredScale(ctx, w, "autoscaling.maxReplicas", a.maxReplicas * 2),
          code(`${ops.kubectl} patch hpa ${w.name} --type=merge -p '{"spec":{"maxReplicas":${a.maxReplicas * 2}}}'`),
        ];
      }
      return [code(w.name), String(w.replicas), declaredScale(ctx, w, "replicas", w.replicas + 1), code(ops.scale(w, w.replicas + 1))];
    });
    if (rows.length > 0) lines.push(table(["Deployment", "Now", "Declared (then `pulumi up`)", "At once"], rows), "");
    if (scalable.some((w) => w.autoscaling?.queue)) {
      lines.push(
        `Workers scaled on a queue follow it through KEDA: their ScaledObject reads the length every 30 s and drives the HorizontalPodAutoscaler KEDA owns (${code("keda-hpa-<worker>")}); it returns to the minimum 5 minutes after the queue empties.`,
        "",
      );
    }
    if (scalable.some((w) => w.autoscaling)) {
      lines.push(
        codeBlock([
          ...ops.shell,
          `${ops.kubectl} get hpa`,
          ...(scalable.some((w) => w.autoscaling?.queue) ? [`${ops.kubectl} get scaledobject`] : []),
          ops.top,
        ]),
        "",
      );
    }
  }
  if (fixed.length > 0)
    lines.push(
      `Not scaled out: ${fixed.join(", ")} (one instance each: datastores, the proxy, monitoring and per-node agents); give them more CPU or memory with their ${code("resources")} in the stack file.`,
    );
  return lines.join("\n").trimEnd();
}

function alertsSection(ctx: RunbookContext, ops: ComposeOps | KubernetesOps, alerts: RunbookAlert[]): string {
  const order: Record<string, number> = { critical: 0, page: 0, error: 1, warning: 2, info: 3, none: 4 };
  const sorted = [...alerts].sort((a, b) => (order[a.severity] ?? 3) - (order[b.severity] ?? 3) || a.name.localeCompare(b.name));
  const rows = sorted.map((alert) => {
    const meaning = [alert.summary, alert.description].filter((text) => text !== "").join(": ") || "(no summary in the rule)";
    return [code(alert.name), alert.severity, `${meaning}${alert.for ? ` (for ${alert.for})` : ""}`, firstAction(alert, ctx, ops)];
  });
  const groups = [...new Set(alerts.map((alert) => alert.group).filter((group): group is string => group !== undefined))];
  const teamGroups = groups.filter((group) => !(BUILTIN_RULE_GROUPS as readonly string[]).includes(group));
  const count = (group: string) => alerts.filter((alert) => alert.group === group).length;
  const groupList = (list: string[]) => list.map((group) => `${code(group)} (${count(group)})`).join(", ");
  const dashboards = dashboardsFromModel(ctx.model);
  const teamDashboards = dashboards.filter((d) => !d.uid.startsWith("ballast-"));
  const builtinDashboards = dashboards.filter((d) => d.uid.startsWith("ballast-"));
  const lines = [
    `## ${sectionTitles.alerts}`,
    "",
    `The Prometheus alert rules that ship with this stack, most severe first.`,
    "",
    table(["Alert", "Severity", "What it means", "First action"], rows),
    "",
    `Rule groups: Ballast's ${groupList(groups.filter((group) => !teamGroups.includes(group))) || "(none)"}; the team's: ${teamGroups.length > 0 ? `${groupList(teamGroups)} (from ${code("ballast:monitoring.alerts.groups")} and ${code(".ruleFiles")})` : `none (declare them in ${code("ballast:monitoring.alerts.groups")} or ${code(".ruleFiles")})`}.`,
  ];
  if (dashboards.length > 0) {
    lines.push(
      "",
      `Dashboards${ctx.grafanaUrl ? ` (${ctx.grafanaUrl}, folder Ballast)` : ""}: ${builtinDashboards.map((d) => code(d.title)).join(", ")}` +
        (teamDashboards.length > 0
          ? `; the team's: ${teamDashboards.map((d) => code(d.title)).join(", ")} (${code("ballast:monitoring.grafana.dashboards")}).`
          : "."),
    );
  }
  return lines.join("\n");
}

function routingSection(routing: AlertRouting): string {
  const secretOf = (name: string) => code(name === "ops" ? "alertmanager-receiver" : `alertmanager-receiver-${name}`);
  const receiverRows = routing.receivers.map((r) => [code(r.name), r.target, r.hasCredential ? secretOf(r.name) : "none"]);
  const labelsText = (labels: Record<string, string>) =>
    Object.keys(labels).length > 0
      ? Object.entries(labels)
          .map(([k, v]) => code(`${k}=${v}`))
          .join(" ")
      : "";
  const rows = routing.alerts.map((a) => [code(a.name), a.severity, labelsText(a.labels), a.receivers.map(code).join(", ")]);
  return [
    `## ${sectionTitles.routing}`,
    "",
    `Alertmanager notifies these receivers (${code("ballast:monitoring.alertmanager")}); each credential is the supplied secret named beside it.`,
    "",
    table(["Receiver", "Sends to", "Credential"], receiverRows),
    "",
    `Where each alert goes, through the rendered route tree (${code("amtool config routes test --config.file=alertmanager.yml alertname=<alert> severity=<severity>")} shows the same):`,
    "",
    table(["Alert", "Severity", "Labels", "Goes to"], rows),
    "",
    "Held back (inhibited) while their cause fires:",
    "",
    ...routing.inhibitions.map((text) => `- ${text}`),
  ].join("\n");
}

function slosSection(slos: RunbookSlo[]): string {
  const rows = slos.map((slo) => [
    code(slo.name),
    code(slo.service),
    slo.promise,
    `${slo.objective} over ${slo.windowDays} days`,
    `${slo.budgetPercent} %`,
    slo.page,
    slo.ticket,
  ]);
  return [
    `## ${sectionTitles.slos}`,
    "",
    `The stack's service level objectives (${code("ballast:monitoring.slos")}). The error budget is the share of requests that may fail (or be slow) over the window. Each SLO has two ${code("SLOErrorBudgetBurn")} alerts labelled with ${code("slo")} and ${code("service")}: the **critical** one pages when 2 % of the budget burns within an hour or 5 % within six hours, the **warning** one opens a ticket when 10 % burns within three days; each also needs the burn in a short recent window, so an alert clears within minutes after the burn stops. Budget left: ${code('slo:error_budget_remaining:ratio{slo="<name>"}')} in Prometheus, or Grafana's "Ballast - SLOs" dashboard (burn rates per window).`,
    "",
    table(["SLO", "Service", "Promise", "Objective", "Error budget", "Pages when the burn rate is", "Ticket when the burn rate is"], rows),
    "",
    `On a page: find what fails on the service's dashboards and logs, and roll back if a deploy just happened. On a ticket: the SLO will be missed at this pace; plan the fix. A burn rate of 1x spends exactly the budget over the window.`,
  ].join("\n");
}

const sourceText: Record<SecretSource, string> = {
  generated: "generated by Pulumi (random), kept encrypted in the stack state",
  supplied: "supplied: `ballast:secretValues.<name>` (encrypted in the stack file)",
  derived: "derived from the password it embeds",
};

/** A workload that uses a secret, with the env var it reads it from when that is not the secret's usual name. */
function userText(workload: WorkloadSpec, secret: string): string {
  const variable = envVarFor(workload, secret);
  return variable && variable !== secretEnvName(secret) ? `${code(workload.name)} (as ${code(variable)})` : code(workload.name);
}

function rotationText(ctx: RunbookContext, ops: ComposeOps | KubernetesOps, secret: SecretSpec, users: WorkloadSpec[]): string {
  if (secret.immutable) {
    const why = secret.rotation.replace(/^never\b[:.;,]?\s*/i, "");
    return `**Cannot be rotated**${why ? `: ${why}` : ""}. Pulumi protects it: an update that would replace it fails. Keep it with the stack (losing it loses the data it encrypts).`;
  }
  const source = ctx.input.secretSources?.[secret.name];
  if (source === "supplied" && !isCompose(ops)) {
    // A Secret change alone restarts nothing on Kubernetes: name the restart the operator must do.
    const running = users.filter((w) => w.role !== "job").map((w) => ops.objectOf(w));
    if (running.length > 0)
      return `${secret.rotation}. Then restart its users: ${code(`${ops.kubectl} rollout restart ${running.join(" ")}`)}`;
  }
  return secret.rotation;
}

function secretsSection(ctx: RunbookContext, ops: ComposeOps | KubernetesOps): string {
  const { model, input, stack } = ctx;
  const rows = model.secrets.map((secret) => {
    const users = model.workloads.filter(
      (w) => Object.values(w.secretEnv).includes(secret.name) || w.secretFiles.some((f) => f.secret === secret.name),
    );
    const usedBy = users.length > 0 ? users.map((w) => userText(w, secret.name)).join(", ") : "no workload";
    const source = input.secretSources?.[secret.name];
    const sourceCell = source ? sourceText[source].replace("<name>", secret.name) : "generated or supplied";
    return [
      code(secret.name),
      secret.description,
      sourceCell,
      ops.secretLocation(secret.name, users),
      usedBy,
      rotationText(ctx, ops, secret, users),
    ];
  });
  const owner = input.compose?.ssh ? `the deploy user ${code(input.compose.ssh.user)}` : `the user who runs ${code("pulumi up")}`;
  const where = isCompose(ops)
    ? `On Compose every value is in the release's ${code(".env")} (mode 0600 in a 0700 release directory, owned by ${owner}); each release in ${code(`${ops.releases}/`)} has its own copy, and ${code("docker compose")} hands the values to the containers that reference them.`
    : `On Kubernetes every value is a key of the Secret ${code(input.kubernetes?.secretName ?? `${model.project}-secrets`)} in namespace ${code(ops.namespace)}; pods read the keys they reference as environment variables or files.`;
  return [
    `## ${sectionTitles.secrets}`,
    "",
    `Values never appear in this runbook, in rendered files or in the Pulumi outputs; only their names do. ${where}`,
    "",
    table(["Secret", "What", "Value comes from", "Where it lives", "Used by", "Rotate"], rows),
    "",
    `Rotating a generated secret: ${code(`pulumi config set --stack ${stack} --path 'ballast:rotation.<secret>' <n+1>`)}, then ${code(`pulumi up --stack ${stack}`)}: a new value is generated and exactly the workloads that use it restart. A supplied secret: ${code(`pulumi config set --stack ${stack} --secret --path 'ballast:secretValues.<secret>' <value>`)}, then ${code(`pulumi up --stack ${stack}`)}.`,
    "",
    rotateAllSection(ctx),
  ].join("\n");
}

/** The workloads that use a secret (or a secret derived from it) and restart when it rotates. */
function restartedBy(ctx: RunbookContext, secret: string): WorkloadSpec[] {
  const derived: Record<string, string[]> = {
    "postgres-password": ["database-url"],
    "redis-password": ["redis-url"],
    "encryption-key": ["encryption-key-previous"],
  };
  const names = [secret, ...(derived[secret] ?? [])];
  return ctx.model.workloads.filter((w) => {
    const live = new Set((w.liveSecrets ?? []).map((l) => l.secret));
    const uses = [...Object.values(w.secretEnv), ...w.secretFiles.map((f) => f.secret)];
    return uses.some((used) => names.includes(used) && !live.has(used));
  });
}

/**
 * "Rotate ALL secrets" (Dealix's incident runbook): one counter for everything Ballast generates,
 * then the manual steps for what it cannot rotate, each with why and how.
 */
function rotateAllSection(ctx: RunbookContext): string {
  const { model, input, stack } = ctx;
  const sources = input.secretSources ?? {};
  const facts = input.rotation ?? { all: 0 };
  const automatic = model.secrets.filter((s) => sources[s.name] === "generated" && !s.immutable);
  const manual = model.secrets.filter((s) => sources[s.name] !== "derived" && !automatic.includes(s));
  const restarted = [...new Set(automatic.flatMap((s) => restartedBy(ctx, s.name)).map((w) => w.name))].sort();
  const what = (secret: SecretSpec): string => {
    if (secret.name === "postgres-password")
      return `${code(secret.name)} (set inside the running Postgres with ${code("ALTER ROLE")} before its clients restart; Postgres keeps running)`;
    if (secret.name === "auth-secret") return `${code(secret.name)} (existing sessions end)`;
    if (secret.name === "encryption-key") return `${code(secret.name)} (opens a re-encryption window, below)`;
    if (secret.name === "grafana-admin-password") return `${code(secret.name)} (Grafana resets its admin password to it as it restarts)`;
    return code(secret.name);
  };
  const manualStep = (secret: SecretSpec): string => {
    if (secret.immutable && secret.name === "encryption-key") {
      return `${code(secret.name)}: **not rotated**: ${encryptionKeyRotationRefusal}. An app that decrypts with a previous key as well can opt in with ${code("ballast:encryptionKeyRotation")} (README).`;
    }
    if (secret.immutable) return `${code(secret.name)}: not rotated: ${secret.rotation}`;
    return `${code(secret.name)} (supplied: Ballast cannot issue it): ${secret.rotation}`;
  };
  const steps = [
    `1. ${code(`pulumi config set --stack ${stack} --path 'ballast:rotation.all' ${facts.all + 1}`)}, then ${code(`pulumi up --stack ${stack}`)}. ` +
      (automatic.length > 0
        ? `Every generated secret gets a new value exactly once: ${automatic.map(what).join(", ")}. Exactly their users restart (a job takes the new value on its next run): ${restarted.length > 0 ? restarted.map(code).join(", ") : "none"}. A later ${code("ballast:rotation.<secret>")} bump still rotates that one secret.`
        : "The stack generates no rotatable secret."),
  ];
  const opted = facts.encryptionKey;
  const manualLines = manual.map(manualStep);
  if (manualLines.length > 0) {
    steps.push("2. By hand, what the switch cannot rotate, each with why and how:", ...manualLines.map((line) => `   - ${line}`));
  }
  if (opted) {
    const window = opted.reencrypted < opted.generation;
    steps.push(
      `${manualLines.length > 0 ? 3 : 2}. Encryption key (the app reads two keys): after step 1 its users get the new key and the old one as ${code(opted.previousKeyEnv)}. ` +
        `Re-encrypt the stored data with the app's own procedure, then close the window: ${code(`pulumi config set --stack ${stack} --path 'ballast:encryptionKeyRotation.reencrypted' ${window ? opted.generation : opted.generation + 1}`)} and ${code(`pulumi up --stack ${stack}`)}: the old key is dropped and its users restart with the new one only. ` +
        (window
          ? `A window is open now (generation ${opted.generation}, re-encrypted to ${opted.reencrypted}): close it before step 1, which is refused until then.`
          : "A further rotation is refused until the window is closed."),
    );
  }
  return [
    `### Rotate all secrets`,
    "",
    'For an incident ("rotate ALL secrets"): one switch for everything Ballast generates, then the rest by hand.',
    "",
    ...steps,
  ].join("\n");
}

/** Renders the runbook of one stack. Pure: the same input always gives the same text. */
export function renderRunbook(input: RunbookInput): string {
  const ctx = createContext(input);
  const ops = opsFor(ctx);
  const alerts = input.alerts ?? alertsFromModel(input.model);
  const routing = alertRoutingFromModel(input.model);
  const sections: [string, string | undefined][] = [
    [sectionTitles.services, [servicesSection(ctx, ops), ...(ctx.jobs.length > 0 ? [jobsSection(ctx, ops)] : [])].join("\n\n")],
    [sectionTitles.deploy, deploySection(ctx, ops)],
    [sectionTitles.verify, verifySection(ctx, ops)],
    [sectionTitles.rollback, rollbackSection(ctx, ops)],
    [sectionTitles.interrupted, interruptedSection(ctx, ops)],
    [sectionTitles.logs, logsSection(ctx, ops)],
    [sectionTitles.database, databaseSection(ctx, ops)],
    [sectionTitles.backups, backupsSection(ctx, ops)],
    [sectionTitles.scale, scaleSection(ctx, ops)],
    [sectionTitles.alerts, alerts.length > 0 ? alertsSection(ctx, ops, alerts) : undefined],
    [sectionTitles.routing, routing && routing.alerts.length > 0 ? routingSection(routing) : undefined],
    [sectionTitles.slos, input.slos && input.slos.length > 0 ? slosSection(input.slos) : undefined],
    [sectionTitles.secrets, secretsSection(ctx, ops)],
  ];
  const present = sections.filter((entry): entry is [string, string] => entry[1] !== undefined);
  const text = [header(ctx, ops), contents(present.map(([title]) => title)), ...present.map(([, body]) => body)].join("\n\n");
  return `${text.replace(/[ \t]+$/gm, "")}\n`;
}
