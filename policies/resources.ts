/**
 * Resource limits and health checks.
 *
 * - `resource-limits`: every container has a CPU and a memory limit, so one runaway
 *   process cannot starve the VPS or the node (the runbooks size every service).
 * - `health-checks`: the app and the workers have readiness and liveness checks: rolling
 *   updates and the Compose health gate (`docker compose up --wait`) only mean something
 *   when the platform can tell a healthy container from a running one.
 */
import { composeComponentLabel, composeRoleLabel, serviceLabels, type ComposeService } from "./lib/compose";
import { componentLabel, containerTitle } from "./lib/kubernetes";
import { resourcePolicy } from "./lib/policy";
import { asObject, at, isUnknown } from "./lib/values";
import type { ResourceView } from "./lib/view";
import { workloadsOf } from "./lib/workloads";

function present(value: unknown): boolean {
  if (isUnknown(value)) return true;
  if (typeof value === "number") return value > 0;
  return typeof value === "string" && value.trim() !== "" && value.trim() !== "0";
}

function missingText(cpu: boolean, memory: boolean): string {
  return cpu && memory ? "CPU and memory limits" : cpu ? "CPU limit" : "memory limit";
}

export type LimitsConfig = Record<string, never>;

export function checkLimits(resource: ResourceView): string[] {
  const found = workloadsOf(resource);
  if (!found) return [];
  const messages: string[] = [];
  if (found.target === "kubernetes") {
    for (const container of found.workload.containers) {
      const limits = at(container.props, "resources", "limits");
      const cpu = !present(at(limits, "cpu"));
      const memory = !present(at(limits, "memory"));
      if (cpu || memory) {
        messages.push(
          `${containerTitle(found.workload, container)}: has no ${missingText(cpu, memory)}; set resources.limits.cpu and resources.limits.memory`,
        );
      }
    }
    return messages;
  }
  for (const service of found.services) {
    const limits = at(service.props, "deploy", "resources", "limits");
    const cpu = !present(at(limits, "cpus")) && !present(service.props.cpus);
    const memory = !present(at(limits, "memory")) && !present(service.props.mem_limit);
    if (cpu || memory) {
      messages.push(
        `${service.title}: has no ${missingText(cpu, memory)}; set deploy.resources.limits.cpus and deploy.resources.limits.memory`,
      );
    }
  }
  return messages;
}

export const resourceLimits = resourcePolicy<LimitsConfig>({
  name: "resource-limits",
  description: "Every container (Kubernetes containers and initContainers, Compose services) has a CPU and a memory limit.",
  enforcementLevel: "mandatory",
  defaults: {},
  remediationSteps: "Give the component a `resources: {cpu, memory}` block in the stack config.",
  check: (resource) => checkLimits(resource),
});

export interface HealthConfig {
  /** Component label values that must have readiness and liveness checks. */
  components: string[];
}

export const healthDefaults: HealthConfig = { components: ["app", "workers"] };

/** A service that Traefik routes to (it has a public route) must prove it is healthy too. */
function isRouted(labels: Record<string, string>): boolean {
  return labels["traefik.enable"] === "true" && Object.keys(labels).some((k) => /^traefik\.http\.routers\.[^.]+\.rule$/.test(k));
}

function composeHealthProblem(service: ComposeService): string | undefined {
  const hc = asObject(service.props.healthcheck);
  if (!hc) return "has no healthcheck";
  if (hc.disable === true) return "has its healthcheck disabled";
  const test = hc.test;
  if (isUnknown(test)) return undefined;
  const first = Array.isArray(test) ? test[0] : test;
  if (first === undefined || first === "NONE" || (typeof test === "string" && test.trim() === ""))
    return "has a healthcheck without a test";
  return undefined;
}

export function checkHealth(resource: ResourceView, config: HealthConfig): string[] {
  const found = workloadsOf(resource);
  if (!found) return [];
  const messages: string[] = [];
  if (found.target === "kubernetes") {
    const { workload } = found;
    if (workload.kind !== "Deployment") return [];
    const component = workload.labels[componentLabel];
    if (component === undefined || !config.components.includes(component)) return [];
    for (const container of workload.containers.filter((c) => !c.init)) {
      const missing = ["readinessProbe", "livenessProbe"].filter(
        (probe) => !asObject(container.props[probe]) && !isUnknown(container.props[probe]),
      );
      if (missing.length > 0) {
        messages.push(
          `${containerTitle(workload, container)} (component "${component}"): has no ${missing.join(" and no ")}; rolling updates need readiness and liveness checks`,
        );
      }
    }
    return messages;
  }
  for (const service of found.services) {
    const labels = serviceLabels(service);
    const component = labels[composeComponentLabel];
    const routed = isRouted(labels);
    // One-shot steps (a migration labelled with the app's component) run to completion: no healthcheck to gate on.
    if (labels[composeRoleLabel] === "job") continue;
    if (!routed && (component === undefined || !config.components.includes(component))) continue;
    const problem = composeHealthProblem(service);
    if (problem) {
      const why = component !== undefined && config.components.includes(component) ? `component "${component}"` : "it has a public route";
      messages.push(
        `${service.title} (${why}): ${problem}; "docker compose up --wait" can only gate the release on services with a healthcheck`,
      );
    }
  }
  return messages;
}

export const healthChecks = resourcePolicy<HealthConfig>({
  name: "health-checks",
  description:
    "The app and the workers (Kubernetes Deployments labelled app.kubernetes.io/component app|workers; Compose services labelled ballast.component app|workers or routed by Traefik) have readiness and liveness checks.",
  enforcementLevel: "mandatory",
  defaults: healthDefaults,
  configSchema: {
    properties: {
      components: {
        type: "array",
        items: { type: "string" },
        description: "Component label values that need readiness and liveness checks.",
      },
    },
  },
  remediationSteps: "Give the app a healthPath and each worker a healthCommand in the stack config.",
  check: checkHealth,
});
