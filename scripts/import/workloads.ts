/**
 * The stack's own workloads from compose services: the app (with its migration one-shot),
 * workers, cron jobs and extra services.
 */
import { reservedWorkloadNames } from "../../components/config";
import type { ComposeService, YamlPath } from "./compose-file";
import type { Importer } from "./importer";
import { imageRole, ofeliaJobs, routedHost } from "./roles";
import { cronOf, cronOfInterval, jobCommand, sleepLoop } from "./schedule";
import type { Json } from "./types";
import { commandOf, labelsOf, secondsOf, splitHost } from "./values";

const WORKLOAD_ORDER = [
  "name",
  "schedule",
  "image",
  "build",
  "port",
  "command",
  "args",
  "health",
  "metrics",
  "subdomain",
  "replicas",
  "resources",
  "env",
  "secretEnv",
  "storage",
  "stopGracePeriodSeconds",
  "migration",
];

function ordered(value: Json): Json {
  const keys = Object.keys(value).sort((a, b) => {
    const ai = WORKLOAD_ORDER.indexOf(a);
    const bi = WORKLOAD_ORDER.indexOf(b);
    return (ai === -1 ? 99 : ai) - (bi === -1 ? 99 : bi) || a.localeCompare(b);
  });
  return Object.fromEntries(keys.filter((k) => value[k] !== undefined && !isEmptyObject(value[k])).map((k) => [k, value[k]]));
}

function isEmptyObject(value: unknown): boolean {
  return typeof value === "object" && value !== null && !Array.isArray(value) && Object.keys(value).length === 0;
}

/** The name of Ballast's own app / postgres / redis: the compose name when it differs from the default, so scripts that name it keep working. */
export function ownName(service: ComposeService, importer: Importer, fallback: string): Json {
  const label = service.name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  if (label === fallback) return {};
  if (label !== service.name)
    importer.find(service, [], `${service.name}: name ${service.name}`, `not a DNS label: imported as "${label}"`, "changed");
  return label ? { name: label } : {};
}

function workloadName(name: string, importer: Importer, service: ComposeService): string {
  let label = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "")
    .slice(0, 40)
    .replace(/-+$/, "");
  if (!label) label = "workload";
  if ((reservedWorkloadNames as readonly string[]).includes(label)) {
    const renamed = `${label}-job`;
    importer.find(
      service,
      [],
      `${service.name}: name ${name}`,
      `"${label}" is the name of a Ballast workload: imported as "${renamed}"`,
      "changed",
    );
    return renamed;
  }
  if (label !== name) importer.find(service, [], `${service.name}: name ${name}`, `not a DNS label: imported as "${label}"`, "changed");
  return label;
}

/**
 * A workload's command: compose's entrypoint + command. Ballast's `command` replaces the image's
 * ENTRYPOINT as well (compose's `command` kept it), so a command without an entrypoint is said.
 */
function fullCommand(importer: Importer, service: ComposeService): string[] | undefined {
  const command = [...(commandOf(service.spec.entrypoint) ?? []), ...(commandOf(service.spec.command) ?? [])];
  if (command.length === 0) return undefined;
  if (service.spec.entrypoint === undefined) {
    importer.find(
      service,
      ["command"],
      `${service.name}: command`,
      "Ballast's command replaces the image's ENTRYPOINT too (compose kept it): if the image has an entrypoint script, put it first",
      "changed",
    );
  }
  return command;
}

function stopGrace(service: ComposeService): number | undefined {
  const seconds = service.spec.stop_grace_period === undefined ? undefined : secondsOf(service.spec.stop_grace_period);
  return seconds !== undefined && seconds >= 1 ? Math.min(seconds, 3600) : undefined;
}

export function mapApp(importer: Importer, service: ComposeService, subdomain: string | undefined, migrations: ComposeService[]): Json {
  const app: Json = { ...ownName(service, importer, "app"), ...importer.image(service, "app") };
  const port = importer.port(service);
  if (port) app.port = port;
  const command = fullCommand(importer, service);
  if (command) app.command = command;
  const health = importer.health(service, true);
  if (health) app.health = health;
  else
    importer.find(
      service,
      [],
      `${service.name}: no HTTP health check`,
      "Ballast's default liveness path /api/health is used: set app.health.liveness to your health endpoint",
    );
  if (subdomain !== undefined) app.subdomain = subdomain;
  const replicas = importer.replicas(service);
  if (replicas !== undefined) app.replicas = replicas;
  const resources = importer.resources(service);
  if (resources) app.resources = resources;
  Object.assign(app, importer.env(service));
  const grace = stopGrace(service);
  if (grace) app.stopGracePeriodSeconds = grace;
  app.metrics = false;
  importer.find(
    service,
    [],
    `${service.name}: metrics`,
    "a compose file does not say where the app serves Prometheus metrics: metrics is false; set app.metrics.path if it has an endpoint",
  );
  importer.publishedPorts(service, "Ballast's proxy serves the app on 443 at its domain; the container port is kept as app.port");
  importer.statelessVolumes(service);
  importer.leftover(service, ["stop_grace_period"]);
  const host = routedHost(service);
  importer.map(
    service,
    "app",
    `app${app.image ? ` (image ${String(app.image)})` : " (build)"}, port ${port ?? "3000 (default)"}${host ? `, at ${host.host} (line ${service.line(...host.path)})` : ""}`,
  );

  const [migration, ...more] = migrations;
  if (migration) {
    const command = fullCommand(importer, migration);
    if (command) {
      app.migration = { command };
      importer.map(migration, "migration", "app.migration (runs once before the app rolls out, in the app's image)");
      const sameImage =
        migration.spec.build !== undefined
          ? JSON.stringify(migration.spec.build) === JSON.stringify(service.spec.build)
          : migration.spec.image === service.spec.image;
      if (!sameImage)
        importer.find(
          migration,
          ["image"],
          `${migration.name}: its own image`,
          "app.migration runs in the app's image: the migration command must exist there",
        );
      const { env, secretEnv } = importer.env(migration);
      const extra = Object.keys(env)
        .filter((k) => !(k in (app.env as Json)))
        .concat(Object.keys(secretEnv).filter((k) => !(k in (app.secretEnv as Json))));
      if (extra.length > 0)
        importer.find(
          migration,
          ["environment"],
          `${migration.name}: environment ${extra.join(", ")}`,
          "the migration runs with the app's environment; add what it needs to app.env / app.secretEnv",
        );
    } else {
      importer.find(migration, [], `${migration.name}: one-shot without a command`, "app.migration needs the command it runs");
    }
    importer.leftover(migration, []);
  }
  for (const other of more)
    importer.find(
      other,
      [],
      `${other.name}: another one-shot`,
      "Ballast runs one migration command before the app: chain the commands in app.migration.command",
    );
  return ordered(app);
}

export function mapWorker(importer: Importer, service: ComposeService): Json {
  const worker: Json = { name: workloadName(service.name, importer, service), ...importer.image(service, "workers") };
  const command = fullCommand(importer, service);
  if (command) worker.command = command;
  const replicas = importer.replicas(service);
  if (replicas !== undefined) worker.replicas = replicas;
  const resources = importer.resources(service);
  if (resources) worker.resources = resources;
  const health = importer.health(service, false);
  if (health) worker.health = health;
  Object.assign(worker, importer.env(service));
  const grace = stopGrace(service);
  if (grace) worker.stopGracePeriodSeconds = grace;
  importer.publishedPorts(service, "workers serve no traffic in Ballast");
  importer.statelessVolumes(service);
  importer.leftover(service, ["stop_grace_period"]);
  importer.map(service, "worker", `workers[] ${String(worker.name)}${replicas ? ` (${replicas} replicas)` : ""}`);
  return ordered(worker);
}

export function mapCron(importer: Importer, service: ComposeService): Json[] {
  const line = [...(commandOf(service.spec.entrypoint) ?? []), ...(commandOf(service.spec.command) ?? [])].join(" ");
  const labels = labelsOf(service.spec.labels);
  const scheduleLabel = Object.entries(labels).find(([key]) => /(^|\.)(schedule|cron)$/.test(key) && !key.startsWith("ofelia."));
  const loop = sleepLoop(typeof service.spec.command === "string" ? service.spec.command : line);
  let schedule: string | undefined;
  let command: string[] | undefined;
  let from = "";
  if (scheduleLabel) {
    schedule = cronOf(scheduleLabel[1]);
    command = [...(commandOf(service.spec.entrypoint) ?? []), ...(commandOf(service.spec.command) ?? [])];
    from = `label ${scheduleLabel[0]}`;
  } else if (loop) {
    schedule = cronOfInterval(loop.seconds);
    command = jobCommand(loop.job);
    from = `a loop sleeping ${loop.seconds} s`;
    if (schedule && loop.seconds >= 3600)
      importer.find(
        service,
        ["command"],
        `${service.name}: every ${loop.seconds} s`,
        `runs at fixed times (${schedule}, UTC) instead of ${loop.seconds} s after the container started`,
        "changed",
      );
  }
  if (!schedule || !command || command.length === 0) {
    importer.map(service, "cron", "not mapped (its schedule is not in the compose file)");
    importer.find(
      service,
      [],
      `${service.name}: a scheduler container${typeof service.spec.image === "string" ? ` (${service.spec.image})` : ""}`,
      "its schedule lives inside the image or a crontab file the importer cannot read: declare each job under ballast:cronJobs (name, schedule, command)",
    );
    importer.statelessVolumes(service);
    return [];
  }
  const job: Json = { name: workloadName(service.name, importer, service), schedule, ...importer.image(service, "cronJobs"), command };
  const resources = importer.resources(service);
  if (resources) job.resources = resources;
  Object.assign(job, importer.env(service));
  importer.statelessVolumes(service);
  importer.leftover(service, []);
  importer.map(service, "cron", `cronJobs[] ${String(job.name)} "${schedule}" (from ${from})`);
  return [ordered(job)];
}

/** Ofelia `job-exec` labels: jobs run in the labelled container's image (the app's when it is the app). */
export function ofeliaCronJobs(importer: Importer, service: ComposeService, isApp: boolean): Json[] {
  const labels = labelsOf(service.spec.labels);
  return ofeliaJobs(service).flatMap((job) => {
    const prefix = Object.keys(labels)
      .find((key) => key.endsWith(`.${job}.schedule`))!
      .replace(/\.schedule$/, "");
    const labelPath: YamlPath = Array.isArray(service.spec.labels)
      ? ["labels", Object.keys(labels).indexOf(`${prefix}.schedule`)]
      : ["labels", `${prefix}.schedule`];
    const schedule = cronOf(labels[`${prefix}.schedule`]);
    const commandText = labels[`${prefix}.command`];
    if (!schedule || !commandText) {
      importer.find(
        service,
        labelPath,
        `${service.name}: ofelia job ${job} "${labels[`${prefix}.schedule`]}"`,
        !schedule
          ? "the schedule is not expressible as 5-field cron (seconds or an interval cron cannot say)"
          : "the job has no command label",
      );
      return [];
    }
    const cron: Json = { name: workloadName(job, importer, service), schedule };
    if (!isApp || prefix.includes("job-run")) {
      const image = labels[`${prefix}.image`];
      Object.assign(cron, image ? { image } : importer.image(service, "cronJobs"));
    }
    cron.command = jobCommand(commandText);
    importer.find(
      service,
      labelPath,
      `${service.name}: ofelia job ${job}`,
      `mapped to cronJobs[] ${String(cron.name)} "${schedule}" (UTC); it runs in a new container, not inside the running one`,
      "changed",
    );
    return [ordered(cron)];
  });
}

export function mapService(importer: Importer, service: ComposeService): Json {
  const datastore = imageRole(String(service.spec.image ?? ""));
  if (datastore === "postgres" || datastore === "redis") {
    importer.find(
      service,
      [],
      `${service.name}: a second ${datastore === "postgres" ? "Postgres" : "Redis"}`,
      `imported as an extra service: Ballast backs up, monitors and injects the URL of its own ${datastore} only`,
      "changed",
    );
  }
  const extra: Json = { name: workloadName(service.name, importer, service), ...importer.image(service, "services") };
  const port = importer.port(service);
  if (port) extra.port = port;
  const entrypoint = commandOf(service.spec.entrypoint);
  const args = commandOf(service.spec.command);
  if (entrypoint) extra.command = entrypoint;
  if (args) extra.args = args;
  const health = importer.health(service, true);
  if (health) extra.health = health;
  const replicas = importer.replicas(service);
  if (replicas !== undefined) extra.replicas = replicas;
  const resources = importer.resources(service);
  if (resources) extra.resources = resources;
  Object.assign(extra, importer.env(service));
  const route = routedHost(service);
  if (route) extra.route = { subdomain: splitHost(route.host).subdomain, pathPrefix: "/" };
  const mountPath = importer.dataVolume(service);
  if (mountPath) {
    extra.storage = { mountPath, sizeGiB: 10 };
    importer.find(
      service,
      ["volumes"],
      `${service.name}: data volume at ${mountPath}`,
      "mapped to storage with 10 GiB (a compose volume has no size): set storage.sizeGiB; the data is not moved",
      "changed",
    );
  }
  const grace = stopGrace(service);
  if (grace) extra.stopGracePeriodSeconds = grace;
  if (!route)
    importer.publishedPorts(service, "extra services are internal unless they have a route: the port stays reachable inside the stack");
  importer.leftover(service, ["stop_grace_period"]);
  importer.map(service, "service", `services[] ${String(extra.name)}, port ${port ?? "?"}${mountPath ? `, storage ${mountPath}` : ""}`);
  return ordered(extra);
}
