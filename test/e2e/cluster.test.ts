/**
 * Scenario: a real single-node Kubernetes (scripts/e2e/cluster.sh: v1.37.2 built from Go modules,
 * Debian's etcd, containerd and CNI plugins, CoreDNS, local-path-provisioner, metrics-server; images
 * built locally, no registry). The smoke test proves what later Kubernetes scenarios rely on: the
 * node is Ready, a Deployment becomes Available, a Service resolves through CoreDNS and answers from
 * another pod, a volume claim binds through local-path and keeps its data across pods, the metrics
 * API reports a pod's CPU, and the API server's own validation (`kubectl apply --dry-run=server`)
 * runs over the prod render (`npm run render -- prod`): every object must be accepted (the report file,
 * printed too, lists any rejection with the server's message). The render is then applied for real,
 * twice: the second client-side apply changes nothing, and a server-side apply over it does not conflict;
 * every controller gets its pods admitted, under Pod Security `restricted` in the application
 * namespace and `privileged` in the per-node agents' namespace.
 *
 * BALLAST_E2E_CLUSTER_ENV=/run/ballast-e2e-cluster/cluster.env uses a cluster that is already up
 * (and leaves it up); otherwise the set-up step runs `cluster.sh up` and afterAll `cluster.sh down`.
 * BALLAST_E2E_DRY_RUN_REPORT sets the report file (default out/e2e/kubernetes-dry-run.txt).
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect } from "vitest";
import { parseAllDocuments } from "yaml";
import { repoRoot, runOk } from "./support/harness";
import { bringUpCluster, kubectl, kubectlRun, takeDownCluster, waitUntil, type TestCluster } from "./support/cluster";
import { scenarioSteps } from "./support/steps";

const NAMESPACE = `smoke-${Date.now().toString(36)}`;
const MARKER = `ballast-${Math.random().toString(36).slice(2, 10)}`;

/** A pod spec's container on the Debian base image, never pulled (there is no registry). */
function container(cluster: TestCluster, name: string, script: string, extra: Record<string, unknown> = {}) {
  return {
    name,
    image: cluster.baseImage,
    imagePullPolicy: "Never",
    command: ["bash", "-c", script],
    resources: { requests: { cpu: "10m", memory: "16Mi" }, limits: { cpu: "200m", memory: "64Mi" } },
    ...extra,
  };
}

function deployment(name: string, podSpec: Record<string, unknown>) {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NAMESPACE, labels: { app: name } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: { metadata: { labels: { app: name } }, spec: { terminationGracePeriodSeconds: 1, ...podSpec } },
    },
  };
}

function pod(name: string, podSpec: Record<string, unknown>) {
  return {
    apiVersion: "v1",
    kind: "Pod",
    metadata: { name, namespace: NAMESPACE, labels: { app: name } },
    spec: { terminationGracePeriodSeconds: 1, ...podSpec },
  };
}

/** An HTTP/1.0 answer from perl-base's IO::Socket::INET (the Debian base image has no nc or python). */
const ECHO_SERVER = [
  "exec perl -MIO::Socket::INET -e '",
  '$s = IO::Socket::INET->new(LocalPort => 8080, Listen => 16, ReuseAddr => 1) or die "listen: $!";',
  'while ($c = $s->accept) { <$c>; print $c "HTTP/1.0 200 OK\\r\\nContent-Type: text/plain\\r\\n\\r\\nhello from $ENV{HOSTNAME} $ENV{MARKER}\\n"; close $c }',
  "'",
].join(" ");

type Rejection = { kind: string; name: string; namespace: string; file: string; message: string };

/** kind/name of every document of the render, by file (what kubectl's messages name). */
function renderedObjects(dir: string): Map<string, { kind: string; name: string; namespace: string }[]> {
  const byFile = new Map<string, { kind: string; name: string; namespace: string }[]>();
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name)) {
        const objects = parseAllDocuments(fs.readFileSync(full, "utf8"))
          .map((doc) => doc.toJS() as { kind?: string; metadata?: { name?: string; namespace?: string } } | null)
          .filter((o): o is { kind: string; metadata: { name?: string; namespace?: string } } => !!o?.kind)
          .map((o) => ({ kind: o.kind, name: o.metadata?.name ?? "?", namespace: o.metadata?.namespace ?? "" }));
        byFile.set(full, objects);
      }
    }
  };
  walk(dir);
  return byFile;
}

/**
 * Why kubectl cannot decode a file although it is valid YAML 1.2: string maps (labels, annotations,
 * selectors) whose unquoted values YAML 1.1 (what kubectl reads) turns into booleans or numbers.
 */
function yaml11Hints(file: string): string[] {
  const text = fs.readFileSync(file, "utf8");
  const as12 = parseAllDocuments(text).map((d) => d.toJS());
  const as11 = parseAllDocuments(text, { version: "1.1" }).map((d) => d.toJS());
  const hints: string[] = [];
  const walk = (v11: unknown, v12: unknown, where: string) => {
    if (!v11 || typeof v11 !== "object" || Array.isArray(v11)) return;
    for (const [key, value] of Object.entries(v11 as Record<string, unknown>)) {
      const original = (v12 as Record<string, unknown> | undefined)?.[key];
      const here = where ? `${where}.${key}` : key;
      if (["labels", "annotations", "matchLabels", "nodeSelector"].includes(key) && value && typeof value === "object") {
        for (const [name, entry] of Object.entries(value as Record<string, unknown>)) {
          if (typeof entry !== "string") {
            const written = (original as Record<string, unknown> | undefined)?.[name];
            hints.push(
              `${here}["${name}"]: ${JSON.stringify(written)} unquoted reads as ${typeof entry} ${JSON.stringify(entry)} in YAML 1.1`,
            );
          }
        }
      } else {
        walk(value, original, here);
      }
    }
  };
  as11.forEach((doc, i) => walk(doc, as12[i], ""));
  return hints;
}

/**
 * The rejected objects of a `kubectl apply --dry-run=server` over a directory: kubectl names the file
 * in each error (`error when creating "<file>": ...`, `error validating "<file>": ...`, `error parsing
 * <file>: ...`); the file names the object.
 */
function rejections(output: string, objects: Map<string, { kind: string; name: string; namespace: string }[]>): Rejection[] {
  const found: Rejection[] = [];
  const files = [...objects.keys()].sort((a, b) => b.length - a.length);
  for (const line of output.split("\n")) {
    if (!/error|invalid|forbidden|denied|unable|cannot/i.test(line)) continue;
    const file = files.find((candidate) => line.includes(candidate));
    if (!file) {
      if (line.trim()) found.push({ kind: "?", name: "?", namespace: "", file: "?", message: line.trim() });
      continue;
    }
    const hints = /cannot unmarshal/.test(line) ? yaml11Hints(file) : [];
    const message = hints.length ? `${line.trim()} [${hints.join("; ")}]` : line.trim();
    for (const object of objects.get(file) ?? [{ kind: "?", name: "?", namespace: "" }]) {
      found.push({ ...object, file: path.basename(file), message });
    }
  }
  return found;
}

describe("Kubernetes cluster smoke test (scripts/e2e/cluster.sh)", () => {
  const step = scenarioSteps();
  let cluster: TestCluster | undefined;
  let clusterAttempted = false;
  const tmp: string[] = [];
  /** Namespaces of the render this scenario created (on a cluster it did not bring up, it deletes only those). */
  const createdNamespaces: string[] = [];
  /** Cluster-scoped objects of the render it applied (`kind/name`), deleted afterwards too. */
  const clusterScoped: string[] = [];
  let renderDir = "";
  let renderObjects = new Map<string, { kind: string; name: string; namespace: string }[]>();
  const apply = (objects: unknown[]) =>
    kubectl(cluster!, ["apply", "-f", "-"], { input: objects.map((o) => JSON.stringify(o)).join("\n") });

  step(
    "set-up: the cluster (scripts/e2e/cluster.sh up) and a namespace for the scenario",
    async () => {
      clusterAttempted = true;
      cluster = await bringUpCluster();
      await kubectl(cluster, ["create", "namespace", NAMESPACE]);
      // Pods can run only once the namespace's default ServiceAccount exists.
      await waitUntil("default ServiceAccount of the namespace", 60, async () =>
        (await kubectlRun(cluster!, ["-n", NAMESPACE, "get", "serviceaccount", "default"])).code === 0 ? true : undefined,
      );
    },
    80 * 60_000,
  );

  afterAll(async () => {
    for (const dir of tmp) fs.rmSync(dir, { recursive: true, force: true });
    if (cluster && !cluster.ownedByUs) {
      // Waited for, so that a next run on the same cluster does not meet them terminating.
      await kubectlRun(cluster, ["delete", "namespace", NAMESPACE, ...createdNamespaces, "--ignore-not-found", "--timeout=120s"], {
        timeoutSeconds: 150,
      });
      if (clusterScoped.length > 0) await kubectlRun(cluster, ["delete", ...clusterScoped, "--ignore-not-found"], { timeoutSeconds: 120 });
    }
    if (clusterAttempted) await takeDownCluster(cluster);
  });

  step("the node is Ready and runs the versions the cluster was built from", async () => {
    const node = JSON.parse(await kubectl(cluster!, ["get", "node", cluster!.nodeName, "-o", "json"]));
    const ready = node.status.conditions.find((c: { type: string }) => c.type === "Ready");
    expect(ready?.status).toBe("True");
    expect(node.status.nodeInfo.kubeletVersion).toBe(cluster!.versions.kubernetes);
    expect(node.status.nodeInfo.containerRuntimeVersion).toMatch(/^containerd:\/\//);
    expect(node.status.addresses).toContainEqual({ type: "InternalIP", address: cluster!.nodeIp });
  });

  step("a Deployment of the Debian base image becomes Available", async () => {
    await apply([deployment("shell", { containers: [container(cluster!, "shell", "exec sleep infinity")] })]);
    await kubectl(cluster!, ["-n", NAMESPACE, "wait", "--for=condition=Available", "deployment/shell", "--timeout=120s"], {
      timeoutSeconds: 150,
    });
  });

  step("a Service resolves through CoreDNS and answers from another pod", async () => {
    await apply([
      deployment("echo", {
        containers: [
          container(cluster!, "echo", ECHO_SERVER, {
            env: [{ name: "MARKER", value: MARKER }],
            ports: [{ containerPort: 8080 }],
            readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
          }),
        ],
      }),
      {
        apiVersion: "v1",
        kind: "Service",
        metadata: { name: "echo", namespace: NAMESPACE },
        spec: { selector: { app: "echo" }, ports: [{ port: 80, targetPort: 8080 }] },
      },
    ]);
    await kubectl(cluster!, ["-n", NAMESPACE, "wait", "--for=condition=Available", "deployment/echo", "--timeout=120s"], {
      timeoutSeconds: 150,
    });
    const clusterIp = (await kubectl(cluster!, ["-n", NAMESPACE, "get", "service", "echo", "-o", "jsonpath={.spec.clusterIP}"])).trim();
    const fqdn = `echo.${NAMESPACE}.svc.${cluster!.domain}`;
    // getent asks the pod's resolver (CoreDNS at the kubelet's cluster DNS address); bash's /dev/tcp
    // resolves the short name through the pod's search path and connects to the Service.
    const client = [
      "set -e",
      "grep -q '^nameserver " + cluster!.dnsIp + "$' /etc/resolv.conf",
      `getent hosts ${fqdn}`,
      "exec 3<>/dev/tcp/echo/80",
      "printf 'GET / HTTP/1.0\\r\\n\\r\\n' >&3",
      "timeout 10 cat <&3",
    ].join("\n");
    const answer = await waitUntil(`echo Service from the shell pod`, 60, async () => {
      const out = await kubectl(cluster!, ["-n", NAMESPACE, "exec", "deploy/shell", "--", "bash", "-c", client], { timeoutSeconds: 30 });
      return out.includes(MARKER) ? out : undefined;
    });
    expect(answer).toContain(`${clusterIp} `);
    expect(answer).toMatch(/HTTP\/1\.0 200 OK/);
    expect(answer).toMatch(new RegExp(`hello from echo-[a-z0-9-]+ ${MARKER}`));
  });

  step("a PersistentVolumeClaim binds through local-path and its data survives the pod", async () => {
    const volumePod = (name: string, script: string) =>
      pod(name, {
        containers: [container(cluster!, name, script, { volumeMounts: [{ name: "data", mountPath: "/data" }] })],
        volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }],
      });
    await apply([
      {
        apiVersion: "v1",
        kind: "PersistentVolumeClaim",
        // No storageClassName: `local-path` is the cluster's default class.
        metadata: { name: "data", namespace: NAMESPACE },
        spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "64Mi" } } },
      },
      volumePod("writer", `echo ${MARKER} > /data/marker && sync && exec sleep infinity`),
    ]);
    await kubectl(cluster!, ["-n", NAMESPACE, "wait", "--for=condition=Ready", "pod/writer", "--timeout=150s"], { timeoutSeconds: 180 });
    const claim = JSON.parse(await kubectl(cluster!, ["-n", NAMESPACE, "get", "pvc", "data", "-o", "json"]));
    expect(claim.status.phase).toBe("Bound");
    expect(claim.spec.storageClassName).toBe(cluster!.storageClass);
    await kubectl(cluster!, ["-n", NAMESPACE, "delete", "pod", "writer", "--wait=true", "--timeout=60s"], { timeoutSeconds: 90 });
    await apply([volumePod("reader", "cat /data/marker && exec sleep infinity")]);
    await kubectl(cluster!, ["-n", NAMESPACE, "wait", "--for=condition=Ready", "pod/reader", "--timeout=120s"], { timeoutSeconds: 150 });
    const read = await waitUntil("the reader pod's log", 30, async () => {
      const log = await kubectl(cluster!, ["-n", NAMESPACE, "logs", "reader"]);
      return log.trim() ? log.trim() : undefined;
    });
    expect(read).toBe(MARKER);
  });

  step(
    "kubectl top pod reports CPU for a pod (metrics API)",
    async () => {
      // A pod that uses some CPU (bounded by its 200m limit), so its usage is above zero.
      await apply([pod("busy", { containers: [container(cluster!, "busy", "while :; do :; done")] })]);
      await kubectl(cluster!, ["-n", NAMESPACE, "wait", "--for=condition=Ready", "pod/busy", "--timeout=120s"], { timeoutSeconds: 150 });
      const line = await waitUntil(
        "kubectl top pod busy",
        180,
        async () => {
          const result = await kubectlRun(cluster!, ["-n", NAMESPACE, "top", "pod", "busy", "--no-headers"]);
          const match = /^busy\s+(\d+)m\s+(\d+)Mi/m.exec(result.stdout);
          if (!match) throw new Error(`${result.stdout}${result.stderr}`.trim() || "no output");
          return Number(match[1]) > 0 ? match[0] : undefined;
        },
        5000,
      );
      console.log(`kubectl top pod: ${line}`);
      await kubectl(cluster!, ["-n", NAMESPACE, "delete", "pod", "busy", "--wait=false"]);
    },
    6 * 60_000,
  );

  step(
    "kubectl apply --dry-run=server over the prod render: every object accepted (rejections reported and failed)",
    async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-dry-run-"));
      tmp.push(dir);
      await runOk("npm run render -- prod", "npm", ["run", "--silent", "render", "--", "prod", "--out", dir], {
        cwd: repoRoot,
        timeoutSeconds: 300,
      });
      const manifests = path.join(dir, "kubernetes");
      renderDir = manifests;
      const objects = renderedObjects(manifests);
      const total = [...objects.values()].reduce((n, list) => n + list.length, 0);
      expect(total).toBeGreaterThan(0);
      // Namespaced objects are checked against their namespace: create the render's Namespaces for real
      // (those that do not exist yet; afterAll deletes what it created).
      for (const [file, list] of objects) {
        for (const ns of list.filter((o) => o.kind === "Namespace")) {
          if ((await kubectlRun(cluster!, ["get", "namespace", ns.name])).code === 0) continue;
          await kubectl(cluster!, ["apply", "-f", file]);
          createdNamespaces.push(ns.name);
        }
      }

      const result = await kubectlRun(cluster!, ["apply", "--dry-run=server", "-R", "-f", manifests], { timeoutSeconds: 300 });
      expect(result.timedOut).toBe(false);
      const accepted = result.stdout.split("\n").filter((l) => /\(server dry run\)/.test(l));
      const rejected = rejections(
        result.stderr
          .split("\n")
          .filter((l) => !/^Warning:/.test(l))
          .join("\n"),
        objects,
      );
      // Admission warnings (PodSecurity's `warn` level and the like) name no file: listed as they came.
      const warnings = [...new Set(result.stderr.split("\n").filter((l) => /^Warning:/.test(l)))];
      const report = [
        `# kubectl apply --dry-run=server -R -f <npm run render -- prod>/kubernetes`,
        `# cluster ${cluster!.versions.kubernetes}; ${total} objects in ${objects.size} files; ${accepted.length} accepted; ` +
          `${rejected.length} rejected; kubectl exit ${result.code}`,
        ...rejected.map((r) => `${r.kind}\t${r.namespace ? `${r.namespace}/` : ""}${r.name}\t${r.file}\t${r.message}`),
        `# ${warnings.length} distinct warnings of accepted objects`,
        ...warnings,
        "",
      ].join("\n");
      const reportFile = process.env.BALLAST_E2E_DRY_RUN_REPORT ?? path.join(repoRoot, "out", "e2e", "kubernetes-dry-run.txt");
      fs.mkdirSync(path.dirname(reportFile), { recursive: true });
      fs.writeFileSync(reportFile, report);
      console.log(`dry-run report (${reportFile}):\n${report}`);
      // Every object is accepted: the render is applyable as it is (YAML 1.1-safe, valid for the API server).
      expect(rejected.map((r) => `${r.kind}/${r.name}: ${r.message}`)).toEqual([]);
      expect(result.code, result.stderr).toBe(0);
      expect(accepted.length).toBe(total);
      renderObjects = objects;
    },
    10 * 60_000,
  );

  step(
    "kubectl apply of the prod render for real, twice: the second changes nothing; server-side apply over it does not conflict",
    async () => {
      const kinds = [...renderObjects.values()].flat();
      for (const o of kinds.filter((o) => !o.namespace && o.kind !== "Namespace")) clusterScoped.push(`${o.kind.toLowerCase()}/${o.name}`);
      const first = await kubectlRun(cluster!, ["apply", "-R", "-f", renderDir], { timeoutSeconds: 300 });
      expect(first.code, first.stderr).toBe(0);
      const versions = async () => {
        const out = await kubectl(cluster!, [
          "get",
          "poddisruptionbudget",
          "-A",
          "-o",
          "jsonpath={range .items[*]}{.metadata.name}={.metadata.resourceVersion} {end}",
        ]);
        return out.trim();
      };
      const budgetsBefore = await versions();
      const second = await kubectlRun(cluster!, ["apply", "-R", "-f", renderDir], { timeoutSeconds: 300 });
      expect(second.code, second.stderr).toBe(0);
      const lines = second.stdout.split("\n").filter((line) => line.trim());
      const changed = lines.filter((line) => !/ unchanged$/.test(line));
      console.log(`second kubectl apply: ${lines.length - changed.length} unchanged; ${changed.join("; ") || "nothing else"}`);
      expect(lines).toHaveLength(kinds.length);
      // policy/v1 PodDisruptionBudget.spec.selector has patch strategy "replace": kubectl's client-side
      // patch always carries it, so kubectl reports "configured" although the object does not change
      // (same resourceVersion). Every other object must be "unchanged".
      expect(changed.filter((line) => !/^poddisruptionbudget\.policy\/\S+ configured$/.test(line))).toEqual([]);
      expect(await versions()).toBe(budgetsBefore);
      const serverSide = await kubectlRun(
        cluster!,
        ["apply", "--server-side", "--field-manager=ballast-e2e-check", "-R", "-f", renderDir],
        {
          timeoutSeconds: 300,
        },
      );
      expect(serverSide.code, serverSide.stderr).toBe(0);
      expect(serverSide.stdout.split("\n").filter((line) => line.trim() && !/ serverside-applied$/.test(line))).toEqual([]);
      // Pod Security admission: the application namespace enforces restricted, the agents' privileged.
      // Every controller of the render gets its pods created (they wait for images no registry serves,
      // but they exist): none is refused, in either namespace.
      const namespaces = [...new Set(kinds.filter((o) => o.kind === "Namespace").map((o) => o.name))];
      const enforce = await Promise.all(
        namespaces.map(
          async (name) =>
            JSON.parse(await kubectl(cluster!, ["get", "namespace", name, "-o", "json"])).metadata.labels[
              "pod-security.kubernetes.io/enforce"
            ],
        ),
      );
      console.log(`Pod Security enforce: ${namespaces.map((name, i) => `${name}=${enforce[i]}`).join(", ")}`);
      expect(enforce).toEqual(namespaces.map((name) => (name.endsWith("-agents") ? "privileged" : "restricted")));
      const controllers = kinds.filter((o) => ["Deployment", "StatefulSet", "DaemonSet", "Job"].includes(o.kind));
      const withoutPods = async () => {
        const missing: string[] = [];
        for (const o of controllers) {
          const status =
            JSON.parse(await kubectl(cluster!, ["-n", o.namespace, "get", o.kind.toLowerCase(), o.name, "-o", "json"])).status ?? {};
          const created =
            o.kind === "DaemonSet"
              ? status.currentNumberScheduled
              : o.kind === "Job"
                ? (status.active ?? 0) + (status.failed ?? 0) + (status.succeeded ?? 0)
                : status.replicas;
          if (!(created > 0)) missing.push(`${o.kind}/${o.namespace}/${o.name}`);
        }
        return missing;
      };
      await waitUntil("every controller of the render has its pods created", 120, async () => {
        const missing = await withoutPods();
        if (missing.length > 0) throw new Error(`no pod yet: ${missing.join(", ")}`);
        return true;
      }).catch(async (error) => {
        const events = await kubectlRun(cluster!, [
          "get",
          "events",
          "-A",
          "--field-selector",
          "reason=FailedCreate",
          "-o",
          "custom-columns=NS:.metadata.namespace,OBJECT:.involvedObject.name,MESSAGE:.message",
        ]);
        throw new Error(`${(error as Error).message}\n${events.stdout}`);
      });
      const refused = (
        await kubectl(cluster!, [
          "get",
          "events",
          "-A",
          "--field-selector",
          "reason=FailedCreate",
          "-o",
          "custom-columns=NS:.metadata.namespace,MESSAGE:.message",
          "--no-headers",
        ])
      )
        .split("\n")
        .filter((line) => namespaces.some((name) => line.startsWith(`${name} `)) && /PodSecurity/.test(line));
      expect(refused).toEqual([]);
      console.log(`pods created for all ${controllers.length} controllers of the render; none refused by Pod Security`);
    },
    10 * 60_000,
  );
});
