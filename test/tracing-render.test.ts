/**
 * Tracing end to end through the render `pulumi up` runs: the all-features fixture (Jaeger)
 * and the same stack with Tempo, on both targets. Every traced workload (app, workers, cron
 * jobs, the traced extra service) gets the OTLP settings, keeps its own OTEL_* values and can
 * reach the collector; the untraced service gets neither. Kubernetes reachability is decided by
 * evaluating the rendered NetworkPolicies the way the API defines them (a small evaluator
 * below), Compose reachability by the networks the services share.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { renderRunbook, type RunbookInput } from "../components/runbook";
import type { WorkloadSpec } from "../components/spec";
import type { KubernetesObject } from "../components/targets/kubernetes";
import { renderStackFile, type RenderedStack } from "../scripts/lib/render-stack";
import { readStackFileAt } from "../scripts/lib/stack-files";
import { composeDocumentOf, composeSpecProblems, kubernetesObjectsOf, kubernetesSchemaProblems } from "./fixtures/validators";

const fixturePath = join(__dirname, "fixtures", "Pulumi.all-features.yaml");
const stackName = "all-features";
const sshKey = {
  "ballast:sshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\ntracing-test-key\n-----END OPENSSH PRIVATE KEY-----",
  "ballast:bootstrapSshPrivateKey": "-----BEGIN OPENSSH PRIVATE KEY-----\ntracing-bootstrap-key\n-----END OPENSSH PRIVATE KEY-----",
};
type Backend = "tempo" | "jaeger";
type Target = "compose" | "kubernetes";

/** The fixture's `ballast:monitoring` with another tracing backend (and that backend's default image). */
function monitoringWith(backend: Backend): string {
  const monitoring = JSON.parse(readStackFileAt(fixturePath, stackName).raw["ballast:monitoring"]) as { tracing: Record<string, unknown> };
  const { image: _image, ...tracing } = monitoring.tracing;
  return JSON.stringify({ ...monitoring, tracing: { ...tracing, backend } });
}

const renders = new Map<string, Promise<RenderedStack>>();
function rendered(target: Target, backend: Backend): Promise<RenderedStack> {
  const key = `${target}/${backend}`;
  if (!renders.has(key))
    renders.set(
      key,
      renderStackFile(fixturePath, stackName, { ...sshKey, "ballast:target": target, "ballast:monitoring": monitoringWith(backend) }),
    );
  return renders.get(key)!;
}

function workloadOf(stack: RenderedStack, name: string): WorkloadSpec {
  const found = stack.model.workloads.find((w) => w.name === name);
  if (!found) throw new Error(`no workload ${name}: ${stack.model.workloads.map((w) => w.name).join(", ")}`);
  return found;
}

/** The fixture's traced workloads: the app, the workers, the cron jobs and the service with `tracing: true`. */
const traced = ["api", "worker", "scout", "queue-clean", "usage-report", "llm-gateway"];
const otlpPorts = [4317, 4318];
const queryPort: Record<Backend, number> = { tempo: 3200, jaeger: 16686 };
const backends: Backend[] = ["jaeger", "tempo"];

// ---------------------------------------------------------------------------------------------
// A NetworkPolicy evaluator (networking.k8s.io/v1 semantics, for pods of one namespace):
// a pod selected by no policy of a type is open in that direction; once selected, a connection
// needs a rule of one of the selecting policies that matches the peer and the port. A
// connection A -> B:P needs A's egress and B's ingress.

type Labels = Record<string, string>;
interface Peer {
  podSelector?: { matchLabels?: Labels; matchExpressions?: unknown[] };
  namespaceSelector?: unknown;
  ipBlock?: { cidr: string; except?: string[] };
}
interface Rule {
  from?: Peer[];
  to?: Peer[];
  ports?: { port?: number | string; protocol?: string }[];
}
interface Policy {
  metadata: { name: string };
  spec: { podSelector: { matchLabels?: Labels }; policyTypes?: string[]; ingress?: Rule[]; egress?: Rule[] };
}

function podLabels(objects: KubernetesObject[], name: string): Labels {
  const owner = objects.find(
    (o) => ["Deployment", "StatefulSet", "DaemonSet", "CronJob", "Job"].includes(o.kind) && o.metadata.name === name,
  ) as
    | { spec: { template?: { metadata: { labels: Labels } }; jobTemplate?: { spec: { template: { metadata: { labels: Labels } } } } } }
    | undefined;
  const template = owner?.spec.template ?? owner?.spec.jobTemplate?.spec.template;
  if (!template) throw new Error(`no pod template for ${name}`);
  return template.metadata.labels;
}

function selects(selector: { matchLabels?: Labels; matchExpressions?: unknown[] }, labels: Labels): boolean {
  if (selector.matchExpressions?.length) throw new Error("matchExpressions are not evaluated here");
  return Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value);
}

/** Does the peer match a pod of the stack's namespace? Other namespaces, and ipBlocks that exclude pod ranges, do not. */
function peerMatchesPod(peer: Peer, labels: Labels): boolean {
  if (peer.namespaceSelector) return false;
  if (peer.podSelector) return selects(peer.podSelector, labels);
  return peer.ipBlock?.cidr === "0.0.0.0/0" && (peer.ipBlock.except ?? []).length === 0;
}

const portMatches = (rule: Rule, port: number) =>
  !rule.ports?.length || rule.ports.some((p) => p.port === port && (p.protocol ?? "TCP") === "TCP");

function directionAllows(policies: Policy[], podLabelsOf: Labels, direction: "Ingress" | "Egress", peer: Labels, port: number): boolean {
  const selecting = policies.filter(
    (p) => selects(p.spec.podSelector, podLabelsOf) && (p.spec.policyTypes ?? ["Ingress"]).includes(direction),
  );
  if (selecting.length === 0) return true;
  return selecting.some((policy) =>
    ((direction === "Ingress" ? policy.spec.ingress : policy.spec.egress) ?? []).some((rule) => {
      const peers = direction === "Ingress" ? rule.from : rule.to;
      return (!peers?.length || peers.some((p) => peerMatchesPod(p, peer))) && portMatches(rule, port);
    }),
  );
}

/** May a pod of workload `from` open a TCP connection to a pod of `to` on `port`? */
function connectionAllowed(objects: KubernetesObject[], from: string, to: string, port: number): boolean {
  const policies = objects.filter((o) => o.kind === "NetworkPolicy") as unknown as Policy[];
  const source = podLabels(objects, from);
  const destination = podLabels(objects, to);
  return directionAllows(policies, source, "Egress", destination, port) && directionAllows(policies, destination, "Ingress", source, port);
}

// ---------------------------------------------------------------------------------------------

describe("the NetworkPolicy evaluator", () => {
  it("allows the flows the stack declares and nothing else (checked on known flows)", async () => {
    const objects = kubernetesObjectsOf((await rendered("kubernetes", "jaeger")).files);
    expect(connectionAllowed(objects, "api", "postgres", 5432)).toBe(true);
    expect(connectionAllowed(objects, "api", "postgres", 5433)).toBe(false);
    expect(connectionAllowed(objects, "prometheus", "postgres", 5432)).toBe(false);
    expect(connectionAllowed(objects, "ollama", "postgres", 5432)).toBe(false);
    expect(connectionAllowed(objects, "prometheus", "api", 9464)).toBe(true);
  });
});

describe.each(backends)("tracing into %s", (backend) => {
  describe.each(["compose", "kubernetes"] as const)("on %s", (target) => {
    it("runs the backend's collector only, and provisions its Grafana datasource", async () => {
      const stack = await rendered(target, backend);
      const names = stack.model.workloads.map((w) => w.name);
      expect(names).toContain(backend);
      expect(names).not.toContain(backend === "tempo" ? "jaeger" : "tempo");
      const datasources = parse(workloadOf(stack, "grafana").configFiles.find((f) => f.name === "datasources.yaml")?.content ?? "") as {
        datasources: { type: string; url: string }[];
      };
      const traces = datasources.datasources.filter((d) => d.type === "tempo" || d.type === "jaeger");
      expect(traces).toEqual([expect.objectContaining({ type: backend, url: `http://${backend}:${queryPort[backend]}` })]);
    });

    it("gives every traced workload (app, workers, cron jobs, the traced service) the OTLP settings, and the untraced service none", async () => {
      const stack = await rendered(target, backend);
      for (const name of traced) {
        const env = workloadOf(stack, name).env;
        expect(env.OTEL_EXPORTER_OTLP_ENDPOINT, name).toBe(`http://${backend}:4318`);
        expect(env.OTEL_TRACES_SAMPLER_ARG, name).toBe("0.5");
      }
      expect(workloadOf(stack, "worker").env.OTEL_SERVICE_NAME).toBe("worker");
      // service.namespace: the Compose project / the Kubernetes part-of label.
      expect(workloadOf(stack, "queue-clean").env.OTEL_RESOURCE_ATTRIBUTES).toBe(
        `deployment.environment=prod,service.namespace=${stack.model.project}`,
      );
      for (const name of ["ollama", "postgres", "backup", "migrate"]) {
        expect(
          Object.keys(workloadOf(stack, name).env).filter((key) => key.startsWith("OTEL_")),
          name,
        ).toEqual([]);
      }
    });

    it("keeps the service's own OTEL_SERVICE_NAME and merges its resource attributes, its values winning", async () => {
      const stack = await rendered(target, backend);
      const env = workloadOf(stack, "llm-gateway").env;
      expect(env.OTEL_SERVICE_NAME).toBe("gateway");
      expect(env.OTEL_RESOURCE_ATTRIBUTES).toBe(
        `service.version=2.3.1,deployment.environment=canary,service.namespace=${stack.model.project}`,
      );
    });
  });

  describe("on Kubernetes", () => {
    it("lets every traced workload reach the collector's OTLP ports, and nobody else", async () => {
      const objects = kubernetesObjectsOf((await rendered("kubernetes", backend)).files);
      for (const name of traced) {
        for (const port of otlpPorts) expect(connectionAllowed(objects, name, backend, port), `${name} -> ${backend}:${port}`).toBe(true);
      }
      for (const name of ["ollama", "grafana", "prometheus", "backup", "postgres", "traefik"]) {
        for (const port of otlpPorts) expect(connectionAllowed(objects, name, backend, port), `${name} -> ${backend}:${port}`).toBe(false);
      }
      expect(connectionAllowed(objects, "grafana", backend, queryPort[backend])).toBe(true);
      expect(connectionAllowed(objects, "api", backend, queryPort[backend])).toBe(false);
      expect(connectionAllowed(objects, "prometheus", backend, backend === "tempo" ? 3200 : 8888)).toBe(true);
    });

    it("validates every object against the Kubernetes schema", async () => {
      expect(kubernetesSchemaProblems(kubernetesObjectsOf((await rendered("kubernetes", backend)).files))).toEqual([]);
    });
  });

  describe("on Compose", () => {
    it("puts every traced service on a network of the collector, and validates against the compose-spec schema", async () => {
      const compose = composeDocumentOf((await rendered("compose", backend)).files);
      const networks = (name: string) => {
        const value = (compose.services[name] as { networks?: string[] | Record<string, unknown> }).networks ?? [];
        return Array.isArray(value) ? value : Object.keys(value);
      };
      const collector = networks(backend);
      expect(collector).toEqual(["internal"]);
      for (const name of traced)
        expect(
          networks(name).some((n) => collector.includes(n)),
          name,
        ).toBe(true);
      expect(composeSpecProblems(compose)).toEqual([]);
    });
  });
});

describe("Jaeger on Compose", () => {
  it("mounts the Badger volume at the image's /tmp, probes /status with wget, and is scraped on 8888", async () => {
    const stack = await rendered("compose", "jaeger");
    const compose = composeDocumentOf(stack.files);
    const jaeger = compose.services.jaeger;
    expect(jaeger.image).toBe("jaegertracing/jaeger:2.19.0");
    expect(jaeger.volumes).toContain("jaeger-data:/tmp");
    expect(jaeger.healthcheck?.test).toEqual(["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:13133/status"]);
    const prometheus = workloadOf(stack, "prometheus").configFiles.find((f) => f.name === "prometheus.yml")?.content ?? "";
    expect(prometheus).toContain("jaeger:8888");
  });
});

describe.each(backends)("the generated runbook with %s", (backend) => {
  function runbookOf(stack: RenderedStack): string {
    const input: RunbookInput =
      stack.target === "compose"
        ? {
            model: stack.model,
            target: "compose",
            environment: "prod",
            compose: {
              mode: "ssh",
              project: stack.model.project,
              releaseDir: "/opt/allfeatures",
              ssh: { host: "203.0.113.50", port: 22, user: "deploy" },
              composeCommand: "docker compose",
              keepReleases: 5,
              deployTimeoutSeconds: 300,
            },
          }
        : {
            model: stack.model,
            target: "kubernetes",
            environment: "prod",
            kubernetes: { namespace: "allfeatures", context: "", secretName: "ballast-secrets" },
          };
    return renderRunbook(input);
  }

  it.each(["compose", "kubernetes"] as const)(
    "says where traces go, who sends them, how long they are kept and where to search them (%s)",
    async (target) => {
      const text = runbookOf(await rendered(target, backend));
      const name = backend === "tempo" ? "Tempo" : "Jaeger";
      expect(text).toContain("### Traces");
      expect(text).toContain(
        `Traces go to ${name} (\`${backend}\`, OTLP on ports 4317/4318, kept 168h), sent by \`api\`, \`worker\`, \`scout\`, \`queue-clean\`, \`usage-report\`, \`llm-gateway\` (50 % of root traces sampled).`,
      );
      expect(text).toContain(
        `https://grafana.allfeatures.example.com/ → Explore → data source ${name}, by service name \`api\`, \`worker\`, \`scout\`, \`queue-clean\`, \`usage-report\`, \`gateway\``,
      );
    },
  );
});
