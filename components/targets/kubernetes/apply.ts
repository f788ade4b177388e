/**
 * The thin apply step: every rendered object becomes the matching typed
 * `@pulumi/kubernetes` resource, with the options that keep data and ordering safe.
 * All behaviour is in the render; this file only decides resource options.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackModel, WorkloadSpec } from "../../spec";
import type { SecretValues, TargetOutputs } from "../target";
import type { KubernetesRenderConfig } from "./context";
import type { KubernetesObject } from "./objects";
import { renderKubernetesObjects } from "./render";

type Resource = pulumi.CustomResource;

/**
 * Hands a rendered object to a resource constructor. The render is typed with the
 * upstream API schema; Pulumi's input types describe the same JSON with a different
 * representation (quantities only as strings, `roleRef.apiGroup` required), so this
 * boundary is a cast, not a conversion.
 */
function args<T>(object: KubernetesObject): T {
  return object as unknown as T;
}

/** The typed resource for one rendered object. */
function createResource(object: KubernetesObject, name: string, opts: pulumi.CustomResourceOptions): Resource {
  switch (object.kind) {
    case "Namespace":
      return new k8s.core.v1.Namespace(name, object, opts);
    case "Secret":
      // Every value is a secret, whatever the caller passed; data and stringData stay secret in state.
      return new k8s.core.v1.Secret(name, { ...object, stringData: pulumi.secret(object.stringData) }, {
        ...opts,
        additionalSecretOutputs: ["data", "stringData"],
      });
    case "ConfigMap":
      return new k8s.core.v1.ConfigMap(name, object, opts);
    case "ServiceAccount":
      return new k8s.core.v1.ServiceAccount(name, object, opts);
    case "Role":
      return new k8s.rbac.v1.Role(name, object, opts);
    case "RoleBinding":
      return new k8s.rbac.v1.RoleBinding(name, args<k8s.rbac.v1.RoleBindingArgs>(object), opts);
    case "ClusterRole":
      return new k8s.rbac.v1.ClusterRole(name, object, opts);
    case "ClusterRoleBinding":
      return new k8s.rbac.v1.ClusterRoleBinding(name, args<k8s.rbac.v1.ClusterRoleBindingArgs>(object), opts);
    case "PersistentVolumeClaim":
      return new k8s.core.v1.PersistentVolumeClaim(name, args<k8s.core.v1.PersistentVolumeClaimArgs>(object), opts);
    case "Deployment":
      return new k8s.apps.v1.Deployment(name, args<k8s.apps.v1.DeploymentArgs>(object), opts);
    case "StatefulSet":
      return new k8s.apps.v1.StatefulSet(name, args<k8s.apps.v1.StatefulSetArgs>(object), opts);
    case "DaemonSet":
      return new k8s.apps.v1.DaemonSet(name, args<k8s.apps.v1.DaemonSetArgs>(object), opts);
    case "Job":
      // A Job's pod template is immutable: a new release replaces it, and its fixed name must be free first.
      return new k8s.batch.v1.Job(name, args<k8s.batch.v1.JobArgs>(object), { ...opts, deleteBeforeReplace: true });
    case "CronJob":
      return new k8s.batch.v1.CronJob(name, args<k8s.batch.v1.CronJobArgs>(object), opts);
    case "Service":
      return new k8s.core.v1.Service(name, object, opts);
    case "HorizontalPodAutoscaler":
      return new k8s.autoscaling.v2.HorizontalPodAutoscaler(name, args<k8s.autoscaling.v2.HorizontalPodAutoscalerArgs>(object), opts);
    case "PodDisruptionBudget":
      return new k8s.policy.v1.PodDisruptionBudget(name, object, opts);
    case "Ingress":
      return new k8s.networking.v1.Ingress(name, object, opts);
    case "IngressClass":
      return new k8s.networking.v1.IngressClass(name, object, opts);
    case "NetworkPolicy":
      return new k8s.networking.v1.NetworkPolicy(name, args<k8s.networking.v1.NetworkPolicyArgs>(object), opts);
  }
}

type WorkloadKind = "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob";
type WorkloadObject = Extract<KubernetesObject, { kind: WorkloadKind }>;

function isWorkload(object: KubernetesObject): object is WorkloadObject {
  return ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"].includes(object.kind);
}

/**
 * Objects that hold data: deleting the Namespace deletes every claim in it (those of
 * StatefulSets too, whatever their retention policy), so it is guarded like them.
 */
function holdsData(object: KubernetesObject): boolean {
  return object.kind === "Namespace" || object.kind === "StatefulSet" || object.kind === "PersistentVolumeClaim";
}

/** Workload objects in an order where every workload follows those it waits for. */
function workloadOrder(model: StackModel, workloads: WorkloadObject[]): { object: WorkloadObject; waitsFor: string[] }[] {
  const specs = new Map<string, WorkloadSpec>(model.workloads.map((workload) => [workload.name, workload]));
  const present = new Set(workloads.map((object) => object.metadata.name));
  const migrations = workloads.filter((object) => object.kind === "Job").map((object) => object.metadata.name);
  const waitsFor = (object: WorkloadObject): string[] => {
    const declared = specs.get(object.metadata.name)?.dependsOn ?? [];
    // A release's migration runs before the Deployments and CronJobs that need its schema.
    const migrationsFirst = object.kind === "Deployment" || object.kind === "CronJob" ? migrations : [];
    return [...new Set([...declared, ...migrationsFirst])].filter((name) => present.has(name) && name !== object.metadata.name);
  };
  const ordered: { object: WorkloadObject; waitsFor: string[] }[] = [];
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const byName = new Map(workloads.map((object) => [object.metadata.name, object]));
  const visit = (object: WorkloadObject) => {
    const name = object.metadata.name;
    if (placed.has(name)) return;
    if (visiting.has(name)) throw new Error(`workload "${name}" waits for itself (through dependsOn or a migration Job)`);
    visiting.add(name);
    const deps = waitsFor(object);
    for (const dep of deps) visit(byName.get(dep) as WorkloadObject);
    visiting.delete(name);
    placed.add(name);
    ordered.push({ object, waitsFor: deps });
  };
  workloads.forEach(visit);
  return ordered;
}

export interface ApplyArgs {
  model: StackModel;
  config: KubernetesRenderConfig;
  secrets: SecretValues;
  parent: pulumi.Resource;
}

/** The app's public URL: the route of the `app` component, else the first route. */
export function appUrl(model: StackModel, tls: boolean): string {
  const routed = model.workloads.filter((workload) => workload.route);
  const app = routed.find((workload) => workload.component === "app") ?? routed[0];
  const route = app?.route;
  if (!route) return "";
  const scheme = route.tls && tls ? "https" : "http";
  return `${scheme}://${route.host}${route.pathPrefix === "/" ? "" : route.pathPrefix}`;
}

export function applyKubernetesObjects({ model, config, secrets, parent }: ApplyArgs): TargetOutputs {
  if (config.renderYamlToDirectory !== "") {
    pulumi.log.warn(
      `kubernetes.renderYamlToDirectory is set: manifests (Secret values in plaintext) go to ${config.renderYamlToDirectory}, nothing to a cluster`,
      parent,
    );
  }
  const objects = renderKubernetesObjects(model, config, secrets);
  // Ordered (and checked for cycles) before anything is declared.
  const workloadObjects = workloadOrder(model, objects.filter(isWorkload));
  const provider = new k8s.Provider(
    `${model.project}-kubernetes`,
    {
      namespace: config.namespace,
      enableServerSideApply: true,
      ...(config.context !== "" && { context: config.context }),
      ...(config.renderYamlToDirectory !== "" && { renderYamlToDirectory: config.renderYamlToDirectory }),
    },
    { parent },
  );
  const guard = !model.allowDataLoss;
  const rolloutTimeout = `${config.progressDeadlineSeconds + 60}s`;
  // Plain names (not Outputs of other resources) keep every dependency an ordering-only dependsOn:
  // a replaced ConfigMap or Secret never forces its consumers to be replaced.
  const create = (object: KubernetesObject, dependsOn: Resource[]) =>
    createResource(object, `${object.kind.toLowerCase()}-${object.metadata.name}`, {
      parent,
      provider,
      dependsOn,
      ...(holdsData(object) && { protect: guard, retainOnDelete: guard }),
      // A stuck rollout fails at its progress deadline (the provider reads ProgressDeadlineExceeded);
      // this bound only catches a Deployment that never reports progress at all.
      ...(object.kind === "Deployment" && { customTimeouts: { create: rolloutTimeout, update: rolloutTimeout } }),
    });

  const namespace = create(objects.filter((object) => phaseOf(object) === "namespace")[0], []);
  // What every pod needs before it starts: Secret, config, identity, claims, and the network policies it runs under.
  const prerequisites = objects.filter((object) => phaseOf(object) === "prerequisite").map((object) => create(object, [namespace]));
  const workloads = new Map<string, Resource>();
  for (const { object, waitsFor } of workloadObjects) {
    const waits = waitsFor.map((name) => workloads.get(name) as Resource);
    workloads.set(object.metadata.name, create(object, [namespace, ...prerequisites, ...waits]));
  }
  for (const object of objects.filter((candidate) => phaseOf(candidate) === "serving")) {
    // An autoscaler acts on its Deployment; Services, budgets and Ingresses work before their pods exist.
    const scaled = object.kind === "HorizontalPodAutoscaler" ? workloads.get(object.spec?.scaleTargetRef.name ?? "") : undefined;
    create(object, [namespace, ...(scaled ? [scaled] : [])]);
  }
  return {
    appUrl: pulumi.output(appUrl(model, config.tls ?? true)),
    location: pulumi.output(`namespace ${config.namespace}`),
  };
}

/** When an object is declared relative to the others. */
function phaseOf(object: KubernetesObject): "namespace" | "prerequisite" | "workload" | "serving" {
  if (object.kind === "Namespace") return "namespace";
  if (isWorkload(object)) return "workload";
  if (["Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "Ingress", "IngressClass"].includes(object.kind)) return "serving";
  return "prerequisite";
}
