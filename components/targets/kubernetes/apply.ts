/**
 * The thin apply step: every rendered object becomes the matching typed
 * `@pulumi/kubernetes` resource, with the options that keep data and ordering safe.
 * All behaviour is in the render (dependencies.ts reads the order from it); this file only
 * decides resource options and the provider's waits.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { StackModel } from "../../spec";
import { targetResourceIdentity } from "../names";
import type { SecretValues, TargetOutputs, TargetOwner } from "../target";
import type { KubernetesRenderConfig } from "./context";
import { dependencyOrder } from "./dependencies";
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
      return new k8s.core.v1.Secret(
        name,
        { ...object, stringData: pulumi.secret(object.stringData) },
        {
          ...opts,
          additionalSecretOutputs: ["data", "stringData"],
        },
      );
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
      return new k8s.batch.v1.Job(name, args<k8s.batch.v1.JobArgs>(object), opts);
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
    case "ScaledObject":
    case "TriggerAuthentication":
      // KEDA's CRDs: the cluster must have KEDA installed (ballast:kubernetes.keda.enabled says so).
      return new k8s.apiextensions.CustomResource(name, object, opts);
  }
}

/**
 * Objects that hold data: deleting the Namespace deletes every claim in it (those of
 * StatefulSets too, whatever their retention policy), so it is guarded like them.
 */
function holdsData(object: KubernetesObject, config: KubernetesRenderConfig): boolean {
  // The agents' namespace holds DaemonSets only: deleting it loses no data.
  if (object.kind === "Namespace") return object.metadata.name === config.namespace;
  return object.kind === "StatefulSet" || object.kind === "PersistentVolumeClaim";
}

/** The provider's readiness wait is skipped for this object (`pulumi.com/skipAwait`). */
const skipAwait = { "pulumi.com/skipAwait": "true" } as const;

/**
 * Whether `pulumi up` waits for an Ingress (rendered only for an existing controller: Ballast's
 * Traefik routes from files). The provider waits for its backends' endpoints and then for an
 * address in `.status.loadBalancer`: an existing controller may report one; waited for unless the
 * stack says its controller reports none (`kubernetes.awaitIngressAddress: false`, bare clusters).
 */
function awaitsIngress(config: KubernetesRenderConfig): boolean {
  return !config.deployTraefik && config.awaitIngressAddress;
}

/** Bounds of the provider's readiness waits (customTimeouts), from the stack's config. */
function readinessOptions(object: KubernetesObject, config: KubernetesRenderConfig): pulumi.CustomResourceOptions {
  const bound = (seconds: number) => ({ customTimeouts: { create: `${seconds}s`, update: `${seconds}s` } });
  switch (object.kind) {
    case "Deployment":
      // Kubernetes marks a stuck rollout ProgressDeadlineExceeded at its deadline; the provider (4.25)
      // only warns about that condition and waits on, so this bound is what fails `pulumi up`: 60 s
      // after the deadline (measured on the test cluster: deadline 90 s, failed at 150 s). It bounds
      // the whole rollout, so a long but progressing one must fit in it too.
      return bound(config.progressDeadlineSeconds + 60);
    case "Job":
      // A Job's pod template is immutable: a new release replaces it, and its fixed name must be free first.
      return { deleteBeforeReplace: true, ...bound((object.spec.activeDeadlineSeconds ?? config.readinessTimeoutSeconds) + 60) };
    case "StatefulSet":
    case "DaemonSet":
    case "Service":
      return bound(config.readinessTimeoutSeconds);
    case "Ingress":
      return awaitsIngress(config) ? bound(config.readinessTimeoutSeconds) : {};
    default:
      return {};
  }
}

/** The object as declared: an Ingress that is not waited for says so to the provider. */
function declared(object: KubernetesObject, config: KubernetesRenderConfig): KubernetesObject {
  if (object.kind !== "Ingress" || awaitsIngress(config)) return object;
  return { ...object, metadata: { ...object.metadata, annotations: { ...object.metadata.annotations, ...skipAwait } } };
}

export interface ApplyArgs {
  model: StackModel;
  config: KubernetesRenderConfig;
  secrets: SecretValues;
  /** The Platform: every resource is its child, named after it. */
  owner: TargetOwner;
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

export function applyKubernetesObjects({ model, config, secrets, owner }: ApplyArgs): TargetOutputs {
  const { parent } = owner;
  if (config.renderYamlToDirectory !== "") {
    pulumi.log.warn(
      `kubernetes.renderYamlToDirectory is set: manifests (Secret values in plaintext) go to ${config.renderYamlToDirectory}, nothing to a cluster`,
      parent,
    );
  }
  // Ordered (and checked for cycles) before anything is declared.
  const nodes = dependencyOrder(model, renderKubernetesObjects(model, config, secrets));
  // Renamed from `<project>-kubernetes` with an alias: the engine then takes the objects that reference
  // the old provider URN as on this one (no replacement); no field of the provider changes.
  const providerIdentity = targetResourceIdentity(owner, model.project, { kind: "kubernetes-provider" });
  const provider = new k8s.Provider(
    providerIdentity.name,
    {
      namespace: config.namespace,
      // Server-side apply (the v4 default, said here): the provider owns exactly the fields it sends,
      // so the HPA keeps spec.replicas (never sent for an autoscaled Deployment). With 4.25 a create
      // of an object that exists already (an interrupted update left it behind) adopts it.
      enableServerSideApply: true,
      // The stack's one Secret and the ConfigMaps keep fixed names: replacing them is delete-then-create,
      // a window in which a restarting pod cannot start. Updated in place instead; the pods that use
      // them roll through the pod template (config hash annotation, secret revisions variable).
      enableConfigMapMutable: true,
      enableSecretMutable: true,
      ...(config.context !== "" && { context: config.context }),
      ...(config.renderYamlToDirectory !== "" && { renderYamlToDirectory: config.renderYamlToDirectory }),
    },
    { parent, aliases: providerIdentity.aliases },
  );
  const guard = !model.allowDataLoss;
  // Plain names (not Outputs of other resources) keep every dependency an ordering-only dependsOn:
  // a replaced ConfigMap or Secret never forces its consumers to be replaced.
  const declaredResources = new Map<string, Resource>();
  for (const { object, key, uses } of nodes) {
    // `<platform>-<kind>-<name>`; the alias to `<kind>-<name>` keeps every object (protected ones too) as it is.
    const identity = targetResourceIdentity(owner, model.project, {
      kind: "kubernetes-object",
      objectKind: object.kind,
      objectName: object.metadata.name,
    });
    const resource = createResource(declared(object, config), identity.name, {
      parent,
      aliases: identity.aliases,
      provider,
      dependsOn: uses.map((used) => declaredResources.get(used) as Resource),
      ...(holdsData(object, config) && { protect: guard, retainOnDelete: guard }),
      ...readinessOptions(object, config),
    });
    declaredResources.set(key, resource);
  }
  return {
    appUrl: pulumi.output(appUrl(model, config.tls ?? true)),
    location: pulumi.output(`namespace ${config.namespace}`),
  };
}
