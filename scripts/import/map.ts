/**
 * Compose services -> Ballast stack config. Pure: a read compose file and the options in,
 * the `ballast:` values plus what the user must still do out (secrets to set, placeholders
 * to replace, findings with the line they came from). Never copies a secret value.
 */
import type { Environment, TargetKind } from "../../components/config";
import { ImportError, type ComposeFile, type ComposeService } from "./compose-file";
import { mapPostgres, mapRedis } from "./datastores";
import { Importer } from "./importer";
import { assignRoles, imageRepository, routedHost, type Role } from "./roles";
import type { ComposeImport, ImportOptions, Json } from "./types";
import { commandOf, environmentOf, labelsOf, splitHost } from "./values";
import { mapApp, mapCron, mapService, mapWorker, ofeliaCronJobs } from "./workloads";

export type { ComposeImport, Finding, FindingKind, ImportOptions, MappedService, Placeholder, SecretToSet } from "./types";

function environmentFor(options: ImportOptions): Environment {
  if (options.environment) return options.environment;
  return options.stack === "dev" || options.stack === "staging" || options.stack === "prod" ? options.stack : "prod";
}

/** Reads compose text already parsed into a ComposeFile; the stack config and what remains to do. */
export function importCompose(file: ComposeFile, options: ImportOptions): ComposeImport {
  const environment = environmentFor(options);
  const importer = new Importer(file, options, environment);
  const roles = assignRoles(file, options.app);
  if (options.app && !file.services.some((s) => s.name === options.app)) {
    throw new ImportError(
      file.file,
      file.line("services"),
      `--app ${options.app}: no such service (services: ${file.services.map((s) => s.name).join(", ")})`,
    );
  }
  const unknownPins = Object.keys(options.images ?? {}).filter((name) => !file.services.some((s) => s.name === name));
  if (unknownPins.length > 0) {
    throw new ImportError(
      file.file,
      file.line("services"),
      `--image ${unknownPins.join(", ")}: no such service (services: ${file.services.map((s) => s.name).join(", ")})`,
    );
  }
  const byRole = (role: Role) => roles.filter((r) => r.role === role).map((r) => r.service);
  importer.hasPostgres = byRole("postgres").length > 0;
  importer.hasRedis = byRole("redis").length > 0;
  importer.tracing = byRole("tracing").length > 0;
  importer.postgresName = byRole("postgres")[0]?.name ?? "postgres";
  importer.redisName = byRole("redis")[0]?.name ?? "redis";
  importer.appService = byRole("app")[0]?.name ?? "";
  const tagged = file.services
    .map((s) => (s.spec.build !== undefined && typeof s.spec.image === "string" ? imageRepository(s.spec.image) : ""))
    .find((r) => r.includes("/") && /[.:]|^localhost/.test(r.split("/")[0]));
  if (tagged) importer.registryPrefix = tagged.slice(0, tagged.lastIndexOf("/") + 1);

  const config: Json = { environment, target: options.target };
  const appService = byRole("app")[0];
  if (!appService) {
    throw new ImportError(
      file.file,
      file.line("services"),
      "no service looks like the web/API app (one with ports, a Traefik rule or VIRTUAL_HOST): name it with --app SERVICE",
    );
  }

  // Domain and TLS contact from the proxy's labels or VIRTUAL_HOST-style variables.
  const route = routedHost(appService);
  const placeholderDomain = "example.com";
  let domain = placeholderDomain;
  let subdomain: string | undefined;
  if (route) {
    ({ domain, subdomain } = splitHost(route.host));
  }
  // dev runs on localhost (the default) unless the compose file routes a host.
  if (route || environment !== "dev") config.domain = domain;
  if (!route && environment !== "dev")
    importer.placeholders.push({
      path: ["domain"],
      why: "the public domain: the compose file routes no host (no Traefik Host() rule, no VIRTUAL_HOST)",
    });
  const acmeEmail = findAcmeEmail(file);
  if (environment !== "dev") {
    config.acmeEmail = acmeEmail ?? `ops@${domain}`;
    if (!acmeEmail) importer.placeholders.push({ path: ["acmeEmail"], why: "Let's Encrypt's contact address (not in the compose file)" });
  }
  config[options.target] = deploymentTarget(importer, options.target, environment);

  // Datastores first: the app's environment depends on them (DATABASE_URL is injected).
  const postgres = mapPostgres(importer, byRole("postgres")[0]);
  if (postgres.external === true && options.target === "kubernetes") {
    // Kubernetes lets workloads reach public addresses on 443 only unless told: a managed database needs its port.
    (config.kubernetes as Json).internetEgressPorts = [443, 5432];
    importer.placeholders.push({
      path: ["kubernetes", "internetEgressPorts"],
      why: "the external database's port next to HTTPS (5432; 6543 for Supabase's pooler)",
    });
  }
  const redis = mapRedis(importer, byRole("redis")[0]);

  const migrations = byRole("migration");
  const app = mapApp(importer, appService, subdomain, migrations);
  config.app = app;
  const workers = byRole("worker").map((s) => mapWorker(importer, s));
  const cronJobs = [
    ...byRole("cron").flatMap((s) => mapCron(importer, s)),
    ...file.services
      .filter((s) => byRole("cron").every((c) => c.name !== s.name))
      .flatMap((s) => ofeliaCronJobs(importer, s, s === appService)),
  ];
  const services = byRole("service").map((s) => mapService(importer, s));
  if (workers.length > 0) config.workers = workers;
  if (cronJobs.length > 0) config.cronJobs = cronJobs;
  config.postgres = postgres;
  config.redis = redis;
  if (services.length > 0) config.services = services;

  for (const service of byRole("proxy")) {
    importer.map(service, "proxy", "Ballast's Traefik (ballast:proxy), not copied");
    importer.find(
      service,
      [],
      `${service.name}: ${String(service.spec.image ?? "proxy")}`,
      "replaced by Ballast's own Traefik (routes, TLS from Let's Encrypt): its labels, config files and ports are not copied",
      "replaced",
    );
  }
  for (const service of byRole("scheduler")) {
    importer.map(service, "scheduler", "Ballast's scheduler (host cron / CronJobs)");
    importer.find(
      service,
      [],
      `${service.name}: ${String(service.spec.image)}`,
      "replaced by Ballast's scheduler: its jobs are imported from the ofelia labels as cronJobs",
      "replaced",
    );
  }
  const monitoring = mapMonitoring(importer, [...byRole("monitoring"), ...byRole("tracing")]);
  if (monitoring) config.monitoring = monitoring;

  const declared = [...importer.secrets.values()].filter((s) => !s.builtin).sort((a, b) => a.name.localeCompare(b.name));
  if (declared.length > 0) {
    config.secrets = Object.fromEntries(
      declared.map((s) => [
        s.name,
        {
          description: `${s.readBy.join(", ")} (imported from ${file.file} line ${s.line})`,
          rotation: `set the new value: pulumi config set --secret --path 'ballast:secretValues.${s.name}' <value>, then pulumi up`,
        },
      ]),
    );
  }
  if (importer.registries.size > 0) {
    const [server] = [...importer.registries];
    config.registry = { server };
    if (importer.registries.size > 1)
      importer.findings.push({
        line: 1,
        what: `registries ${[...importer.registries].join(", ")}`,
        why: `one registry per stack: ${server} is used; push the other images there`,
        kind: "changed",
      });
  }
  if (options.target === "kubernetes" && environment !== "dev") {
    const current = (config.monitoring as Json | undefined) ?? {};
    config.monitoring = { ...current, grafana: { ...((current.grafana as Json | undefined) ?? {}), allowFrom: ["198.51.100.0/24"] } };
    importer.placeholders.push({
      path: ["monitoring", "grafana", "allowFrom"],
      why: "the address ranges that may reach Grafana (your office or VPN egress)",
    });
  }

  return {
    source: file.file,
    stack: options.stack,
    target: options.target,
    environment,
    config: orderTopLevel(config),
    mapped: [...importer.mapped].sort((a, b) => a.line - b.line),
    secrets: [...importer.secrets.values()].sort((a, b) => Number(b.required) - Number(a.required) || a.name.localeCompare(b.name)),
    placeholders: importer.placeholders,
    findings: [...importer.findings].sort((a, b) => a.line - b.line),
    unpinned: importer.unpinned,
  };
}

const TOP_ORDER = [
  "environment",
  "target",
  "domain",
  "acmeEmail",
  "compose",
  "kubernetes",
  "registry",
  "app",
  "workers",
  "cronJobs",
  "postgres",
  "redis",
  "services",
  "secrets",
  "monitoring",
];
function orderTopLevel(config: Json): Json {
  return Object.fromEntries(TOP_ORDER.filter((k) => config[k] !== undefined).map((k) => [k, config[k]]));
}

function findAcmeEmail(file: ComposeFile): string | undefined {
  for (const service of file.services) {
    const words = [...(commandOf(service.spec.command) ?? []), ...Object.values(labelsOf(service.spec.labels))];
    for (const word of words) {
      const match = /acme\.email=([^\s"']+@[^\s"']+)/.exec(word);
      if (match) return match[1];
    }
    const env = environmentOf(service.spec.environment).find((e) => e.name === "LETSENCRYPT_EMAIL" || e.name === "ACME_EMAIL");
    if (env?.value && !env.value.includes("$")) return env.value;
  }
  return undefined;
}

/** Where the stack runs: facts a compose file never says, as marked placeholders (documentation addresses). */
function deploymentTarget(importer: Importer, target: TargetKind, environment: Environment): Json {
  const project = importer.project();
  if (target === "kubernetes") return { namespace: project };
  if (environment === "dev") return { mode: "local", project };
  const host = ["compose", "ssh", "host"];
  importer.placeholders.push(
    { path: host, why: "the VPS the stack is deployed to" },
    { path: ["compose", "ssh", "hostKey"], why: "the host's key: ssh-keyscan -t ed25519 <host>" },
    { path: ["compose", "bootstrap", "sshAllowFrom"], why: "the ranges SSH (and Grafana) may be reached from" },
    { path: ["compose", "bootstrap", "authorizedKeys"], why: "the deploy user's public key (the .pub of ballast:sshPrivateKey)" },
    {
      path: ["compose", "bootstrap", "adminKeys"],
      why: "the bootstrap's own public key (the .pub of ballast:bootstrapSshPrivateKey, never the deploy key)",
    },
  );
  return {
    mode: "ssh",
    project,
    ssh: {
      host: "203.0.113.10",
      user: "deploy",
      hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIReplaceWithTheOutputOfSshKeyscan00000000000",
      remoteDir: `/opt/${project}`,
    },
    bootstrap: {
      sshAllowFrom: ["198.51.100.0/24"],
      authorizedKeys: [`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIReplaceWithYourDeployPublicKey0000000000000 deploy@${project}`],
      adminKeys: [`ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIReplaceWithYourBootstrapPublicKey00000000000 bootstrap@${project}`],
    },
  };
}

/** Monitoring services are replaced by Ballast's own set (which a stack has whether or not the compose file ran one). */
function mapMonitoring(importer: Importer, services: ComposeService[]): Json | undefined {
  const monitoring: Json = {};
  for (const service of services) {
    const repository = imageRepository(String(service.spec.image ?? ""));
    const tracing = /jaeger|all-in-one|tempo/.exec(repository);
    if (tracing) {
      monitoring.tracing = { enabled: true, backend: tracing[0] === "tempo" ? "tempo" : "jaeger" };
      importer.map(service, "tracing", `monitoring.tracing (backend ${tracing[0] === "tempo" ? "tempo" : "jaeger"})`);
    } else {
      importer.map(service, "monitoring", "Ballast's monitoring (not copied)");
    }
    importer.find(
      service,
      [],
      `${service.name}: ${String(service.spec.image ?? "")}`,
      "replaced by Ballast's own monitoring (Prometheus, Alertmanager, Grafana, Loki, Alloy, exporters, tracing), with its pinned versions and provisioned dashboards: its config files, volumes and ports are not copied",
      "replaced",
    );
  }
  return Object.keys(monitoring).length > 0 ? monitoring : undefined;
}
