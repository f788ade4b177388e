/**
 * The Kubernetes apply step under Pulumi mocks: which resources it declares and
 * with which options (protection, retention, ordering, secrecy).
 *
 * Resource options never reach `Mocks.newResource`, so every RegisterResource
 * request is read at the mock monitor itself: its `registerResource` is wrapped
 * right after `setMocks`. That request is exactly what the engine would receive
 * (protect, retainOnDelete, dependencies, additionalSecretOutputs, serialized
 * inputs with secret markers), so the checks do not depend on SDK internals such
 * as transforms, which do not run under mocks.
 */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import type { KubernetesConfig } from "../../components/config/types";
import type { StackModel } from "../../components/spec";
import { fixtureMigrationJob, fixtureModel as fixtureOf, fixtureSecretValues } from "../fixtures/stack-model";

/** The fixture as the Kubernetes target receives it (the proxy has no Compose-only admin port or routing mount). */
const fixtureModel = (opts: Parameters<typeof fixtureOf>[0] = {}) => fixtureOf({ target: "kubernetes", ...opts });

/** The parts of a RegisterResourceRequest (protobuf) the tests read. */
interface RegisterResourceRequest {
  getType(): string;
  getName(): string;
  getCustom(): boolean;
  getParent(): string;
  getProvider(): string;
  hasProtect(): boolean;
  getProtect(): boolean;
  hasRetainondelete(): boolean;
  getRetainondelete(): boolean;
  getDeletebeforereplace(): boolean;
  getDependenciesList(): string[];
  getAdditionalsecretoutputsList(): string[];
  getCustomtimeouts(): { getCreate(): string; getUpdate(): string } | undefined;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

interface MockMonitor {
  registerResource(request: RegisterResourceRequest, callback: (...args: unknown[]) => void): Promise<void>;
}

interface Registration {
  type: string;
  name: string;
  custom: boolean;
  parent: string;
  provider: string;
  protect?: boolean;
  retainOnDelete?: boolean;
  deleteBeforeReplace: boolean;
  dependencies: string[];
  additionalSecretOutputs: string[];
  customTimeouts?: { create: string; update: string };
  inputs: Record<string, unknown>;
}

function readRequest(request: RegisterResourceRequest): Registration {
  return {
    type: request.getType(),
    name: request.getName(),
    custom: request.getCustom(),
    parent: request.getParent(),
    provider: request.getProvider(),
    protect: request.hasProtect() ? request.getProtect() : undefined,
    retainOnDelete: request.hasRetainondelete() ? request.getRetainondelete() : undefined,
    deleteBeforeReplace: request.getDeletebeforereplace(),
    dependencies: request.getDependenciesList(),
    additionalSecretOutputs: request.getAdditionalsecretoutputsList(),
    ...(request.getCustomtimeouts() && {
      customTimeouts: { create: request.getCustomtimeouts()!.getCreate(), update: request.getCustomtimeouts()!.getUpdate() },
    }),
    inputs: request.getObject()?.toJavaScript() ?? {},
  };
}

const config: KubernetesConfig = {
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

const resolved = <T>(output: pulumi.Output<T>) => new Promise<T>((resolve) => output.apply(resolve));

/** Deploys the model under fresh mocks and returns every registration once all of them went through. */
async function deployUnderMocks(model: StackModel, overrides: Partial<KubernetesConfig> = {}) {
  const registrations: Registration[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource: (args) => ({ id: `${args.name}-id`, state: args.inputs }),
      call: (args) => args.inputs,
    },
    "ballast",
    "test",
    false,
  );
  const monitor = pulumi.runtime.getMonitor() as unknown as MockMonitor;
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (request, callback) => {
    registrations.push(readRequest(request));
    return register(request, callback);
  };
  // Imported after setMocks, as a Pulumi program would be.
  const { KubernetesTarget } = await import("../../components/targets/kubernetes");
  const parent = new pulumi.ComponentResource("test:index:Platform", "platform");
  const secrets = Object.fromEntries(Object.entries(fixtureSecretValues).map(([name, value]) => [name, pulumi.secret(value)]));
  const target = new KubernetesTarget({ ...config, ...overrides }, { tls: true, acmeEmail: "ops@example.com" });
  const outputs = target.deploy(model, secrets, { name: "ballast", parent });
  const [appUrl, location] = await Promise.all([resolved(outputs.appUrl), resolved(outputs.location)]);
  // Drains the RPC queue: every resource has reached the monitor.
  await pulumi.runtime.disconnect();
  const byName = (type: string, name: string) => {
    const found = registrations.find((registration) => registration.type === type && registration.name === name);
    if (!found) throw new Error(`${type} ${name} was not registered`);
    return found;
  };
  return { registrations, appUrl, location, byName };
}

/** Whether a dependency list names the resource (URNs end in `<type>::<name>`, the type qualified by its parents). */
function dependsOn(registration: Registration, type: string, name: string): boolean {
  return registration.dependencies.some((urn) => urn.endsWith(`$${type}::${name}`) || urn.endsWith(`::${type}::${name}`));
}

/** The fixture plus a one-shot migration Job, which every Deployment and CronJob must wait for. */
function modelWithMigration(): StackModel {
  const model = fixtureModel();
  const migrate = fixtureMigrationJob();
  model.workloads = [
    ...model.workloads.map((spec) =>
      spec.name === "postgres" ? { ...spec, network: { ...spec.network, allowFrom: [...spec.network.allowFrom, "migrate"] } } : spec,
    ),
    migrate,
  ];
  return model;
}

describe("the Kubernetes apply step", () => {
  it("declares one typed resource per rendered object, parented and on its own provider", async () => {
    const { registrations, byName } = await deployUnderMocks(fixtureModel());
    const { renderKubernetesObjects } = await import("../../components/targets/kubernetes");
    const objects = renderKubernetesObjects(fixtureModel(), config);
    const kubernetes = registrations.filter((registration) => registration.type.startsWith("kubernetes:"));
    expect(kubernetes.map((registration) => registration.name).sort()).toEqual(
      objects.map((object) => `ballast-${object.kind.toLowerCase()}-${object.metadata.name}`).sort(),
    );
    const typeOf = (name: string) => kubernetes.find((registration) => registration.name === name)?.type;
    expect(typeOf("ballast-namespace-ballast")).toBe("kubernetes:core/v1:Namespace");
    expect(typeOf("ballast-deployment-app")).toBe("kubernetes:apps/v1:Deployment");
    expect(typeOf("ballast-statefulset-postgres")).toBe("kubernetes:apps/v1:StatefulSet");
    expect(typeOf("ballast-daemonset-node-exporter")).toBe("kubernetes:apps/v1:DaemonSet");
    expect(typeOf("ballast-cronjob-cron-cleanup")).toBe("kubernetes:batch/v1:CronJob");
    expect(typeOf("ballast-horizontalpodautoscaler-app")).toBe("kubernetes:autoscaling/v2:HorizontalPodAutoscaler");
    expect(typeOf("ballast-poddisruptionbudget-app")).toBe("kubernetes:policy/v1:PodDisruptionBudget");
    expect(typeOf("ballast-namespace-ballast-agents")).toBe("kubernetes:core/v1:Namespace");
    // Our Traefik routes from its file: no Ingress.
    expect(typeOf("ballast-ingress-app")).toBeUndefined();
    expect(typeOf("ballast-networkpolicy-default-deny")).toBe("kubernetes:networking.k8s.io/v1:NetworkPolicy");
    expect(typeOf("ballast-persistentvolumeclaim-traefik-acme")).toBe("kubernetes:core/v1:PersistentVolumeClaim");

    const platform = byName("test:index:Platform", "platform");
    expect(platform.custom).toBe(false);
    const provider = byName("pulumi:providers:kubernetes", "ballast-kubernetes");
    expect(provider.parent).toMatch(/test:index:Platform::platform$/);
    for (const registration of kubernetes) {
      expect(registration.parent, registration.name).toMatch(/test:index:Platform::platform$/);
      expect(registration.provider, registration.name).toMatch(/pulumi:providers:kubernetes::ballast-kubernetes::/);
    }
  });

  it("configures the provider for the namespace with server-side apply, and no context or render directory unless set", async () => {
    const plain = (await deployUnderMocks(fixtureModel())).byName("pulumi:providers:kubernetes", "ballast-kubernetes");
    expect(plain.inputs).toMatchObject({ namespace: "ballast" });
    expect(String(plain.inputs.enableServerSideApply)).toBe("true");
    // The one Secret and the ConfigMaps keep their names: updated in place, never delete-then-create.
    expect(String(plain.inputs.enableConfigMapMutable)).toBe("true");
    expect(String(plain.inputs.enableSecretMutable)).toBe("true");
    expect(plain.inputs).not.toHaveProperty("context");
    expect(plain.inputs).not.toHaveProperty("renderYamlToDirectory");
    const set = (await deployUnderMocks(fixtureModel(), { context: "prod-cluster", renderYamlToDirectory: "/tmp/e2e-manifests" })).byName(
      "pulumi:providers:kubernetes",
      "ballast-kubernetes",
    );
    expect(set.inputs).toMatchObject({ context: "prod-cluster", renderYamlToDirectory: "/tmp/e2e-manifests" });
  });

  it("protects and retains everything that holds data, and nothing else", async () => {
    const { registrations } = await deployUnderMocks(fixtureModel());
    const guarded = registrations.filter((registration) => registration.protect === true);
    expect(guarded.map((registration) => registration.name).sort()).toEqual([
      "ballast-namespace-ballast",
      "ballast-persistentvolumeclaim-traefik-acme",
      "ballast-statefulset-postgres",
      "ballast-statefulset-redis",
    ]);
    for (const registration of guarded) expect(registration.retainOnDelete, registration.name).toBe(true);
    for (const registration of registrations.filter((candidate) => candidate.protect !== true)) {
      expect(registration.retainOnDelete ?? false, registration.name).toBe(false);
    }
  });

  it("lets data go only when the stack allows data loss", async () => {
    const { byName } = await deployUnderMocks(fixtureModel({ allowDataLoss: true }));
    for (const [type, name] of [
      ["kubernetes:apps/v1:StatefulSet", "ballast-statefulset-postgres"],
      ["kubernetes:core/v1:PersistentVolumeClaim", "ballast-persistentvolumeclaim-traefik-acme"],
      ["kubernetes:core/v1:Namespace", "ballast-namespace-ballast"],
    ]) {
      const registration = byName(type, name);
      expect(registration.protect ?? false, name).toBe(false);
      expect(registration.retainOnDelete ?? false, name).toBe(false);
    }
  });

  it("sends secret values only inside the Secret, marked secret, with secret outputs", async () => {
    const { registrations, byName } = await deployUnderMocks(fixtureModel());
    const secret = byName("kubernetes:core/v1:Secret", "ballast-secret-ballast-secrets");
    const stringData = secret.inputs.stringData as Record<string, unknown>;
    expect(stringData[pulumi.runtime.specialSigKey]).toBe(pulumi.runtime.specialSecretSig);
    expect(stringData.value).toEqual(fixtureSecretValues);
    expect(secret.additionalSecretOutputs).toEqual(expect.arrayContaining(["data", "stringData"]));
    for (const registration of registrations.filter((candidate) => candidate !== secret)) {
      const text = JSON.stringify(registration.inputs);
      for (const value of Object.values(fixtureSecretValues)) expect(text, registration.name).not.toContain(value);
    }
  });

  it("creates the namespace first and a pod's Secret, config and policies before its workload", async () => {
    const { registrations, byName } = await deployUnderMocks(fixtureModel());
    const clusterScoped = [
      "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole",
      "kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding",
      "kubernetes:networking.k8s.io/v1:IngressClass",
    ];
    const namespaced = registrations.filter(
      (candidate) =>
        candidate.type.startsWith("kubernetes:") &&
        candidate.type !== "kubernetes:core/v1:Namespace" &&
        !clusterScoped.includes(candidate.type),
    );
    expect(namespaced.length).toBeGreaterThan(30);
    // Each object waits for its own namespace: the application's, or the agents' for node-exporter's objects.
    for (const registration of namespaced) {
      const namespace = (registration.inputs.metadata as { namespace: string }).namespace;
      expect(["ballast", "ballast-agents"]).toContain(namespace);
      expect(dependsOn(registration, "kubernetes:core/v1:Namespace", `ballast-namespace-${namespace}`), registration.name).toBe(true);
    }
    expect(
      (byName("kubernetes:apps/v1:DaemonSet", "ballast-daemonset-node-exporter").inputs.metadata as { namespace: string }).namespace,
    ).toBe("ballast-agents");
    const redis = byName("kubernetes:apps/v1:StatefulSet", "ballast-statefulset-redis");
    expect(dependsOn(redis, "kubernetes:core/v1:Secret", "ballast-secret-ballast-secrets")).toBe(true);
    expect(dependsOn(redis, "kubernetes:core/v1:ConfigMap", "ballast-configmap-redis-config")).toBe(true);
    expect(dependsOn(redis, "kubernetes:core/v1:ServiceAccount", "ballast-serviceaccount-redis")).toBe(true);
    expect(dependsOn(redis, "kubernetes:networking.k8s.io/v1:NetworkPolicy", "ballast-networkpolicy-default-deny")).toBe(true);
    const traefik = byName("kubernetes:apps/v1:Deployment", "ballast-deployment-traefik");
    expect(dependsOn(traefik, "kubernetes:core/v1:PersistentVolumeClaim", "ballast-persistentvolumeclaim-traefik-acme")).toBe(true);
    const hpa = byName("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "ballast-horizontalpodautoscaler-app");
    expect(dependsOn(hpa, "kubernetes:apps/v1:Deployment", "ballast-deployment-app")).toBe(true);
    // Declared dependencies order the workloads: the app waits for its datastores.
    const app = byName("kubernetes:apps/v1:Deployment", "ballast-deployment-app");
    expect(dependsOn(app, "kubernetes:apps/v1:StatefulSet", "ballast-statefulset-postgres")).toBe(true);
    expect(dependsOn(app, "kubernetes:apps/v1:StatefulSet", "ballast-statefulset-redis")).toBe(true);
  });

  it("makes each object wait only for what it uses, not every workload for every prerequisite", async () => {
    const { registrations, byName } = await deployUnderMocks(fixtureModel());
    const names = (registration: Registration) =>
      registration.dependencies
        .map((urn) => urn.split("::").pop() as string)
        .filter((name) => name !== "ballast-namespace-ballast")
        .sort();
    // A datastore: its identity, config, the Secret, the policies selecting its pods, its governing Service.
    expect(names(byName("kubernetes:apps/v1:StatefulSet", "ballast-statefulset-redis"))).toEqual(
      [
        "ballast-configmap-redis-config",
        "ballast-networkpolicy-default-deny",
        "ballast-networkpolicy-redis",
        "ballast-secret-ballast-secrets",
        "ballast-service-redis-headless",
        "ballast-serviceaccount-redis",
      ].sort(),
    );
    // The app: its own prerequisites and the datastores it declares, with the Services that reach them.
    const app = names(byName("kubernetes:apps/v1:Deployment", "ballast-deployment-app"));
    expect(app).toEqual(
      expect.arrayContaining([
        "ballast-statefulset-postgres",
        "ballast-service-postgres",
        "ballast-statefulset-redis",
        "ballast-service-redis",
        "ballast-serviceaccount-app",
        "ballast-networkpolicy-app",
      ]),
    );
    expect(
      app.filter(
        (name) =>
          /^ballast-(configmap|serviceaccount|networkpolicy|persistentvolumeclaim)-/.test(name) && !/-(app|default-deny)$/.test(name),
      ),
    ).toEqual([]);
    expect(app).not.toContain("ballast-service-postgres-headless");
    // Services follow the workload they select (their wait is its pods answering); a headless one comes first.
    expect(names(byName("kubernetes:core/v1:Service", "ballast-service-app"))).toEqual(["ballast-deployment-app"]);
    expect(names(byName("kubernetes:core/v1:Service", "ballast-service-postgres-headless"))).toEqual([]);
    expect(names(byName("kubernetes:core/v1:Service", "ballast-service-traefik-public"))).toEqual(["ballast-deployment-traefik"]);
    expect(names(byName("kubernetes:policy/v1:PodDisruptionBudget", "ballast-poddisruptionbudget-app"))).toEqual([
      "ballast-deployment-app",
    ]);
    // Only the proxy uses its claim.
    const claimUsers = registrations.filter((registration) =>
      dependsOn(registration, "kubernetes:core/v1:PersistentVolumeClaim", "ballast-persistentvolumeclaim-traefik-acme"),
    );
    expect(claimUsers.map((registration) => registration.name)).toEqual(["ballast-deployment-traefik"]);
  });

  it("keeps, on destroy --exclude-protected, only the protected objects and what they use themselves", async () => {
    const { registrations } = await deployUnderMocks(fixtureModel());
    // What `pulumi destroy --exclude-protected` leaves: every protected resource and its transitive dependencies.
    const byUrnEnd = (urn: string) =>
      registrations.find((registration) => urn.endsWith(`::${registration.name}`) && urn.includes(registration.type));
    const kept = new Set<Registration>();
    const keep = (registration: Registration) => {
      if (kept.has(registration)) return;
      kept.add(registration);
      for (const urn of registration.dependencies) {
        const used = byUrnEnd(urn);
        if (used) keep(used);
      }
    };
    registrations.filter((registration) => registration.protect === true).forEach(keep);
    expect([...kept].map((registration) => registration.name).sort()).toEqual(
      [
        "ballast-namespace-ballast",
        "ballast-persistentvolumeclaim-traefik-acme",
        "ballast-statefulset-postgres",
        "ballast-statefulset-redis",
        "ballast-configmap-postgres-config",
        "ballast-configmap-redis-config",
        "ballast-networkpolicy-default-deny",
        "ballast-networkpolicy-postgres",
        "ballast-networkpolicy-redis",
        "ballast-secret-ballast-secrets",
        "ballast-service-postgres-headless",
        "ballast-service-redis-headless",
        "ballast-serviceaccount-postgres",
        "ballast-serviceaccount-redis",
      ].sort(),
    );
  });

  it("bounds every readiness wait by the stack's timeouts, and waits for an existing controller's Ingress address unless told not to", async () => {
    const { byName } = await deployUnderMocks(fixtureModel(), { progressDeadlineSeconds: 120, readinessTimeoutSeconds: 300 });
    expect(byName("kubernetes:apps/v1:Deployment", "ballast-deployment-app").customTimeouts).toEqual({ create: "180s", update: "180s" });
    expect(byName("kubernetes:apps/v1:StatefulSet", "ballast-statefulset-postgres").customTimeouts).toEqual({
      create: "300s",
      update: "300s",
    });
    expect(byName("kubernetes:apps/v1:DaemonSet", "ballast-daemonset-node-exporter").customTimeouts).toEqual({
      create: "300s",
      update: "300s",
    });
    expect(byName("kubernetes:core/v1:Service", "ballast-service-traefik-public").customTimeouts).toEqual({
      create: "300s",
      update: "300s",
    });
    // An existing controller may report an address: waited for, unless the stack says it reports none.
    const existing = (await deployUnderMocks(fixtureModel(), { deployTraefik: false })).byName(
      "kubernetes:networking.k8s.io/v1:Ingress",
      "ballast-ingress-app",
    );
    expect((existing.inputs.metadata as { annotations: Record<string, string> }).annotations).not.toHaveProperty("pulumi.com/skipAwait");
    expect(existing.customTimeouts).toEqual({ create: "600s", update: "600s" });
    const bare = (await deployUnderMocks(fixtureModel(), { deployTraefik: false, awaitIngressAddress: false })).byName(
      "kubernetes:networking.k8s.io/v1:Ingress",
      "ballast-ingress-app",
    );
    expect((bare.inputs.metadata as { annotations: Record<string, string> }).annotations["pulumi.com/skipAwait"]).toBe("true");
  });

  it("runs a release's migration Job after its database and before every Deployment and CronJob", async () => {
    const { registrations, byName } = await deployUnderMocks(modelWithMigration());
    const migrate = byName("kubernetes:batch/v1:Job", "ballast-job-migrate");
    expect(migrate.deleteBeforeReplace).toBe(true);
    expect(dependsOn(migrate, "kubernetes:apps/v1:StatefulSet", "ballast-statefulset-postgres")).toBe(true);
    const waiting = registrations.filter((registration) =>
      ["kubernetes:apps/v1:Deployment", "kubernetes:batch/v1:CronJob"].includes(registration.type),
    );
    expect(waiting.map((registration) => registration.name).sort()).toEqual([
      "ballast-cronjob-cron-cleanup",
      "ballast-deployment-app",
      "ballast-deployment-traefik",
      "ballast-deployment-worker",
    ]);
    for (const registration of waiting) {
      expect(dependsOn(registration, "kubernetes:batch/v1:Job", "ballast-job-migrate"), registration.name).toBe(true);
    }
    for (const name of ["ballast-statefulset-postgres", "ballast-statefulset-redis"]) {
      expect(dependsOn(byName("kubernetes:apps/v1:StatefulSet", name), "kubernetes:batch/v1:Job", "ballast-job-migrate"), name).toBe(false);
    }
    const daemonSet = byName("kubernetes:apps/v1:DaemonSet", "ballast-daemonset-node-exporter");
    expect(dependsOn(daemonSet, "kubernetes:batch/v1:Job", "ballast-job-migrate")).toBe(false);
  });

  it("leaves replicas of autoscaled Deployments to the HPA in the inputs it sends", async () => {
    const { byName } = await deployUnderMocks(fixtureModel());
    const spec = (name: string) => byName("kubernetes:apps/v1:Deployment", name).inputs.spec as Record<string, unknown>;
    expect(spec("ballast-deployment-app")).not.toHaveProperty("replicas");
    expect(spec("ballast-deployment-worker")).not.toHaveProperty("replicas");
    expect(spec("ballast-deployment-traefik").replicas).toBe(1);
  });

  it("declares KEDA's ScaledObject and TriggerAuthentication as custom resources after what they use, and no HPA for a queue-scaled worker", async () => {
    const model = fixtureModel();
    const queue = {
      kind: "redis-list" as const,
      key: "bull:analyst:wait",
      targetPerReplica: 50,
      datastore: "redis",
      passwordSecret: "redis-password",
    };
    const scaled = {
      ...model,
      workloads: model.workloads.map((w) =>
        w.name === "worker" ? { ...w, autoscaling: { minReplicas: 2, maxReplicas: 6, cpuTargetPercent: 80, queue } } : w,
      ),
    };
    const { registrations, byName } = await deployUnderMocks(scaled, { keda: { enabled: true, namespace: "keda" } });
    const scaledObject = byName("kubernetes:keda.sh/v1alpha1:ScaledObject", "ballast-scaledobject-worker");
    const auth = byName("kubernetes:keda.sh/v1alpha1:TriggerAuthentication", "ballast-triggerauthentication-worker-queue");
    expect(scaledObject.inputs).toMatchObject({
      apiVersion: "keda.sh/v1alpha1",
      kind: "ScaledObject",
      spec: { minReplicaCount: 2, maxReplicaCount: 6 },
    });
    expect(auth.inputs).toMatchObject({
      spec: { secretTargetRef: [{ parameter: "password", name: "ballast-secrets", key: "redis-password" }] },
    });
    expect(dependsOn(scaledObject, "kubernetes:apps/v1:Deployment", "ballast-deployment-worker")).toBe(true);
    expect(dependsOn(scaledObject, "kubernetes:keda.sh/v1alpha1:TriggerAuthentication", "ballast-triggerauthentication-worker-queue")).toBe(
      true,
    );
    expect(dependsOn(auth, "kubernetes:core/v1:Secret", "ballast-secret-ballast-secrets")).toBe(true);
    expect(registrations.filter((r) => r.type === "kubernetes:autoscaling/v2:HorizontalPodAutoscaler").map((r) => r.name)).toEqual([
      "ballast-horizontalpodautoscaler-app",
    ]);
    expect(byName("kubernetes:apps/v1:Deployment", "ballast-deployment-worker").inputs.spec).not.toHaveProperty("replicas");
  });

  it("reports the app URL and the namespace", async () => {
    const { appUrl, location } = await deployUnderMocks(fixtureModel());
    expect(appUrl).toBe("https://app.example.com");
    expect(location).toBe("namespace ballast");
  });

  it("refuses workloads that wait for each other in a circle", async () => {
    const model = fixtureModel();
    model.workloads = model.workloads.map((spec) => (spec.name === "postgres" ? { ...spec, dependsOn: ["app"] } : spec));
    await expect(deployUnderMocks(model)).rejects.toThrow(
      /workload "(app|postgres)" waits for itself \(through dependsOn or a migration Job\)/,
    );
  });
});
