/**
 * Types of the plain Kubernetes objects the renderer produces.
 *
 * They are the upstream API schema types from `kubernetes-models` (imported as
 * types only, so nothing of it is loaded at run time), narrowed where Ballast
 * always sets a field (every object has a name) and widened in the two places a
 * Pulumi `Output` may pass through as a value: container images (built with
 * `@pulumi/docker`) and Secret values (only in the apply step).
 */
import type { IObjectMeta } from "@kubernetes-models/apimachinery/apis/meta/v1/ObjectMeta";
import type { IDaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import type { IDaemonSetSpec } from "kubernetes-models/apps/v1/DaemonSetSpec";
import type { IDeployment } from "kubernetes-models/apps/v1/Deployment";
import type { IDeploymentSpec } from "kubernetes-models/apps/v1/DeploymentSpec";
import type { IStatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import type { IStatefulSetSpec } from "kubernetes-models/apps/v1/StatefulSetSpec";
import type { IHorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler";
import type { ICronJob } from "kubernetes-models/batch/v1/CronJob";
import type { ICronJobSpec } from "kubernetes-models/batch/v1/CronJobSpec";
import type { IJob } from "kubernetes-models/batch/v1/Job";
import type { IJobSpec } from "kubernetes-models/batch/v1/JobSpec";
import type { IJobTemplateSpec } from "kubernetes-models/batch/v1/JobTemplateSpec";
import type { IIngress } from "kubernetes-models/networking.k8s.io/v1/Ingress";
import type { IIngressClass } from "kubernetes-models/networking.k8s.io/v1/IngressClass";
import type { INetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { INetworkPolicyPeer } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer";
import type { INetworkPolicyPort } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicyPort";
import type { IPodDisruptionBudget } from "kubernetes-models/policy/v1/PodDisruptionBudget";
import type { IClusterRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole";
import type { IClusterRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding";
import type { IRole } from "kubernetes-models/rbac.authorization.k8s.io/v1/Role";
import type { IRoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding";
import type { IConfigMap } from "kubernetes-models/v1/ConfigMap";
import type { IContainer } from "kubernetes-models/v1/Container";
import type { INamespace } from "kubernetes-models/v1/Namespace";
import type { IPersistentVolumeClaim } from "kubernetes-models/v1/PersistentVolumeClaim";
import type { IPodSpec } from "kubernetes-models/v1/PodSpec";
import type { IPodTemplateSpec } from "kubernetes-models/v1/PodTemplateSpec";
import type { IProbe } from "kubernetes-models/v1/Probe";
import type { ISecret } from "kubernetes-models/v1/Secret";
import type { IService } from "kubernetes-models/v1/Service";
import type { IServiceAccount } from "kubernetes-models/v1/ServiceAccount";
import type { IVolume } from "kubernetes-models/v1/Volume";
import type { IVolumeMount } from "kubernetes-models/v1/VolumeMount";
import type * as pulumi from "@pulumi/pulumi";
import type { ImageRef } from "../../spec";

export type { INetworkPolicyPeer as NetworkPolicyPeer, INetworkPolicyPort as NetworkPolicyPort };
export type { IProbe as Probe, IVolume as Volume, IVolumeMount as VolumeMount };

/** Every rendered object is named. */
export type ObjectMeta = IObjectMeta & { name: string };

/** Replaces the `metadata` of an upstream type with the named one. */
type Named<T extends { metadata?: IObjectMeta }> = Omit<T, "metadata"> & { metadata: ObjectMeta };

export type Container = Omit<IContainer, "image"> & { image: ImageRef };
export type PodSpec = Omit<IPodSpec, "containers" | "initContainers"> & { containers: Container[] };
export type PodTemplateSpec = Omit<IPodTemplateSpec, "spec" | "metadata"> & { metadata: IObjectMeta; spec: PodSpec };

/** A secret value: a placeholder in the pure render, a Pulumi secret Output in the apply step. */
export type SecretValue = string | pulumi.Output<string>;

export type NamespaceObject = Named<INamespace>;
export type SecretObject = Omit<Named<ISecret>, "data" | "stringData"> & { stringData: Record<string, SecretValue> };
export type ConfigMapObject = Named<IConfigMap>;
export type ServiceAccountObject = Named<IServiceAccount>;
export type RoleObject = Named<IRole>;
export type RoleBindingObject = Named<IRoleBinding>;
export type ClusterRoleObject = Named<IClusterRole>;
export type ClusterRoleBindingObject = Named<IClusterRoleBinding>;
export type PersistentVolumeClaimObject = Named<IPersistentVolumeClaim>;
export type DeploymentObject = Omit<Named<IDeployment>, "spec"> & {
  spec: Omit<IDeploymentSpec, "template"> & { template: PodTemplateSpec };
};
export type StatefulSetObject = Omit<Named<IStatefulSet>, "spec"> & {
  spec: Omit<IStatefulSetSpec, "template"> & { template: PodTemplateSpec };
};
export type DaemonSetObject = Omit<Named<IDaemonSet>, "spec"> & {
  spec: Omit<IDaemonSetSpec, "template"> & { template: PodTemplateSpec };
};
export type JobSpec = Omit<IJobSpec, "template"> & { template: PodTemplateSpec };
export type JobObject = Omit<Named<IJob>, "spec"> & { spec: JobSpec };
export type CronJobObject = Omit<Named<ICronJob>, "spec"> & {
  spec: Omit<ICronJobSpec, "jobTemplate"> & { jobTemplate: Omit<IJobTemplateSpec, "spec"> & { spec: JobSpec } };
};
export type ServiceObject = Named<IService>;
export type HorizontalPodAutoscalerObject = Named<IHorizontalPodAutoscaler>;
export type PodDisruptionBudgetObject = Named<IPodDisruptionBudget>;
export type IngressObject = Named<IIngress>;
export type IngressClassObject = Named<IIngressClass>;
export type NetworkPolicyObject = Named<INetworkPolicy>;

/**
 * KEDA's ScaledObject (keda.sh/v1alpha1), the fields Ballast writes. No kubernetes-models schema
 * exists for KEDA's CRDs: these follow its CRD (config/crd/bases/keda.sh_scaledobjects.yaml);
 * trigger metadata values are strings there.
 */
export interface ScaledObjectObject {
  apiVersion: "keda.sh/v1alpha1";
  kind: "ScaledObject";
  metadata: ObjectMeta;
  spec: {
    scaleTargetRef: { apiVersion: "apps/v1"; kind: "Deployment"; name: string };
    minReplicaCount: number;
    maxReplicaCount: number;
    /** Seconds between reads of the queue. */
    pollingInterval: number;
    /** Seconds after the last active trigger before scaling to minReplicaCount. */
    cooldownPeriod: number;
    triggers: {
      type: "redis" | "redis-streams";
      metadata: Record<string, string>;
      authenticationRef: { name: string };
    }[];
  };
}

/** KEDA's TriggerAuthentication (keda.sh/v1alpha1): trigger parameters read from Secret keys. */
export interface TriggerAuthenticationObject {
  apiVersion: "keda.sh/v1alpha1";
  kind: "TriggerAuthentication";
  metadata: ObjectMeta;
  spec: { secretTargetRef: { parameter: string; name: string; key: string }[] };
}

/** Everything the renderer can produce, discriminated by `kind`. */
export type KubernetesObject =
  | NamespaceObject
  | SecretObject
  | ConfigMapObject
  | ServiceAccountObject
  | RoleObject
  | RoleBindingObject
  | ClusterRoleObject
  | ClusterRoleBindingObject
  | PersistentVolumeClaimObject
  | DeploymentObject
  | StatefulSetObject
  | DaemonSetObject
  | JobObject
  | CronJobObject
  | ServiceObject
  | HorizontalPodAutoscalerObject
  | PodDisruptionBudgetObject
  | IngressObject
  | IngressClassObject
  | NetworkPolicyObject
  | ScaledObjectObject
  | TriggerAuthenticationObject;

export type KubernetesKind = KubernetesObject["kind"];

/** The object of one kind, e.g. `ObjectOfKind<"Deployment">`. */
export type ObjectOfKind<K extends KubernetesKind> = Extract<KubernetesObject, { kind: K }>;
