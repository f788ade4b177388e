/**
 * Workers that scale on a queue's length (ballast:workers[].autoscaling.queue): the declaration
 * and its refusals (exact messages), the Kubernetes render (a KEDA ScaledObject and
 * TriggerAuthentication instead of an HPA, no replica count on the Deployment, KEDA's operator let
 * into Redis), the Compose render (autoscale.sh from the host's cron, the compose file at the
 * minimum, the footprint at the maximum) and the runbook's Scale section on both targets.
 * autoscale.sh itself runs against a real redis-server in test/tools/compose-autoscale.test.ts.
 */
import { describe, expect, it } from "vitest";
import { composeHostFit } from "../components/footprint";
import { renderRunbook } from "../components/runbook";
import type { AutoscalingSpec, StackModel, WorkloadSpec } from "../components/spec";
import { ComposeTarget, renderComposeProject } from "../components/targets/compose";
import { dependencyOrder } from "../components/targets/kubernetes/dependencies";
import {
  renderKubernetesObjects,
  type KubernetesObject,
  type KubernetesRenderConfig,
  type ObjectOfKind,
} from "../components/targets/kubernetes";
import { workerSpecs } from "../components/workers";
import { composeHostDefaults, configFor, loadStack, problemsOf } from "./fixtures/config";
import { ScaledObjectShape, TriggerAuthenticationShape } from "./fixtures/keda";
import { fixtureModel } from "./fixtures/stack-model";

const listQueue = { kind: "redis-list", name: "bull:analyst:wait", targetPerReplica: 50 };
const streamQueue = { kind: "redis-stream", name: "events", consumerGroup: "workers", targetPerReplica: 20 };
const scaled = (queue: Record<string, unknown> = listQueue, bounds = { minReplicas: 5, maxReplicas: 20 }) => ({
  name: "worker",
  autoscaling: { enabled: true, ...bounds, queue },
});
const kubernetesWithKeda = { target: "kubernetes", kubernetes: { keda: { enabled: true } } };

describe("the declaration", () => {
  it("a list or a stream trigger reaches the worker's spec with its bounds, the stack's Redis and its password secret", () => {
    const config = configFor({ ...kubernetesWithKeda, workers: [scaled()] }, "prod");
    expect(config.workers[0].autoscaling).toEqual({
      enabled: true,
      minReplicas: 5,
      maxReplicas: 20,
      cpuTargetPercent: 80,
      queue: listQueue,
    });
    expect(config.kubernetes.keda).toEqual({ enabled: true, namespace: "keda" });
    const [worker] = workerSpecs(config, ["ghcr.io/acme/app:1.0.0"]);
    expect(worker.replicas).toBe(5);
    expect(worker.autoscaling).toEqual({
      minReplicas: 5,
      maxReplicas: 20,
      cpuTargetPercent: 80,
      configKey: "ballast:workers[0].autoscaling",
      queue: { kind: "redis-list", key: "bull:analyst:wait", targetPerReplica: 50, datastore: "redis", passwordSecret: "redis-password" },
    });
    const stream = workerSpecs(configFor({ workers: [scaled(streamQueue, { minReplicas: 1, maxReplicas: 4 })] }, "staging"), [
      "ghcr.io/acme/app:1.0.0",
    ])[0];
    expect(stream.autoscaling?.queue).toEqual({
      kind: "redis-stream",
      key: "events",
      consumerGroup: "workers",
      targetPerReplica: 20,
      datastore: "redis",
      passwordSecret: "redis-password",
    });
  });

  it("warns that a local Compose stack (dev) runs no scaler: the worker stays at its minimum", () => {
    const { warnings } = loadStack({ compose: { mode: "local" }, workers: [scaled(listQueue, { minReplicas: 1, maxReplicas: 3 })] });
    expect(warnings).toContain(
      'ballast:workers[0].autoscaling.queue: compose.mode is "local": no crontab runs autoscale.sh, so the worker stays at its minimum (1)',
    );
    const ssh = loadStack({
      compose: {
        mode: "ssh",
        ssh: { host: "203.0.113.5", hostKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleHostKeyForTheTest000000000000000000 host" },
        bootstrap: { enabled: false },
      },
      monitoring: { grafana: { allowFrom: ["203.0.113.0/24"] } },
      workers: [scaled()],
    });
    expect(ssh.warnings.filter((w) => w.includes("autoscaling"))).toEqual([]);
  });

  it("CPU stays the default; on Compose a worker's autoscaling is off unless it declares a queue", () => {
    expect(configFor({ workers: [{ name: "worker" }] }, "prod").workers[0].autoscaling).toEqual({
      enabled: true,
      minReplicas: 5,
      maxReplicas: 20,
      cpuTargetPercent: 80,
    });
    const compose = configFor({ target: "compose", compose: { mode: "local" }, workers: [{ name: "worker" }] }, "prod");
    expect(compose.workers[0].autoscaling.enabled).toBe(false);
    expect(compose.workers[0].replicas).toBe(5);
  });

  it.each([
    [
      { ...listQueue, kind: "rabbitmq" },
      'ballast:workers[0].autoscaling.queue.kind: must be one of "redis-list", "redis-stream" (got "rabbitmq")',
    ],
    [
      { ...listQueue, name: "bull analyst" },
      'ballast:workers[0].autoscaling.queue.name: must be a Redis key of letters, digits and _ . : { } / @ # + = - (at most 200 characters), such as "bull:analyst:wait" (got "bull analyst")',
    ],
    [
      { ...listQueue, targetPerReplica: 0 },
      "ballast:workers[0].autoscaling.queue.targetPerReplica: must be a whole number of jobs between 1 and 1000000 (got 0)",
    ],
    [
      { kind: "redis-stream", name: "events", targetPerReplica: 20 },
      'ballast:workers[0].autoscaling.queue.consumerGroup: required with kind "redis-stream": the consumer group whose pending entries are counted',
    ],
    [
      { ...listQueue, consumerGroup: "workers" },
      'ballast:workers[0].autoscaling.queue.consumerGroup: only used with kind "redis-stream"; a list has no consumer group (remove it) (got "workers")',
    ],
    [{ ...listQueue, lenght: 3 }, "ballast:workers[0].autoscaling.queue.lenght: unknown key"],
  ])("refuses the queue %j", (queue, message) => {
    const problems = problemsOf({ ...kubernetesWithKeda, workers: [scaled(queue)] }, "prod");
    expect(
      problems.some((p) => p.startsWith(message)),
      problems.join("\n"),
    ).toBe(true);
  });

  it("refuses a queue the stack cannot read, on each target, naming the key and the way out", () => {
    expect(problemsOf({ target: "kubernetes", workers: [scaled()] }, "prod")).toEqual([
      "ballast:workers[0].autoscaling.queue: scaling on queue length on Kubernetes needs KEDA (https://keda.sh) on the cluster; install it and set ballast:kubernetes.keda.enabled true, or remove the queue to scale on CPU (autoscaling.cpuTargetPercent)",
    ]);
    expect(problemsOf({ workers: [{ name: "worker", autoscaling: { enabled: false, queue: listQueue } }] })).toEqual([
      "ballast:workers[0].autoscaling.enabled: false, but autoscaling.queue is set; set enabled true to scale on the queue, or remove the queue",
    ]);
    expect(problemsOf({ redis: { enabled: false }, workers: [{ ...scaled(), secretEnv: { REDIS_URL: false } }] })).toEqual([
      "ballast:workers[0].autoscaling.queue: the queue is read from the stack's Redis, but ballast:redis.enabled is false; enable Redis or remove the queue",
    ]);
  });

  it("refuses CPU autoscaling on Compose instead of silently running the minimum", () => {
    expect(problemsOf({ workers: [{ name: "worker", autoscaling: { enabled: true } }] })).toEqual([
      "ballast:workers[0].autoscaling.enabled: true without a queue trigger, but Compose has no CPU autoscaler; set enabled false and the fixed count in ballast:workers[0].replicas, or add autoscaling.queue {kind, name, targetPerReplica} to scale on queue length",
    ]);
  });

  it("refuses bounds that cross, as for every autoscaling", () => {
    expect(problemsOf({ workers: [scaled(listQueue, { minReplicas: 6, maxReplicas: 3 })] })).toEqual([
      'ballast:workers[0].autoscaling: minReplicas (6) must not exceed maxReplicas (3) (got {"enabled":true,"minReplicas":6,"maxReplicas":3,"cpuTarge...)',
    ]);
  });
});

// ---------------------------------------------------------------------------------------------

const queueOf = (kind: "redis-list" | "redis-stream"): AutoscalingSpec["queue"] =>
  kind === "redis-list"
    ? { kind, key: "bull:analyst:wait", targetPerReplica: 50, datastore: "redis", passwordSecret: "redis-password" }
    : { kind, key: "events", consumerGroup: "workers", targetPerReplica: 20, datastore: "redis", passwordSecret: "redis-password" };

/** The fixture with its worker scaled on a queue. */
function queueModel(kind: "redis-list" | "redis-stream" = "redis-list", target: "compose" | "kubernetes" = "kubernetes"): StackModel {
  const model = fixtureModel({ target });
  const worker = (w: WorkloadSpec): WorkloadSpec => ({
    ...w,
    replicas: 2,
    autoscaling: {
      minReplicas: 2,
      maxReplicas: 6,
      cpuTargetPercent: 80,
      configKey: "ballast:workers[0].autoscaling",
      queue: queueOf(kind),
    },
  });
  return { ...model, workloads: model.workloads.map((w) => (w.name === "worker" ? worker(w) : w)) };
}

const kubernetesConfig: KubernetesRenderConfig = {
  ...configFor({ target: "kubernetes", kubernetes: { namespace: "ballast", keda: { enabled: true } } }, "prod").kubernetes,
};

function objectOf<K extends KubernetesObject["kind"]>(objects: KubernetesObject[], kind: K, name: string): ObjectOfKind<K> {
  const found = objects.find((o): o is ObjectOfKind<K> => o.kind === kind && o.metadata.name === name);
  if (!found) throw new Error(`no ${kind} ${name}`);
  return found;
}

describe("Kubernetes: KEDA owns a queue-scaled worker", () => {
  const objects = renderKubernetesObjects(queueModel(), kubernetesConfig);

  it("renders a ScaledObject with the Redis list trigger and a TriggerAuthentication reading the password from the stack's Secret", () => {
    const scaledObject = objectOf(objects, "ScaledObject", "worker");
    const auth = objectOf(objects, "TriggerAuthentication", "worker-queue");
    expect(() => new ScaledObjectShape(scaledObject).validate()).not.toThrow();
    expect(() => new TriggerAuthenticationShape(auth).validate()).not.toThrow();
    expect(scaledObject.spec).toEqual({
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "worker" },
      minReplicaCount: 2,
      maxReplicaCount: 6,
      pollingInterval: 30,
      cooldownPeriod: 300,
      triggers: [
        {
          type: "redis",
          metadata: { address: "redis.ballast.svc:6379", listName: "bull:analyst:wait", listLength: "50" },
          authenticationRef: { name: "worker-queue" },
        },
      ],
    });
    expect(auth.spec).toEqual({ secretTargetRef: [{ parameter: "password", name: "ballast-secrets", key: "redis-password" }] });
    // The Secret holds the key the TriggerAuthentication names; no password is in the trigger.
    expect(Object.keys(objectOf(objects, "Secret", "ballast-secrets").stringData)).toContain("redis-password");
    expect(JSON.stringify(scaledObject)).not.toMatch(/password/i);
  });

  it("a stream trigger counts the consumer group's pending entries", () => {
    const stream = objectOf(renderKubernetesObjects(queueModel("redis-stream"), kubernetesConfig), "ScaledObject", "worker");
    expect(() => new ScaledObjectShape(stream).validate()).not.toThrow();
    expect(stream.spec.triggers).toEqual([
      {
        type: "redis-streams",
        metadata: { address: "redis.ballast.svc:6379", stream: "events", consumerGroup: "workers", pendingEntriesCount: "20" },
        authenticationRef: { name: "worker-queue" },
      },
    ]);
  });

  it("writes no HPA for the worker (KEDA creates its own) and no replica count on its Deployment; the app keeps its CPU HPA", () => {
    expect(objects.filter((o) => o.kind === "HorizontalPodAutoscaler").map((o) => o.metadata.name)).toEqual(["app"]);
    expect(objectOf(objects, "Deployment", "worker").spec).not.toHaveProperty("replicas");
    // Two replicas at least: the disruption budget and the spread follow the minimum, as with an HPA.
    expect(objectOf(objects, "PodDisruptionBudget", "worker").spec?.maxUnavailable).toBe(1);
  });

  it("the structural checks catch what KEDA would refuse or Ballast never writes", () => {
    const so = objectOf(objects, "ScaledObject", "worker");
    const broken = (change: (spec: Record<string, unknown>) => void) => {
      const copy = JSON.parse(JSON.stringify(so)) as { spec: Record<string, unknown> };
      change(copy.spec);
      return () => new ScaledObjectShape(copy).validate();
    };
    expect(broken((s) => (s.triggers = []))).toThrow("spec.triggers must list at least one trigger");
    expect(broken((s) => (s.minReplicaCount = 9))).toThrow("spec: minReplicaCount 9 exceeds maxReplicaCount 6");
    expect(broken((s) => ((s.triggers as { metadata: Record<string, unknown> }[])[0].metadata.listLength = 50))).toThrow(
      "spec.triggers[0].metadata.listLength must be a string",
    );
    expect(broken((s) => ((s.triggers as { metadata: Record<string, unknown> }[])[0].metadata.password = "x"))).toThrow(
      "has unknown keys password",
    );
    expect(broken((s) => delete s.scaleTargetRef)).toThrow("ScaledObject.spec lacks scaleTargetRef");
    expect(() =>
      new TriggerAuthenticationShape({
        ...objectOf(objects, "TriggerAuthentication", "worker-queue"),
        spec: { secretTargetRef: [{ parameter: "password", name: "ballast-secrets" }] },
      }).validate(),
    ).toThrow("spec.secretTargetRef[0] lacks key");
  });

  it("lets KEDA's operator (its namespace, label app=keda-operator) reach Redis through the default deny, and nothing else new", () => {
    const redis = objectOf(objects, "NetworkPolicy", "redis");
    expect(redis.spec?.ingress).toContainEqual({
      from: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "keda" } },
          podSelector: { matchLabels: { app: "keda-operator" } },
        },
      ],
      ports: [{ protocol: "TCP", port: 6379 }],
    });
    expect(objectOf(objects, "NetworkPolicy", "default-deny").spec?.podSelector).toEqual({
      matchLabels: { "app.kubernetes.io/part-of": "ballast" },
    });
    const other = renderKubernetesObjects(queueModel(), { ...kubernetesConfig, keda: { enabled: true, namespace: "autoscaling" } });
    expect(JSON.stringify(objectOf(other, "NetworkPolicy", "redis").spec?.ingress)).toContain(
      '"kubernetes.io/metadata.name":"autoscaling"',
    );
    const withoutQueue = renderKubernetesObjects(fixtureModel({ target: "kubernetes" }), kubernetesConfig);
    expect(JSON.stringify(objectOf(withoutQueue, "NetworkPolicy", "redis"))).not.toContain("keda-operator");
  });

  it("is applied after what it uses: the ScaledObject after the Deployment and its TriggerAuthentication, which follows the Secret", () => {
    const nodes = dependencyOrder(queueModel(), objects);
    const node = (key: string) => nodes.find((n) => n.key === key);
    expect(node("ScaledObject/worker")?.uses).toEqual(expect.arrayContaining(["Deployment/worker", "TriggerAuthentication/worker-queue"]));
    expect(node("TriggerAuthentication/worker-queue")?.uses).toEqual(expect.arrayContaining(["Secret/ballast-secrets"]));
    const order = nodes.map((n) => n.key);
    expect(order.indexOf("ScaledObject/worker")).toBeGreaterThan(order.indexOf("Deployment/worker"));
  });

  it("the renderer refuses a queue when the cluster has no KEDA", () => {
    expect(() => renderKubernetesObjects(queueModel(), { ...kubernetesConfig, keda: { enabled: false, namespace: "keda" } })).toThrow(
      'workload "worker" scales on queue length, which needs KEDA on the cluster: set ballast:kubernetes.keda.enabled true',
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe("Compose: the host's cron runs autoscale.sh", () => {
  const config = {
    ...configFor({ compose: { mode: "local", localDir: "/opt/ballast", project: "ballast" } }).compose,
    ...composeHostDefaults(),
  };
  const target = new ComposeTarget(config, { domain: "example.com", tls: true, healthUrlPath: "/api/health", appName: "app" });
  const files = target.render(queueModel("redis-list", "compose"));
  const file = (path: string) => files.find((f) => f.path === path)?.content ?? "";

  it("the compose file starts the worker at its minimum; the crontab runs autoscale.sh every minute under its own lock", () => {
    expect(renderComposeProject(queueModel("redis-list", "compose"), config).document.services.worker.deploy?.replicas).toBe(2);
    expect(file("crontab")).toContain(
      "* * * * * flock -n /opt/ballast/.ballast/autoscale.lock bash --noprofile --norc /opt/ballast/current/autoscale.sh >>/opt/ballast/.ballast/autoscale.log 2>&1",
    );
    expect(renderComposeProject(fixtureModel(), config).crontab).not.toContain("autoscale");
    expect(target.render(fixtureModel()).map((f) => f.path)).not.toContain("autoscale.sh");
  });

  it("autoscale.sh carries the queue, bounds and target as settings, reads Redis with REDISCLI_AUTH from the container's env, never -a", () => {
    const script = file("autoscale.sh");
    expect(script).toContain("readonly REDIS_SERVICE='redis'");
    expect(script).toContain(`readonly REDIS_CLI='export REDISCLI_AUTH="$REDIS_PASSWORD"; exec redis-cli "$@"'`);
    expect(script).toContain("declare -rA QUEUE_KEY=(['worker']='bull:analyst:wait')");
    expect(script).toContain("declare -rA QUEUE_TARGET=(['worker']='50')");
    expect(script).toContain("declare -rA SCALE_MIN=(['worker']='2')");
    expect(script).toContain("declare -rA SCALE_MAX=(['worker']='6')");
    expect(script).not.toMatch(/redis-cli[^\n]* -a /);
    // deploy.sh keeps the count within the same bounds.
    expect(file("deploy.sh")).toContain("declare -rA SCALE_MAX=(['worker']='6')");
  });

  it("the footprint counts a queue-scaled worker at its maximum and names the key that bounds it", () => {
    const model = queueModel("redis-list", "compose");
    const atMin = composeHostFit(
      model.workloads.map((w) => (w.name === "worker" ? { ...w, autoscaling: undefined } : w)),
      { cpus: 64, memoryGiB: 256 },
    );
    const atMax = composeHostFit(model.workloads, { cpus: 64, memoryGiB: 256 });
    expect(atMax.memoryMiB - atMin.memoryMiB).toBe(4 * 8192);
    const tight = composeHostFit(model.workloads, { cpus: 24, memoryGiB: 48 });
    expect(tight.problems[0]).toMatch(/^ballast:host\.memoryGiB: the stack's memory limits add up to \d+ MiB/);
    expect(tight.problems[0]).toContain("worker 49152 MiB (up to 6 replicas: ballast:workers[0].autoscaling.maxReplicas)");
    expect(tight.problems[0]).toContain(
      "Lower those keys' memory, lower ballast:workers[0].autoscaling.maxReplicas, or declare a bigger host",
    );
    expect(tight.problems[1]).toContain("worker 24 CPU (up to 6 replicas: ballast:workers[0].autoscaling.maxReplicas)");
  });
});

describe("the runbook's Scale section says how the worker scales on each target", () => {
  it("Compose: autoscale.sh from cron, its log and state; Kubernetes: KEDA's ScaledObject", () => {
    const compose = renderRunbook({
      model: queueModel("redis-list", "compose"),
      target: "compose",
      environment: "staging",
      compose: {
        mode: "local",
        project: "ballast",
        releaseDir: "/opt/ballast",
        composeCommand: "docker compose",
        keepReleases: 5,
        deployTimeoutSeconds: 300,
      },
    });
    expect(compose).toContain("2–6 on the Redis list `bull:analyst:wait`, 50 jobs per replica (autoscale.sh, every minute)");
    expect(compose).toContain("tail -n 50 /opt/ballast/.ballast/autoscale.log");
    const kubernetes = renderRunbook({
      model: queueModel("redis-stream"),
      target: "kubernetes",
      environment: "prod",
      kubernetes: { namespace: "ballast", context: "", secretName: "ballast-secrets" },
    });
    expect(kubernetes).toContain("2–6 on the Redis stream `events` (pending in group `workers`), 20 jobs per replica (KEDA)");
    expect(kubernetes).toContain("kubectl -n ballast get scaledobject");
    expect(kubernetes).toContain(`kubectl -n ballast patch scaledobject worker --type=merge -p '{"spec":{"maxReplicaCount":12}}'`);
  });
});
