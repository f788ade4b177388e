/**
 * Stack-wide guarantees for prod.
 *
 * - `prod-backups-scheduled`: a stack with Postgres has a scheduled backup: a Kubernetes
 *   CronJob named `backup` (not suspended), or a Compose service `backup` that the cron
 *   host's cron runs (role `job` with `x-ballast-schedule`: deploy.sh installs the release's
 *   crontab). Dealix runbook: "backup gap".
 * - `prod-log-anonymisation`: logs leave the containers only through Alloy with client IPs
 *   anonymised (nyxcore runbook, DSGVO): an Alloy workload exists and says so, either with
 *   the label `ballast.log-anonymisation: "on"` or, on Kubernetes, in the Alloy config
 *   (a ConfigMap it mounts contains the anonymisation marker).
 */
import type { PolicyConfigJSONSchema } from "@pulumi/policy/schema";
import { isDatastore, matchesAgent } from "./lib/classify";
import { composeProjectOf, composeServices, serviceLabels, serviceSchedule } from "./lib/compose";
import { k8sTypes, k8sWorkloadOf, objectName } from "./lib/kubernetes";
import { stackPolicy } from "./lib/policy";
import { asArray, asObject, asString, at } from "./lib/values";
import { environmentConfigSchema, environmentOf, type ResourceView, type StackFinding } from "./lib/view";
import { composeIdentity, k8sIdentity } from "./lib/workloads";

export interface StackConfig {
  /** Overrides the environment derived from the stack name. */
  environment?: string;
  /** Environments the policy applies to. */
  environments: string[];
}

const stackConfigSchema: { properties: Record<string, PolicyConfigJSONSchema> } = {
  properties: {
    environment: environmentConfigSchema,
    environments: {
      type: "array",
      items: { type: "string", enum: ["dev", "staging", "prod"] },
      description: "Environments the policy applies to.",
    },
  },
};

function applies(resources: ResourceView[], config: StackConfig): boolean {
  return config.environments.includes(environmentOf(resources[0]?.urn, config.environment));
}

export interface BackupsConfig extends StackConfig {
  /** Name of the backup job (Kubernetes CronJob / Compose service). */
  backupJobName: string;
  /** Image basenames of Postgres (a stack without one needs no backup). */
  postgresImages: string[];
  postgresComponents: string[];
}

export const backupsDefaults: BackupsConfig = {
  environments: ["prod"],
  backupJobName: "backup",
  postgresImages: ["postgres", "postgresql", "pgvector"],
  postgresComponents: ["postgres"],
};

export function checkBackups(resources: ResourceView[], config: BackupsConfig): StackFinding[] {
  if (!applies(resources, config)) return [];
  const postgres = { datastoreImages: config.postgresImages, datastoreComponents: config.postgresComponents };
  let hasPostgres = false;
  let scheduled = false;
  const problems: StackFinding[] = [];
  for (const resource of resources) {
    const workload = k8sWorkloadOf(resource);
    if (workload) {
      if (isDatastore(k8sIdentity(workload), postgres)) hasPostgres = true;
      if (workload.kind === "CronJob" && workload.name === config.backupJobName) {
        const schedule = asString(at(resource.props, "spec", "schedule"));
        if (!schedule) problems.push({ message: `CronJob "${workload.name}": has no schedule`, urn: resource.urn });
        else if (at(resource.props, "spec", "suspend") === true)
          problems.push({ message: `CronJob "${workload.name}": is suspended; backups do not run`, urn: resource.urn });
        else scheduled = true;
      }
      continue;
    }
    const project = composeProjectOf(resource);
    if (!project) continue;
    const services = composeServices(project);
    if (services.some((s) => isDatastore(composeIdentity(s), postgres))) hasPostgres = true;
    const backup = services.find((s) => s.name === config.backupJobName);
    if (!backup) continue;
    if (serviceLabels(backup)["ballast.role"] !== "job") {
      problems.push({
        message: `compose service "${backup.name}": is not a scheduled job (label ballast.role is not "job")`,
        urn: resource.urn,
      });
    } else if (!serviceSchedule(backup)) {
      problems.push({
        message: `compose service "${backup.name}": has no schedule (x-ballast-schedule), so the host's cron never runs it`,
        urn: resource.urn,
      });
    } else {
      scheduled = true;
    }
  }
  if (!hasPostgres || scheduled) return [];
  if (problems.length > 0) return problems.map((p) => ({ ...p, message: `prod backups: ${p.message}` }));
  return [
    {
      message: `prod stack has Postgres but no scheduled backup: expected a CronJob "${config.backupJobName}" (Kubernetes) or a compose job service "${config.backupJobName}" on the host's cron; enable ballast:backups`,
    },
  ];
}

export const prodBackupsScheduled = stackPolicy<BackupsConfig>({
  name: "prod-backups-scheduled",
  description:
    'In prod, a stack with Postgres has a scheduled backup (CronJob "backup" on Kubernetes, the "backup" job with a schedule on Compose, run by the host\'s cron).',
  enforcementLevel: "mandatory",
  defaults: backupsDefaults,
  configSchema: {
    properties: {
      ...stackConfigSchema.properties,
      backupJobName: { type: "string", description: "Name of the backup CronJob / compose job service." },
      postgresImages: { type: "array", items: { type: "string" }, description: "Image basenames of Postgres." },
      postgresComponents: { type: "array", items: { type: "string" }, description: "Component label values of Postgres." },
    },
  },
  check: checkBackups,
});

export interface AnonymisationConfig extends StackConfig {
  /** Workload names / image basenames of the log shipper. */
  logShippers: string[];
  /** Label the log shipper carries when it anonymises client IPs. */
  label: string;
  /** Text in the shipper's config (Kubernetes ConfigMap) that shows the anonymisation stage. */
  configMarkers: string[];
}

export const anonymisationDefaults: AnonymisationConfig = {
  environments: ["prod"],
  logShippers: ["alloy"],
  label: "ballast.log-anonymisation",
  // The explicit marker, and the comment components/observability/alloy.ts renders above its
  // IPv4 anonymisation stage (the Alloy config is only visible on Kubernetes, in a ConfigMap).
  configMarkers: ["ballast:anonymise-client-ips", "IPv4 address: the last octet becomes 0."],
};

export function checkLogAnonymisation(resources: ResourceView[], config: AnonymisationConfig): StackFinding[] {
  if (!applies(resources, config)) return [];
  const configMaps = new Map(resources.filter((r) => r.type === k8sTypes.configMap).map((r) => [objectName(r.props, r.name), r] as const));
  const findings: StackFinding[] = [];
  let shippers = 0;
  for (const resource of resources) {
    const workload = k8sWorkloadOf(resource);
    if (workload) {
      if (!matchesAgent(k8sIdentity(workload), config.logShippers)) continue;
      shippers++;
      if (workload.labels[config.label] === "on") continue;
      const mounted = asArray(workload.podSpec.volumes)
        .map((v) => asString(at(v, "configMap", "name")))
        .filter((n): n is string => n !== undefined);
      const marked = mounted.some((name) => {
        const data = asObject(configMaps.get(name)?.props.data) ?? {};
        return Object.values(data).some((text) => typeof text === "string" && config.configMarkers.some((m) => text.includes(m)));
      });
      if (!marked) {
        findings.push({
          message: `${workload.title}: ships logs without client-IP anonymisation (no label ${config.label}: "on" and no anonymisation stage in its ConfigMaps ${mounted.join(", ") || "(none)"})`,
          urn: resource.urn,
        });
      }
      continue;
    }
    const project = composeProjectOf(resource);
    if (!project) continue;
    for (const service of composeServices(project)) {
      if (!matchesAgent(composeIdentity(service), config.logShippers)) continue;
      shippers++;
      if (serviceLabels(service)[config.label] !== "on") {
        findings.push({
          message: `${service.title}: ships logs without the label ${config.label}: "on" (client IPs must be anonymised before logs reach Loki)`,
          urn: resource.urn,
        });
      }
    }
  }
  if (shippers === 0 && resources.some((r) => k8sWorkloadOf(r) !== undefined || composeProjectOf(r) !== undefined)) {
    return [
      {
        message: `prod stack has no log shipper (${config.logShippers.join(", ")}) with client-IP anonymisation; enable ballast:monitoring (Alloy)`,
      },
    ];
  }
  return findings;
}

export const prodLogAnonymisation = stackPolicy<AnonymisationConfig>({
  name: "prod-log-anonymisation",
  description:
    'In prod, container logs are shipped by Alloy with client IPs anonymised (label ballast.log-anonymisation: "on", or the anonymisation stage in its Kubernetes config).',
  enforcementLevel: "mandatory",
  defaults: anonymisationDefaults,
  configSchema: {
    properties: {
      ...stackConfigSchema.properties,
      logShippers: { type: "array", items: { type: "string" }, description: "Workload names / image basenames of the log shipper." },
      label: { type: "string", description: "Label the log shipper carries when it anonymises client IPs." },
      configMarkers: {
        type: "array",
        items: { type: "string" },
        description: "Text in the shipper's ConfigMap that shows the anonymisation stage.",
      },
    },
  },
  check: checkLogAnonymisation,
});
