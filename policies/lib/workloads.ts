/**
 * One list of workloads per resource, whatever the target: the Kubernetes object's pod
 * template, or every service of a compose project. Policies that judge "a workload"
 * (images, limits, privileges) iterate this.
 */
import {
  composeProjectOf,
  composeRoleLabel,
  composeServices,
  serviceComponent,
  serviceImage,
  serviceLabels,
  type ComposeProject,
  type ComposeService,
} from "./compose";
import { componentLabel, k8sWorkloadOf, type K8sWorkload } from "./kubernetes";
import type { WorkloadIdentity } from "./classify";
import { asString } from "./values";
import type { ResourceView } from "./view";

export type TargetWorkloads =
  { target: "kubernetes"; workload: K8sWorkload } | { target: "compose"; project: ComposeProject; services: ComposeService[] };

export function workloadsOf(resource: ResourceView): TargetWorkloads | undefined {
  const workload = k8sWorkloadOf(resource);
  if (workload) return { target: "kubernetes", workload };
  const project = composeProjectOf(resource);
  if (project) return { target: "compose", project, services: composeServices(project) };
  return undefined;
}

export function k8sIdentity(workload: K8sWorkload): WorkloadIdentity {
  return {
    name: workload.name,
    component: workload.labels[componentLabel],
    images: workload.containers.map((c) => asString(c.props.image)).filter((i): i is string => i !== undefined),
    role: workload.kind === "CronJob" || workload.kind === "Job" ? "job" : undefined,
  };
}

export function composeIdentity(service: ComposeService): WorkloadIdentity {
  const image = serviceImage(service);
  return {
    name: service.name,
    component: serviceComponent(service),
    images: image ? [image] : [],
    role: serviceLabels(service)[composeRoleLabel],
  };
}
