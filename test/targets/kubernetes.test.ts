/**
 * The Kubernetes target's pure render: schema validity of every object, and the
 * behaviour each object carries (scaling, probes, storage retention, routing,
 * network flows, hardening, RBAC, secret handling, review files).
 */
import * as pulumi from "@pulumi/pulumi";
import { DaemonSet, Deployment, StatefulSet } from "kubernetes-models/apps/v1";
import { HorizontalPodAutoscaler } from "kubernetes-models/autoscaling/v2";
import { ScaledObjectShape, TriggerAuthenticationShape } from "../fixtures/keda";
import { CronJob, Job } from "kubernetes-models/batch/v1";
import { Ingress, IngressClass, NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1";
import { PodDisruptionBudget } from "kubernetes-models/policy/v1";
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from "kubernetes-models/rbac.authorization.k8s.io/v1";
import { ConfigMap, Namespace, PersistentVolumeClaim, Secret, Service, ServiceAccount } from "kubernetes-models/v1";
import { describe, expect, it } from "vitest";
import { parse, parseAllDocuments } from "yaml";
import type { KubernetesConfig } from "../../components/config/types";
import { healthCheck, workload, type KubernetesApiAccess, type StackModel, type WorkloadSpec } from "../../components/spec";
import {
  KubernetesTarget,
  redactedSecretValue,
  renderKubernetesFiles,
  renderKubernetesObjects,
  type KubernetesKind,
  type KubernetesObject,
  type KubernetesRenderConfig,
  type ObjectOfKind,
  type PodTemplateSpec,
} from "../../components/targets/kubernetes";
import { fixtureMigrationJob, fixtureModel as fixtureOf, fixtureSecretValues } from "../fixtures/stack-model";

/** The fixture as the Kubernetes target receives it (the proxy has no Compose-only admin port or routing mount). */
const fixtureModel = (opts: Parameters<typeof fixtureOf>[0] = {}) => fixtureOf({ target: "kubernetes", ...opts });

const baseConfig: KubernetesConfig = {
  namespace: "ballast",
  storageClass: "",
  ingressClass: "traefik",
  deployTraefik: true,
  context: "",
  renderYamlToDirectory: "",
  ingressControllerNamespace: "kube-system",
  progressDeadlineSeconds: 240,
  publicService: "LoadBalancer",
  nodePorts: { http: 0, https: 0 },
  readinessTimeoutSeconds: 600,
  awaitIngressAddress: true,
  keda: { enabled: false, namespace: "keda" },
  internetEgressPorts: [443],
};

function render(
  model: StackModel = fixtureModel(),
  config: Partial<KubernetesRenderConfig> = {},
  secretData?: Record<string, string>,
): KubernetesObject[] {
  return renderKubernetesObjects(model, { ...baseConfig, ...config }, secretData);
}

function allOf<K extends KubernetesKind>(objects: KubernetesObject[], kind: K): ObjectOfKind<K>[] {
  return objects.filter((object): object is ObjectOfKind<K> => object.kind === kind);
}

function find<K extends KubernetesKind>(objects: KubernetesObject[], kind: K, name: string): ObjectOfKind<K> {
  const found = allOf(objects, kind).find((object) => object.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name} in the render`);
  return found;
}

function has(objects: KubernetesObject[], kind: KubernetesKind, name: string): boolean {
  return objects.some((object) => object.kind === kind && object.metadata.name === name);
}

type WorkloadObject = ObjectOfKind<"Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob">;

function isWorkloadObject(object: KubernetesObject): object is WorkloadObject {
  return ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"].includes(object.kind);
}

function podTemplateOf(object: WorkloadObject): PodTemplateSpec {
  return object.kind === "CronJob" ? object.spec.jobTemplate.spec.template : object.spec.template;
}

function podOf(objects: KubernetesObject[], name: string): PodTemplateSpec {
  const found = objects.filter(isWorkloadObject).find((object) => object.metadata.name === name);
  if (!found) throw new Error(`no workload ${name} in the render`);
  return podTemplateOf(found);
}

const containerOf = (objects: KubernetesObject[], name: string) => podOf(objects, name).spec.containers[0];

// The schema classes of kubernetes-models, by kind. Their shared base class does not resolve
// under this project's `node` module resolution, so `validate` is typed here.
type Validating = { validate(): void };
const schemas: Record<KubernetesKind, new (data: never) => unknown> = {
  Namespace,
  Secret,
  ConfigMap,
  ServiceAccount,
  Role,
  RoleBinding,
  ClusterRole,
  ClusterRoleBinding,
  PersistentVolumeClaim,
  Deployment,
  StatefulSet,
  DaemonSet,
  Job,
  CronJob,
  Service,
  HorizontalPodAutoscaler,
  PodDisruptionBudget,
  Ingress,
  IngressClass,
  NetworkPolicy,
  ScaledObject: ScaledObjectShape,
  TriggerAuthentication: TriggerAuthenticationShape,
};

const prometheusApiAccess: KubernetesApiAccess = {
  clusterRules: [
    { apiGroups: [""], resources: ["nodes", "nodes/metrics"], verbs: ["get", "list", "watch"] },
    { apiGroups: [], resources: [], verbs: ["get"], nonResourceURLs: ["/metrics"] },
  ],
  namespacedRules: [
    { apiGroups: [""], resources: ["pods", "services", "endpoints"], verbs: ["get", "list", "watch"] },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: ["list", "watch"] },
  ],
  kubeletPort: true,
};

/** The fixture plus the shapes it lacks: API access and a secret file, a one-shot migration, a job with storage. */
function extendedModel(opts: { allowDataLoss?: boolean } = {}): StackModel {
  const base = fixtureModel(opts);
  const prometheus = workload({
    name: "prometheus",
    component: "observability",
    role: "stateful",
    description: "Metrics",
    image: "prom/prometheus:v2.54.1",
    ports: [{ name: "http", port: 9090 }],
    health: healthCheck({ http: { path: "/-/ready", port: 9090 } }),
    resources: { requests: { cpu: 0.25, memoryMiB: 512 }, limits: { cpu: 1, memoryMiB: 1024 } },
    volumes: [{ kind: "persistent", name: "prometheus-data", mountPath: "/prometheus", sizeGiB: 10 }],
    configFiles: [{ name: "prometheus.yml", mountPath: "/etc/prometheus/prometheus.yml", content: "scrape_configs: []\n" }],
    secretFiles: [{ secret: "alert-webhook", mountPath: "/etc/prometheus/secrets/webhook" }],
    network: { fromProxy: false, allowFrom: [], egressInternet: false },
    security: {
      runAsUser: 65534,
      runAsGroup: 65534,
      readOnlyRootFilesystem: true,
      addCapabilities: [],
      runAsRoot: false,
      privileged: false,
      hostPid: false,
      hostNetwork: false,
      kubernetesApi: prometheusApiAccess,
    },
  });
  const migrate = fixtureMigrationJob();
  const backup = workload({
    name: "backup",
    component: "backups",
    role: "job",
    description: "Nightly pg_dump",
    image: "pgvector/pgvector:pg16",
    command: ["/scripts/backup.sh"],
    secretEnv: { PGPASSWORD: "postgres-password" },
    schedule: "30 2 * * *",
    jobTimeoutSeconds: 3600,
    resources: { requests: { cpu: 0.25, memoryMiB: 256 }, limits: { cpu: 1, memoryMiB: 1024 } },
    volumes: [{ kind: "persistent", name: "backups", mountPath: "/backups", sizeGiB: 50 }],
  });
  const workloads = base.workloads.map((spec) =>
    spec.name === "postgres"
      ? { ...spec, network: { ...spec.network, allowFrom: [...spec.network.allowFrom, "migrate", "backup"] } }
      : spec,
  );
  return {
    ...base,
    workloads: [...workloads, prometheus, migrate, backup],
    secrets: [...base.secrets, { name: "alert-webhook", description: "Alert receiver", rotation: "by hand", immutable: false }],
  };
}

const extendedSecretValues = { ...fixtureSecretValues, "alert-webhook": "LEAKCHECKhook004" };

describe("schema", () => {
  const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
  const labelValue = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

  for (const allowDataLoss of [false, true]) {
    for (const [label, model] of [
      ["fixture", () => fixtureModel({ allowDataLoss })],
      ["extended fixture", () => extendedModel({ allowDataLoss })],
    ] as const) {
      it(`every object of the ${label} validates against the Kubernetes schema (allowDataLoss ${allowDataLoss})`, () => {
        const objects = render(model());
        expect(objects.length).toBeGreaterThan(20);
        for (const object of objects) {
          const Schema = schemas[object.kind];
          expect(() => (new Schema(object as never) as Validating).validate(), `${object.kind}/${object.metadata.name}`).not.toThrow();
        }
      });
    }
  }

  it("names are DNS subdomains and label values are valid (what the schema does not check)", () => {
    for (const object of render(extendedModel())) {
      expect(object.metadata.name, object.kind).toMatch(dns1123Subdomain);
      expect(object.metadata.name.length).toBeLessThanOrEqual(63);
      for (const value of Object.values(object.metadata.labels ?? {})) expect(value).toMatch(labelValue);
      if (isWorkloadObject(object)) {
        for (const value of Object.values(podTemplateOf(object).metadata.labels ?? {})) expect(value).toMatch(labelValue);
      }
    }
  });

  it("namespaced objects carry the namespace, cluster-scoped ones do not; the agents' objects are in the agents' namespace", () => {
    const inAgentsNamespace: string[] = [];
    for (const object of render(extendedModel())) {
      const clusterScoped = ["Namespace", "ClusterRole", "ClusterRoleBinding", "IngressClass"].includes(object.kind);
      if (clusterScoped) expect(object.metadata.namespace, `${object.kind}/${object.metadata.name}`).toBeUndefined();
      else expect(["ballast", "ballast-agents"], `${object.kind}/${object.metadata.name}`).toContain(object.metadata.namespace);
      if (object.metadata.namespace === "ballast-agents") inAgentsNamespace.push(`${object.kind}/${object.metadata.name}`);
    }
    // The per-node agent (node-exporter), its objects, the agents' default-deny, and Prometheus' pod discovery there.
    expect(inAgentsNamespace).toEqual([
      "ServiceAccount/node-exporter",
      "Role/prometheus-ballast-agents",
      "RoleBinding/prometheus-ballast-agents",
      "DaemonSet/node-exporter",
      "Service/node-exporter",
      "NetworkPolicy/default-deny-agents",
      "NetworkPolicy/node-exporter",
    ]);
  });
});

describe("Deployments", () => {
  const objects = render();

  it("leave replicas to the HPA when autoscaled, and declare them otherwise", () => {
    expect(find(objects, "Deployment", "app").spec).not.toHaveProperty("replicas");
    expect(find(objects, "Deployment", "worker").spec).not.toHaveProperty("replicas");
    expect(find(objects, "Deployment", "traefik").spec.replicas).toBe(1);
  });

  it("autoscale the app 3-10 at 70 % and the workers 5-20 at 80 % CPU", () => {
    for (const [name, min, max, cpu] of [
      ["app", 3, 10, 70],
      ["worker", 5, 20, 80],
    ] as const) {
      const hpa = find(objects, "HorizontalPodAutoscaler", name);
      expect(hpa.spec?.scaleTargetRef).toEqual({ apiVersion: "apps/v1", kind: "Deployment", name });
      expect(hpa.spec?.minReplicas).toBe(min);
      expect(hpa.spec?.maxReplicas).toBe(max);
      expect(hpa.spec?.metrics).toEqual([
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: cpu } } },
      ]);
    }
    expect(allOf(objects, "HorizontalPodAutoscaler").map((hpa) => hpa.metadata.name)).toEqual(["app", "worker"]);
  });

  it("roll out without ever dropping below capacity", () => {
    for (const name of ["app", "worker"]) {
      expect(find(objects, "Deployment", name).spec.strategy).toEqual({
        type: "RollingUpdate",
        rollingUpdate: { maxUnavailable: 0, maxSurge: "25%" },
      });
    }
  });

  it("recreate a single-replica Deployment whose ReadWriteOnce claim cannot follow a surge pod", () => {
    expect(find(objects, "Deployment", "traefik").spec.strategy).toEqual({ type: "Recreate" });
  });

  it("spread replicated pods over nodes", () => {
    expect(podOf(objects, "app").spec.topologySpreadConstraints).toEqual([
      {
        maxSkew: 1,
        topologyKey: "kubernetes.io/hostname",
        whenUnsatisfiable: "ScheduleAnyway",
        labelSelector: { matchLabels: { "app.kubernetes.io/name": "app", "app.kubernetes.io/part-of": "ballast" } },
      },
    ]);
    expect(podOf(objects, "traefik").spec.topologySpreadConstraints).toBeUndefined();
  });

  it("derive startup, readiness and liveness probes from the health check", () => {
    const app = containerOf(objects, "app");
    const httpGet = { path: "/api/health", port: 3000 };
    // 30 s start period at 10 s intervals, plus the 5 retries.
    expect(app.startupProbe).toEqual({ httpGet, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 8 });
    expect(app.readinessProbe).toEqual({ httpGet, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 });
    expect(app.livenessProbe).toEqual({ httpGet, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 5 });
    expect(containerOf(objects, "postgres").livenessProbe?.exec).toEqual({ command: ["pg_isready", "-U", "app", "-d", "app"] });
    const worker = containerOf(objects, "worker");
    expect(worker.startupProbe ?? worker.readinessProbe ?? worker.livenessProbe).toBeUndefined();
  });

  it("turn a tcp health check into tcpSocket probes", () => {
    const model = fixtureModel();
    model.workloads = model.workloads.map((spec) =>
      spec.name === "redis" ? { ...spec, health: healthCheck({ tcp: { port: 6379 } }) } : spec,
    );
    expect(containerOf(render(model), "redis").readinessProbe?.tcpSocket).toEqual({ port: 6379 });
  });

  it("request and limit CPU and memory", () => {
    expect(containerOf(objects, "app").resources).toEqual({
      requests: { cpu: "1", memory: "2Gi" },
      limits: { cpu: "2", memory: "4Gi" },
    });
    expect(containerOf(objects, "cron-cleanup").resources).toEqual({
      requests: { cpu: "250m", memory: "256Mi" },
      limits: { cpu: "500m", memory: "512Mi" },
    });
  });

  it("annotate pods with metrics for Prometheus discovery", () => {
    expect(podOf(objects, "app").metadata.annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "3000",
      "prometheus.io/path": "/api/v1/metrics",
    });
    expect(podOf(objects, "worker").metadata.annotations ?? {}).not.toHaveProperty("prometheus.io/scrape");
  });

  it("label objects and pods with the recommended labels", () => {
    const expected = {
      "app.kubernetes.io/name": "worker",
      "app.kubernetes.io/component": "workers",
      "app.kubernetes.io/part-of": "ballast",
      "app.kubernetes.io/managed-by": "ballast",
    };
    const worker = find(objects, "Deployment", "worker");
    expect(worker.metadata.labels).toEqual(expected);
    expect(worker.spec.template.metadata.labels).toEqual(expected);
    expect(worker.spec.selector.matchLabels).toEqual({ "app.kubernetes.io/name": "worker", "app.kubernetes.io/part-of": "ballast" });
  });

  it("get disruption budgets only when at least two replicas remain to drain one at a time", () => {
    expect(allOf(objects, "PodDisruptionBudget").map((pdb) => pdb.metadata.name)).toEqual(["app", "worker"]);
    expect(find(objects, "PodDisruptionBudget", "app").spec).toEqual({
      maxUnavailable: 1,
      selector: { matchLabels: { "app.kubernetes.io/name": "app", "app.kubernetes.io/part-of": "ballast" } },
      unhealthyPodEvictionPolicy: "AlwaysAllow",
    });
  });

  it("are reached through a ClusterIP Service on their ports", () => {
    expect(find(objects, "Service", "app").spec).toEqual({
      type: "ClusterIP",
      selector: { "app.kubernetes.io/name": "app", "app.kubernetes.io/part-of": "ballast" },
      ports: [{ name: "http", port: 3000, targetPort: "http", protocol: "TCP" }],
    });
    expect(has(objects, "Service", "worker")).toBe(false);
  });
});

describe("StatefulSets", () => {
  it("run one replica with retained claims behind headless and ClusterIP Services", () => {
    const objects = render();
    const postgres = find(objects, "StatefulSet", "postgres");
    expect(postgres.spec.replicas).toBe(1);
    expect(postgres.spec.serviceName).toBe("postgres-headless");
    expect(postgres.spec.persistentVolumeClaimRetentionPolicy).toEqual({ whenDeleted: "Retain", whenScaled: "Retain" });
    expect(postgres.spec.volumeClaimTemplates).toHaveLength(1);
    expect(postgres.spec.volumeClaimTemplates?.[0].metadata?.name).toBe("postgres-data");
    // As the API server stores the template (volumeMode and status filled): kubectl apply stays idempotent.
    expect(postgres.spec.volumeClaimTemplates?.[0].spec).toEqual({
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "20Gi" } },
      volumeMode: "Filesystem",
    });
    expect(postgres.spec.volumeClaimTemplates?.[0].status).toEqual({ phase: "Pending" });
    expect(postgres.spec.volumeClaimTemplates?.[0]).toMatchObject({ apiVersion: "v1", kind: "PersistentVolumeClaim" });
    expect(containerOf(objects, "postgres").volumeMounts).toContainEqual({ name: "postgres-data", mountPath: "/var/lib/postgresql/data" });
    // The claim template is the volume: no pod volume of that name.
    expect(podOf(objects, "postgres").spec.volumes?.map((volume) => volume.name)).not.toContain("postgres-data");
    expect(find(objects, "Service", "postgres-headless").spec?.clusterIP).toBe("None");
    expect(find(objects, "Service", "postgres").spec?.type).toBe("ClusterIP");
    expect(find(objects, "StatefulSet", "redis").spec.persistentVolumeClaimRetentionPolicy?.whenDeleted).toBe("Retain");
  });

  it("delete claims with the StatefulSet only when the stack allows data loss", () => {
    const objects = render(fixtureModel({ allowDataLoss: true }));
    for (const name of ["postgres", "redis"]) {
      expect(find(objects, "StatefulSet", name).spec.persistentVolumeClaimRetentionPolicy).toEqual({
        whenDeleted: "Delete",
        whenScaled: "Retain",
      });
    }
  });

  it("use the configured storage class for every claim, and the cluster default when it is empty", () => {
    const classed = render(extendedModel(), { storageClass: "fast-ssd" });
    expect(find(classed, "StatefulSet", "postgres").spec.volumeClaimTemplates?.[0].spec?.storageClassName).toBe("fast-ssd");
    expect(find(classed, "PersistentVolumeClaim", "backups").spec?.storageClassName).toBe("fast-ssd");
    const unclassed = render(extendedModel());
    expect(find(unclassed, "StatefulSet", "postgres").spec.volumeClaimTemplates?.[0].spec).not.toHaveProperty("storageClassName");
    expect(find(unclassed, "PersistentVolumeClaim", "backups").spec).not.toHaveProperty("storageClassName");
  });

  it("keep every Service but the proxy's public one inside the cluster", () => {
    for (const service of allOf(render(extendedModel()), "Service")) {
      expect(service.spec?.type, service.metadata.name).toBe(service.metadata.name === "traefik-public" ? "LoadBalancer" : "ClusterIP");
    }
  });

  it("need no disruption budget: one replica cannot be kept available through a drain", () => {
    const budgets = allOf(render(extendedModel()), "PodDisruptionBudget").map((pdb) => pdb.metadata.name);
    for (const name of ["postgres", "redis", "prometheus"]) expect(budgets).not.toContain(name);
  });
});

describe("config files", () => {
  it("become one ConfigMap per workload, mounted file by file with subPath", () => {
    const objects = render();
    expect(allOf(objects, "ConfigMap").map((map) => map.metadata.name)).toEqual(["traefik-config", "postgres-config", "redis-config"]);
    expect(find(objects, "ConfigMap", "redis-config").data).toEqual({ "redis.conf": "maxmemory 256mb\n" });
    expect(containerOf(objects, "redis").volumeMounts).toContainEqual({
      name: "ballast-config",
      mountPath: "/usr/local/etc/redis/redis.conf",
      subPath: "redis.conf",
      readOnly: true,
    });
    expect(podOf(objects, "redis").spec.volumes).toContainEqual({
      name: "ballast-config",
      configMap: { name: "redis-config", items: [{ key: "redis.conf", path: "redis.conf", mode: 0o444 }] },
    });
  });

  it("roll the pods through a hash annotation when a file changes", () => {
    const hashOf = (content: string) => {
      const model = fixtureModel();
      model.workloads = model.workloads.map((spec) =>
        spec.name === "redis" ? { ...spec, configFiles: [{ ...spec.configFiles[0], content }] } : spec,
      );
      return podOf(render(model), "redis").metadata.annotations?.["ballast/config-hash"];
    };
    expect(hashOf("maxmemory 256mb\n")).toMatch(/^[0-9a-f]{16}$/);
    expect(hashOf("maxmemory 256mb\n")).toBe(hashOf("maxmemory 256mb\n"));
    expect(hashOf("maxmemory 512mb\n")).not.toBe(hashOf("maxmemory 256mb\n"));
    expect(podOf(render(), "app").metadata.annotations ?? {}).not.toHaveProperty("ballast/config-hash");
  });
});

describe("agents", () => {
  it("run as a DaemonSet with their host paths, and host PID only when asked", () => {
    const objects = render();
    const exporter = find(objects, "DaemonSet", "node-exporter");
    const pod = exporter.spec.template.spec;
    expect(pod.hostPID).toBe(true);
    expect(pod).not.toHaveProperty("hostNetwork");
    expect(pod.volumes).toEqual([{ name: "rootfs", hostPath: { path: "/" } }]);
    expect(pod.containers[0].volumeMounts).toEqual([{ name: "rootfs", mountPath: "/host", readOnly: true }]);
    expect(podOf(objects, "app").spec).not.toHaveProperty("hostPID");
  });

  it("use the node's network with cluster DNS when asked, and are reached on their own node", () => {
    const model = fixtureModel();
    model.workloads = model.workloads.map((spec) =>
      spec.name === "node-exporter" ? { ...spec, security: { ...spec.security, hostNetwork: true } } : spec,
    );
    const objects = render(model);
    expect(podOf(objects, "node-exporter").spec).toMatchObject({ hostNetwork: true, dnsPolicy: "ClusterFirstWithHostNet" });
    expect(find(objects, "Service", "node-exporter").spec?.internalTrafficPolicy).toBe("Local");
  });
});

describe("jobs", () => {
  it("with a schedule become a CronJob that never overlaps and is killed at its timeout", () => {
    const cron = find(render(), "CronJob", "cron-cleanup");
    expect(cron.spec).toMatchObject({
      schedule: "0 3 * * *",
      timeZone: "Etc/UTC",
      concurrencyPolicy: "Forbid",
      successfulJobsHistoryLimit: 3,
      failedJobsHistoryLimit: 3,
    });
    expect(cron.spec.jobTemplate.spec).toMatchObject({ activeDeadlineSeconds: 600, backoffLimit: 2 });
    expect(cron.spec.jobTemplate.spec.template.spec.restartPolicy).toBe("Never");
  });

  it("without a schedule become a one-shot Job that the cluster keeps after it finishes", () => {
    const migrate = find(render(extendedModel()), "Job", "migrate");
    expect(migrate.spec).toMatchObject({ activeDeadlineSeconds: 300, backoffLimit: 2 });
    expect(migrate.spec).not.toHaveProperty("ttlSecondsAfterFinished");
    expect(migrate.spec.template.spec.restartPolicy).toBe("Never");
    expect(migrate.spec.template.spec.containers[0].startupProbe).toBeUndefined();
  });

  it("mount persistent volumes through a standalone claim named after the volume", () => {
    const objects = render(extendedModel());
    expect(find(objects, "PersistentVolumeClaim", "backups").spec).toEqual({
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: "50Gi" } },
    });
    const pod = podOf(objects, "backup");
    expect(pod.spec.volumes).toContainEqual({ name: "backups", persistentVolumeClaim: { claimName: "backups" } });
    expect(pod.spec.containers[0].volumeMounts).toContainEqual({ name: "backups", mountPath: "/backups" });
  });
});

describe("the proxy and ingress", () => {
  it("exposes exactly the published ports through a LoadBalancer that keeps client addresses", () => {
    const objects = render();
    expect(find(objects, "Service", "traefik-public").spec).toEqual({
      type: "LoadBalancer",
      externalTrafficPolicy: "Local",
      selector: { "app.kubernetes.io/name": "traefik", "app.kubernetes.io/part-of": "ballast" },
      ports: [
        { name: "web", port: 80, targetPort: "web", protocol: "TCP" },
        { name: "websecure", port: 443, targetPort: "websecure", protocol: "TCP" },
      ],
    });
    // Our Traefik routes from its file: no IngressClass, no Ingress it would have to read.
    expect(allOf(objects, "IngressClass")).toEqual([]);
    expect(allOf(objects, "Ingress")).toEqual([]);
  });

  it("offers the entry point as node ports (fixed or assigned) or a ClusterIP behind an existing ingress", () => {
    const nodePorts = find(
      render(fixtureModel(), { publicService: "NodePort", nodePorts: { http: 30080, https: 0 } }),
      "Service",
      "traefik-public",
    ).spec;
    expect(nodePorts?.type).toBe("NodePort");
    expect(nodePorts?.externalTrafficPolicy).toBe("Local");
    expect(nodePorts?.ports).toEqual([
      { name: "web", port: 80, targetPort: "web", protocol: "TCP", nodePort: 30080 },
      { name: "websecure", port: 443, targetPort: "websecure", protocol: "TCP" },
    ]);
    const clusterIp = find(render(fixtureModel(), { publicService: "ClusterIP" }), "Service", "traefik-public").spec;
    expect(clusterIp?.type).toBe("ClusterIP");
    // The API refuses externalTrafficPolicy on a ClusterIP Service.
    expect(clusterIp).not.toHaveProperty("externalTrafficPolicy");
    expect(clusterIp?.ports?.map((port) => port.port)).toEqual([80, 443]);
  });

  it("routes the app from Traefik's routes file: TLS with its resolver, the security headers, to the app's Service", () => {
    const objects = render();
    expect(routesOf(objects)).toEqual({
      http: {
        routers: {
          app: {
            rule: "Host(`app.example.com`)",
            service: "app",
            entryPoints: ["websecure"],
            tls: { certResolver: "letsencrypt" },
            middlewares: ["security-headers"],
          },
        },
        services: { app: { loadBalancer: { servers: [{ url: "http://app:3000" }] } } },
      },
    });
    // The file provider's directory holds it, from Traefik's ConfigMap.
    expect(containerOf(objects, "traefik").volumeMounts).toContainEqual({
      name: "ballast-config",
      mountPath: "/etc/traefik/dynamic/routes.yml",
      subPath: "routes.yml",
      readOnly: true,
    });
  });

  it("gives Traefik no Kubernetes API access: no token, no Role, no egress to the API server", () => {
    const objects = render();
    expect(find(objects, "ServiceAccount", "traefik").automountServiceAccountToken).toBe(false);
    expect(podOf(objects, "traefik").spec.automountServiceAccountToken).toBe(false);
    const rbac = objects.filter((object) => ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"].includes(object.kind));
    expect(rbac.filter((object) => object.metadata.name.includes("traefik"))).toEqual([]);
    const egressPorts = (find(objects, "NetworkPolicy", "traefik").spec?.egress ?? []).flatMap((rule) =>
      (rule.ports ?? []).map((port) => port.port),
    );
    expect(egressPorts).not.toContain(6443);
  });

  it("runs a stateful proxy (the proxy component's shape) as a StatefulSet that keeps its ACME store", () => {
    const model = fixtureModel();
    model.workloads = model.workloads.map((spec) =>
      spec.name === "traefik"
        ? {
            ...spec,
            role: "stateful" as const,
            ports: [
              { name: "web", port: 8000, publish: 80 },
              { name: "websecure", port: 8443, publish: 443 },
              { name: "metrics", port: 8082 },
            ],
            volumes: [{ kind: "persistent" as const, name: "traefik-acme", mountPath: "/acme", sizeGiB: 1 }],
            security: { ...spec.security, runAsUser: 65532 },
          }
        : spec,
    );
    const objects = render(model);
    expect(find(objects, "StatefulSet", "traefik").spec.volumeClaimTemplates?.map((claim) => claim.metadata?.name)).toEqual([
      "traefik-acme",
    ]);
    expect(allOf(objects, "PersistentVolumeClaim")).toEqual([]);
    expect(find(objects, "Service", "traefik-public").spec?.ports).toEqual([
      { name: "web", port: 80, targetPort: "web", protocol: "TCP" },
      { name: "websecure", port: 443, targetPort: "websecure", protocol: "TCP" },
    ]);
    expect(allowedIngress(objects, "traefik")).toEqual(expect.arrayContaining(["anywhere:8000", "anywhere:8443"]));
    expect(allowedIngress(objects, "traefik")).not.toContain("anywhere:8082");
    expect(routesOf(objects).http.routers.app.tls).toEqual({ certResolver: "letsencrypt" });
  });

  it("serves plain HTTP on the web entry point when TLS is off", () => {
    const plain = { rule: "Host(`app.example.com`)", service: "app", entryPoints: ["web"] };
    expect(routesOf(render(fixtureModel({ tls: false }))).http.routers.app).toEqual(plain);
    expect(routesOf(render(fixtureModel(), { tls: false })).http.routers.app).toEqual(plain);
  });

  describe("with an existing ingress controller", () => {
    const objects = render(fixtureModel(), { deployTraefik: false, ingressClass: "nginx", ingressControllerNamespace: "ingress-nginx" });

    it("renders nothing of the proxy workload", () => {
      const proxyObjects = objects.filter((object) => object.metadata.name.startsWith("traefik"));
      expect(proxyObjects).toEqual([]);
      expect(allOf(objects, "IngressClass")).toEqual([]);
    });

    it("uses the configured class and a certificate Secret instead of our resolver and middleware", () => {
      const app = find(objects, "Ingress", "app");
      expect(app.spec?.ingressClassName).toBe("nginx");
      expect(app.spec?.tls).toEqual([{ hosts: ["app.example.com"], secretName: "app-tls" }]);
      expect(Object.keys(app.metadata.annotations ?? {})).toEqual([
        "traefik.ingress.kubernetes.io/router.entrypoints",
        "traefik.ingress.kubernetes.io/router.tls",
      ]);
    });

    it("lets the controller's namespace reach the routed port", () => {
      expect(find(objects, "NetworkPolicy", "app").spec?.ingress).toContainEqual({
        from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } } }],
        ports: [{ protocol: "TCP", port: 3000 }],
      });
    });
  });
});

/** Traefik's routes file, parsed from its ConfigMap. */
function routesOf(objects: KubernetesObject[]): {
  http: { routers: Record<string, Record<string, unknown>>; services: Record<string, unknown> };
} {
  return parse(find(objects, "ConfigMap", "traefik-config").data?.["routes.yml"] ?? "");
}

/** Every allowed (peer, port) pair into a workload's pods, over all policies that select them. */
function allowedIngress(objects: KubernetesObject[], name: string): string[] {
  const labels = podOf(objects, name).metadata.labels ?? {};
  const selects = (policy: ObjectOfKind<"NetworkPolicy">) =>
    Object.entries(policy.spec?.podSelector?.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
  const pairs: string[] = [];
  for (const policy of allOf(objects, "NetworkPolicy").filter(selects)) {
    for (const rule of policy.spec?.ingress ?? []) {
      const peers = rule.from?.map((peer) =>
        peer.podSelector ? String(peer.podSelector.matchLabels?.["app.kubernetes.io/name"]) : JSON.stringify(peer),
      ) ?? ["anywhere"];
      for (const peer of peers) for (const port of rule.ports ?? [{ port: "all" }]) pairs.push(`${peer}:${port.port}`);
    }
  }
  return pairs.sort();
}

function egressOf(objects: KubernetesObject[], name: string) {
  return find(objects, "NetworkPolicy", name).spec?.egress ?? [];
}

describe("network policies", () => {
  const objects = render();

  it("deny all traffic to and from the stack's pods except DNS", () => {
    expect(find(objects, "NetworkPolicy", "default-deny").spec).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/part-of": "ballast" } },
      policyTypes: ["Ingress", "Egress"],
      egress: [
        {
          to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } } }],
          ports: [
            { protocol: "UDP", port: 53 },
            { protocol: "TCP", port: 53 },
          ],
        },
      ],
    });
  });

  it("let postgres accept only app, worker, cron and prometheus, on 5432", () => {
    expect(allowedIngress(objects, "postgres")).toEqual(["app:5432", "cron-cleanup:5432", "prometheus:5432", "worker:5432"]);
    expect(allowedIngress(objects, "redis")).toEqual(["app:6379", "cron-cleanup:6379", "worker:6379"]);
  });

  it("let the app accept the proxy on its routed port and Prometheus on its ports", () => {
    expect(allowedIngress(objects, "app")).toEqual(["prometheus:3000", "traefik:3000"]);
    expect(allowedIngress(objects, "worker")).toEqual([]);
  });

  it("let anyone reach the proxy's published ports", () => {
    expect(allowedIngress(objects, "traefik")).toEqual(
      ["anywhere:80", "anywhere:443", "prometheus:443", "prometheus:80", "prometheus:8082"].sort(),
    );
  });

  it("let clients reach the workloads that allow them, and the internet when they need it", () => {
    const app = egressOf(objects, "app");
    expect(app).toContainEqual({
      to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "postgres", "app.kubernetes.io/part-of": "ballast" } } }],
      ports: [{ protocol: "TCP", port: 5432 }],
    });
    expect(app).toContainEqual({
      to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "redis", "app.kubernetes.io/part-of": "ballast" } } }],
      ports: [{ protocol: "TCP", port: 6379 }],
    });
    const internet = app.find((rule) => rule.to?.some((peer) => peer.ipBlock?.cidr === "0.0.0.0/0"));
    expect(internet?.to?.[0].ipBlock?.except).toEqual(
      expect.arrayContaining(["10.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16"]),
    );
    // The app reaches public addresses on HTTPS only (kubernetes.internetEgressPorts).
    expect(internet?.ports).toEqual([{ protocol: "TCP", port: 443 }]);
    expect(egressOf(objects, "traefik")).toContainEqual({
      to: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "app", "app.kubernetes.io/part-of": "ballast" } } }],
      ports: [{ protocol: "TCP", port: 3000 }],
    });
  });

  it("limit the stack's own code to kubernetes.internetEgressPorts on public addresses; the platform's parts keep every port", () => {
    const internetPorts = (rendered: KubernetesObject[], name: string) =>
      egressOf(rendered, name).find((rule) => rule.to?.some((peer) => peer.ipBlock?.cidr === "0.0.0.0/0"))?.ports;
    const declared = render(fixtureModel(), { internetEgressPorts: [443, 5432, 587] });
    const expected = [
      { protocol: "TCP", port: 443 },
      { protocol: "TCP", port: 5432 },
      { protocol: "TCP", port: 587 },
    ];
    for (const name of ["app", "worker", "cron-cleanup"]) expect(internetPorts(declared, name), name).toEqual(expected);
    // Traefik's ACME client talks to the directory the stack names, on its port.
    expect(internetPorts(declared, "traefik")).toBeUndefined();
  });

  it("give datastores and agents without internet access no egress beyond DNS", () => {
    for (const name of ["postgres", "redis", "node-exporter"]) {
      const policy = find(objects, "NetworkPolicy", name);
      expect(policy.spec?.policyTypes, name).toEqual(["Ingress"]);
      expect(policy.spec?.egress, name).toBeUndefined();
    }
  });

  it("let API clients reach the API server, whose address the cluster decides", () => {
    expect(egressOf(render(extendedModel()), "prometheus")).toContainEqual({
      to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }],
      ports: [
        { protocol: "TCP", port: 443 },
        { protocol: "TCP", port: 6443 },
      ],
    });
    expect(egressOf(objects, "app").some((rule) => rule.ports?.some((port) => port.port === 6443))).toBe(false);
  });

  it("let Prometheus, and only Prometheus, reach the kubelets' port for container metrics", () => {
    const extended = render(extendedModel());
    expect(egressOf(extended, "prometheus")).toContainEqual({
      to: [{ ipBlock: { cidr: "0.0.0.0/0" } }, { ipBlock: { cidr: "::/0" } }],
      ports: [{ protocol: "TCP", port: 10250 }],
    });
    const kubeletClients = extended
      .filter((o) => o.kind === "NetworkPolicy")
      .filter((o) => JSON.stringify(o.spec?.egress ?? []).includes('"port":10250'))
      .map((o) => o.metadata?.name);
    expect(kubeletClients).toEqual(["prometheus"]);
  });
});

describe("hardening", () => {
  it("applies to every pod: non-root, RuntimeDefault seccomp, no escalation, all capabilities dropped", () => {
    const model = extendedModel();
    const objects = render(model);
    for (const spec of model.workloads) {
      const pod = podOf(objects, spec.name);
      expect(pod.spec.securityContext, spec.name).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
      expect(pod.spec.enableServiceLinks, spec.name).toBe(false);
      expect(pod.spec.containers[0].securityContext, spec.name).toEqual({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: spec.security.readOnlyRootFilesystem,
        capabilities: { drop: ["ALL"] },
      });
    }
  });

  it("takes users, groups and fsGroup from the spec", () => {
    expect(podOf(render(), "postgres").spec.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 999,
      runAsGroup: 999,
      fsGroup: 999,
      fsGroupChangePolicy: "OnRootMismatch",
      seccompProfile: { type: "RuntimeDefault" },
    });
  });

  it("gives scratch volumes as size-limited emptyDirs and ignores the Docker socket", () => {
    const objects = render();
    expect(podOf(objects, "app").spec.volumes).toEqual([{ name: "tmp", emptyDir: { sizeLimit: "256Mi" } }]);
    expect(podOf(objects, "postgres").spec.volumes).toContainEqual({ name: "run", emptyDir: {} });
    const traefik = podOf(objects, "traefik").spec;
    expect(traefik.volumes?.map((volume) => volume.name)).not.toContain("docker-socket");
    expect(traefik.containers[0].volumeMounts?.map((mount) => mount.mountPath)).not.toContain("/var/run/docker.sock");
  });

  it("adds back capabilities, root and privilege only when the spec asks", () => {
    const model = fixtureModel();
    model.workloads = model.workloads.map((spec) => {
      if (spec.name === "traefik") return { ...spec, security: { ...spec.security, addCapabilities: ["NET_BIND_SERVICE"] } };
      if (spec.name === "node-exporter") return { ...spec, security: { ...spec.security, privileged: true } };
      if (spec.name === "worker") return { ...spec, security: { ...spec.security, runAsRoot: true } };
      return spec;
    });
    const objects = render(model);
    expect(containerOf(objects, "traefik").securityContext?.capabilities).toEqual({ drop: ["ALL"], add: ["NET_BIND_SERVICE"] });
    expect(containerOf(objects, "node-exporter").securityContext).toEqual({
      privileged: true,
      readOnlyRootFilesystem: true,
      capabilities: { drop: ["ALL"] },
    });
    expect(podOf(objects, "worker").spec.securityContext?.runAsNonRoot).toBe(false);
  });

  it("refuses user 0 unless the spec asks for root", () => {
    const model = fixtureModel();
    model.workloads = model.workloads.map((spec) =>
      spec.name === "app" ? { ...spec, security: { ...spec.security, runAsUser: 0 } } : spec,
    );
    expect(() => render(model)).toThrow(/workload "app": runAsUser 0 needs security.runAsRoot/);
  });
});

describe("service accounts and RBAC", () => {
  it("give each workload its own account, without an API token unless it uses the API", () => {
    const model = extendedModel();
    const objects = render(model);
    expect(allOf(objects, "ServiceAccount").map((account) => account.metadata.name)).toEqual(model.workloads.map((spec) => spec.name));
    for (const spec of model.workloads) {
      const apiUser = spec.name === "prometheus";
      expect(find(objects, "ServiceAccount", spec.name).automountServiceAccountToken, spec.name).toBe(apiUser);
      expect(podOf(objects, spec.name).spec).toMatchObject({ serviceAccountName: spec.name, automountServiceAccountToken: apiUser });
    }
  });

  it("renders exactly the spec's rules: a Role for namespaced ones, a ClusterRole for cluster-wide ones", () => {
    const objects = render(extendedModel());
    const subjects = [{ kind: "ServiceAccount", name: "prometheus", namespace: "ballast" }];
    expect(find(objects, "Role", "prometheus").rules).toEqual(prometheusApiAccess.namespacedRules);
    expect(find(objects, "RoleBinding", "prometheus")).toMatchObject({
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "prometheus" },
      subjects,
    });
    // The namespaced rules hold in the agents' namespace too (Prometheus discovers node-exporter's pods there).
    expect(find(objects, "Role", "prometheus-ballast-agents")).toMatchObject({
      metadata: { namespace: "ballast-agents" },
      rules: prometheusApiAccess.namespacedRules,
    });
    expect(find(objects, "RoleBinding", "prometheus-ballast-agents")).toMatchObject({
      metadata: { namespace: "ballast-agents" },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "prometheus-ballast-agents" },
      subjects,
    });
    expect(find(objects, "ClusterRole", "ballast-prometheus").rules).toEqual(prometheusApiAccess.clusterRules);
    expect(find(objects, "ClusterRoleBinding", "ballast-prometheus")).toMatchObject({
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "ballast-prometheus" },
      subjects,
    });
    const rbac = objects.filter((object) => ["Role", "RoleBinding", "ClusterRole", "ClusterRoleBinding"].includes(object.kind));
    expect(rbac).toHaveLength(6);
  });

  it("renders no ClusterRole for a workload with namespaced rules only", () => {
    const model = extendedModel();
    model.workloads = model.workloads.map((spec) =>
      spec.name === "prometheus"
        ? { ...spec, security: { ...spec.security, kubernetesApi: { ...prometheusApiAccess, clusterRules: [] } } }
        : spec,
    );
    const objects = render(model);
    expect(allOf(objects, "ClusterRole")).toEqual([]);
    expect(allOf(objects, "ClusterRoleBinding")).toEqual([]);
    expect(has(objects, "Role", "prometheus")).toBe(true);
  });

  it("refuses non-resource URLs in namespaced rules, where Kubernetes ignores them", () => {
    const model = extendedModel();
    const urlRule = { apiGroups: [], resources: [], verbs: ["get"], nonResourceURLs: ["/metrics"] };
    model.workloads = model.workloads.map((spec) =>
      spec.name === "prometheus"
        ? { ...spec, security: { ...spec.security, kubernetesApi: { clusterRules: [], namespacedRules: [urlRule] } } }
        : spec,
    );
    expect(() => render(model)).toThrow(/nonResourceURLs rules are cluster-wide/);
  });
});

describe("the namespaces", () => {
  const psaLabels = (objects: KubernetesObject[], name = "ballast") =>
    Object.fromEntries(
      Object.entries(find(objects, "Namespace", name).metadata.labels ?? {}).filter(([key]) => key.startsWith("pod-security")),
    );
  const levels = (enforce: string) => ({
    "pod-security.kubernetes.io/enforce": enforce,
    "pod-security.kubernetes.io/enforce-version": "latest",
    "pod-security.kubernetes.io/warn": "restricted",
    "pod-security.kubernetes.io/warn-version": "latest",
    "pod-security.kubernetes.io/audit": "restricted",
    "pod-security.kubernetes.io/audit-version": "latest",
  });

  it("enforce restricted on the application namespace and privileged only on the agents', both warning and auditing at restricted", () => {
    const objects = render();
    expect(allOf(objects, "Namespace").map((namespace) => namespace.metadata.name)).toEqual(["ballast", "ballast-agents"]);
    expect(psaLabels(objects)).toEqual(levels("restricted"));
    expect(psaLabels(objects, "ballast-agents")).toEqual(levels("privileged"));
    expect(find(objects, "Namespace", "ballast-agents").metadata.labels).toMatchObject({
      "app.kubernetes.io/part-of": "ballast",
      "app.kubernetes.io/managed-by": "ballast",
    });
    expect(find(objects, "DaemonSet", "node-exporter").metadata.namespace).toBe("ballast-agents");
  });

  it("render no agents' namespace without agents, and baseline when a workload needs root", () => {
    const model = fixtureModel();
    model.workloads = model.workloads.filter((spec) => spec.role !== "agent");
    expect(allOf(render(model), "Namespace").map((namespace) => namespace.metadata.name)).toEqual(["ballast"]);
    expect(psaLabels(render(model))["pod-security.kubernetes.io/enforce"]).toBe("restricted");
    model.workloads = model.workloads.map((spec) =>
      spec.name === "redis" ? { ...spec, security: { ...spec.security, runAsRoot: true } } : spec,
    );
    expect(psaLabels(render(model))["pod-security.kubernetes.io/enforce"]).toBe("baseline");
  });

  it("give the agents' namespace its own default-deny, and let Prometheus reach the agents across namespaces by name", () => {
    const objects = render(extendedModel());
    const agentsDeny = find(objects, "NetworkPolicy", "default-deny-agents");
    expect(agentsDeny.metadata.namespace).toBe("ballast-agents");
    expect(agentsDeny.spec).toEqual(find(objects, "NetworkPolicy", "default-deny").spec);
    expect(find(objects, "NetworkPolicy", "node-exporter").spec?.ingress).toEqual([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ballast" } },
            podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/part-of": "ballast" } },
          },
        ],
        ports: [{ protocol: "TCP", port: 9100 }],
      },
    ]);
  });

  it("refuse an agent that uses the stack's secrets (its namespace holds no Secret), and give agents no pull secret", () => {
    const model = fixtureModel();
    model.registry = { server: "ghcr.io", username: "ci", passwordSecret: "encryption-key" };
    expect(podOf(render(model), "node-exporter").spec).not.toHaveProperty("imagePullSecrets");
    expect(podOf(render(model), "app").spec.imagePullSecrets).toEqual([{ name: "ballast-registry" }]);
    model.workloads = model.workloads.map((spec) =>
      spec.name === "node-exporter" ? { ...spec, secretEnv: { KEY: "encryption-key" } } : spec,
    );
    expect(() => render(model)).toThrow(
      "workload \"node-exporter\": a per-node agent runs in the agents' namespace, which holds no Secret; it cannot use the stack's secrets",
    );
  });
});

describe("plain environment", () => {
  it('writes an empty value as a variable without value (the API server drops `value: ""`)', () => {
    const model = fixtureModel();
    model.workloads = model.workloads.map((spec) =>
      spec.name === "worker" ? { ...spec, env: { ...spec.env, EMPTY: "", SET: "x" } } : spec,
    );
    const env = containerOf(render(model), "worker").env ?? [];
    expect(env).toContainEqual({ name: "EMPTY" });
    expect(env).toContainEqual({ name: "SET", value: "x" });
  });
});

describe("secrets", () => {
  it("live in one Secret whose keys the containers reference", () => {
    const objects = render();
    const secret = find(objects, "Secret", "ballast-secrets");
    expect(Object.keys(secret.stringData)).toEqual(["postgres-password", "redis-password", "database-url", "redis-url", "encryption-key"]);
    expect(containerOf(objects, "app").env).toContainEqual({
      name: "DATABASE_URL",
      valueFrom: { secretKeyRef: { name: "ballast-secrets", key: "database-url" } },
    });
    expect(containerOf(objects, "postgres").env).toContainEqual({
      name: "POSTGRES_PASSWORD",
      valueFrom: { secretKeyRef: { name: "ballast-secrets", key: "postgres-password" } },
    });
  });

  it("mount secret files from the same Secret, readable by the owner only", () => {
    const objects = render(extendedModel());
    const pod = podOf(objects, "prometheus");
    expect(pod.spec.volumes).toContainEqual({
      name: "ballast-secret-files",
      secret: { secretName: "ballast-secrets", items: [{ key: "alert-webhook", path: "alert-webhook", mode: 0o400 }] },
    });
    expect(pod.spec.containers[0].volumeMounts).toContainEqual({
      name: "ballast-secret-files",
      mountPath: "/etc/prometheus/secrets/webhook",
      subPath: "alert-webhook",
      readOnly: true,
    });
    // The file is root-owned 0400: the non-root process reads it through the pod's fsGroup.
    expect(pod.spec.securityContext?.fsGroup).toBe(65534);
  });

  it("hold values only in the Secret when the apply step passes them", () => {
    const objects = render(extendedModel(), {}, extendedSecretValues);
    expect(find(objects, "Secret", "ballast-secrets").stringData).toEqual(extendedSecretValues);
    for (const object of objects.filter((candidate) => candidate.kind !== "Secret")) {
      const text = JSON.stringify(object);
      for (const value of Object.values(extendedSecretValues)) {
        expect(text, `${object.kind}/${object.metadata.name}`).not.toContain(value);
      }
    }
  });

  it("never reach a rendered file: key names only", () => {
    const target = new KubernetesTarget(baseConfig, { tls: true, acmeEmail: "ops@example.com" });
    const files = target.render(extendedModel());
    const everything = files.map((file) => file.content).join("\n");
    for (const value of Object.values(extendedSecretValues)) expect(everything).not.toContain(value);
    expect(everything).not.toContain("LEAKCHECK");
    const secretFile = files.find((file) => file.path.endsWith("-secret-ballast-secrets.yaml"));
    const parsed = parseAllDocuments(secretFile?.content ?? "")[0].toJS();
    // `data` (what the API server stores), so a client-side `kubectl apply` of the file is idempotent.
    const marker = Buffer.from(redactedSecretValue).toString("base64");
    expect(parsed.data).toEqual(Object.fromEntries(Object.keys(extendedSecretValues).map((key) => [key, marker])));
    expect(parsed).not.toHaveProperty("stringData");
    expect(secretFile?.content).toMatch(/^# Values are redacted/);
    // Even objects rendered with values are redacted on their way to a file.
    const withValues = renderKubernetesFiles(render(extendedModel(), {}, extendedSecretValues));
    expect(withValues.map((file) => file.content).join("\n")).not.toContain("LEAKCHECK");
  });

  it("must be declared by the stack, and given a value when values are given", () => {
    const model = fixtureModel();
    model.workloads = model.workloads.map((spec) =>
      spec.name === "worker" ? { ...spec, secretEnv: { OPENAI_API_KEY: "openai-api-key" } } : spec,
    );
    expect(() => render(model)).toThrow(/workload "worker" uses secret "openai-api-key", which the stack does not declare/);
    const { "redis-url": _missing, ...incomplete } = fixtureSecretValues;
    expect(() => render(fixtureModel(), {}, incomplete)).toThrow(/no value for secret "redis-url"/);
  });
});

describe("review files", () => {
  const target = new KubernetesTarget(baseConfig, { tls: true, acmeEmail: "ops@example.com" });

  it("hold one document per object, named NN-kind-name in apply order", () => {
    const model = extendedModel();
    const files = target.render(model);
    const objects = render(model);
    expect(files).toHaveLength(objects.length);
    expect(files[0].path).toBe("00-namespace-ballast.yaml");
    expect(files[1].path).toBe("01-namespace-ballast-agents.yaml");
    expect(files[2].path).toBe("02-secret-ballast-secrets.yaml");
    files.forEach((file, index) => {
      const documents = parseAllDocuments(file.content);
      expect(documents, file.path).toHaveLength(1);
      const parsed = documents[0].toJS();
      expect(file.path).toBe(`${String(index).padStart(2, "0")}-${parsed.kind.toLowerCase()}-${parsed.metadata.name}.yaml`);
      if (parsed.kind !== "Secret") expect(parsed).toEqual(JSON.parse(JSON.stringify(objects[index])));
    });
  });

  it("group objects as namespace, secrets, config maps, RBAC, claims, workloads, services, HPAs, PDBs, ingress, network policies", () => {
    const groups: Record<KubernetesKind, number> = {
      Namespace: 0,
      Secret: 1,
      ConfigMap: 2,
      ServiceAccount: 3,
      Role: 3,
      RoleBinding: 3,
      ClusterRole: 3,
      ClusterRoleBinding: 3,
      PersistentVolumeClaim: 4,
      Deployment: 5,
      StatefulSet: 5,
      DaemonSet: 5,
      Job: 5,
      CronJob: 5,
      Service: 6,
      HorizontalPodAutoscaler: 7,
      TriggerAuthentication: 7,
      ScaledObject: 7,
      PodDisruptionBudget: 8,
      IngressClass: 9,
      Ingress: 9,
      NetworkPolicy: 10,
    };
    const order = render(extendedModel()).map((object) => groups[object.kind]);
    expect(order).toEqual([...order].sort((a, b) => a - b));
    // Our Traefik routes from its file: no ingress group.
    expect(new Set(order).size).toBe(10);
  });

  it("show a deploy-time image as a marker, not an Output's text", () => {
    const model = fixtureModel();
    model.workloads = model.workloads.map((spec) =>
      spec.name === "app" ? { ...spec, image: pulumi.output("registry/app@sha256:abc") } : spec,
    );
    const app = target.render(model).find((file) => file.path.endsWith("-deployment-app.yaml"));
    expect(app?.content).toContain("image: <known at deploy time>");
    expect(app?.content).not.toContain("Calling [toString]");
  });
});

describe("invalid models", () => {
  const withWorkload = (name: string, change: (spec: WorkloadSpec) => WorkloadSpec) => {
    const model = fixtureModel();
    model.workloads = model.workloads.map((spec) => (spec.name === name ? change(spec) : spec));
    return model;
  };

  it("are refused with the workload and the reason", () => {
    const duplicate = fixtureModel();
    duplicate.workloads = [...duplicate.workloads, duplicate.workloads[1]];
    expect(() => render(duplicate)).toThrow(/two workloads are named "app"/);
    expect(() => render(withWorkload("app", (spec) => ({ ...spec, route: { ...spec.route!, port: 8080 } })))).toThrow(
      /workload "app": route port 8080 is not one of its ports/,
    );
    expect(() => render(withWorkload("postgres", (spec) => ({ ...spec, replicas: 2 })))).toThrow(
      /stateful workloads run exactly one replica/,
    );
    expect(() =>
      render(withWorkload("redis", (spec) => ({ ...spec, autoscaling: { minReplicas: 1, maxReplicas: 2, cpuTargetPercent: 80 } }))),
    ).toThrow(/only stateless workloads autoscale/);
    expect(() =>
      render(
        withWorkload("node-exporter", (spec) => ({
          ...spec,
          volumes: [{ kind: "persistent", name: "wal", mountPath: "/wal", sizeGiB: 1 }],
        })),
      ),
    ).toThrow(/per-node agent cannot share one persistent volume claim/);
    expect(() => render(withWorkload("traefik", (spec) => ({ ...spec, replicas: 2 })))).toThrow(
      /ReadWriteOnce volume can back one replica only/,
    );
    expect(() =>
      render(
        withWorkload("app", (spec) => ({ ...spec, volumes: [...spec.volumes, { kind: "scratch", name: "cache", mountPath: "/tmp" }] })),
      ),
    ).toThrow(/two volumes are mounted at "\/tmp"/);
    expect(() => render(withWorkload("worker", (spec) => ({ ...spec, labels: { tier: "queue workers" } })))).toThrow(
      /workload "worker": label tier="queue workers" is not a valid Kubernetes label value/,
    );
  });
});
