/**
 * Scenario: the prod declaration on a real single-node Kubernetes (scripts/e2e/cluster.sh: v1.37.2
 * built from Go modules) with the real Kubernetes provider, `pulumi up` for real (not
 * renderYamlToDirectory). Pulumi.prod.yaml is adapted for one small node: the test host's locally
 * built images (scripts/e2e/host.sh: the e2e app, Debian's PostgreSQL and Redis, the real Traefik),
 * imported into the cluster's containerd; small resources and autoscaling bounds; the `local-path`
 * StorageClass; the public entry point as fixed NodePorts on the node IP (the bridge address, never
 * on another interface); no monitoring or backups (their images are not built here).
 *
 * The release's life: every object created; the app answers through Traefik (routes from its
 * ConfigMap's files, no Kubernetes API access) at its declared host over HTTPS (the cluster cannot reach any ACME CA, so Traefik serves
 * its default certificate: the checks pin it); the namespace enforces Pod Security `restricted` (a root
 * pod is refused by the API server, every pod of the stack was admitted) and Traefik's ServiceAccount
 * may not read its Secrets; the datastores bind their claims and become ready; a
 * row written survives a new app image; preview is empty, also after refresh; the HPAs read real CPU
 * from metrics-server; a failing image fails `pulumi up` within the progress deadline while the old
 * ReplicaSet serves every request of a constant load; `destroy --exclude-protected` removes everything
 * but the data and what the protected datastores use; a new `up` finds the row.
 *
 * BALLAST_E2E_CLUSTER_ENV=/run/ballast-e2e-cluster/cluster.env uses a running cluster (and leaves it
 * up, deleting only what this scenario created); BALLAST_E2E_HOST_ENV=/run/ballast-e2e/host.env a
 * running test host. Otherwise the set-up step brings each up and afterAll takes it down. Timings of
 * the engine operations go to out/e2e/kubernetes-cluster-timings.json (or
 * BALLAST_E2E_CLUSTER_TIMINGS) and the log.
 */
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import * as tls from "node:tls";
import { afterAll, describe, expect } from "vitest";
import { parse } from "yaml";
import { PulumiProject, repoRoot, requirePlugin, run, runOk, toolchainEnv, type InlineResult } from "./support/harness";
import { bringUpCluster, kubectl, kubectlRun, takeDownCluster, waitUntil, type TestCluster } from "./support/cluster";
import { bringUpHost, docker, takeDownHost, type TestHost } from "./support/host";
import { runLoad } from "./support/load";
import { scenarioSteps } from "./support/steps";

const STACK = "prod";
const NAMESPACE = "ballast-e2e";
/** The IngressClass key (used only with an existing controller): its own name, never a cluster's "traefik". */
const INGRESS_CLASS = "ballast-e2e";
const DOMAIN = "e2e.test";
const APP_HOST = `app.${DOMAIN}`;
/** Fixed node ports of the public entry point (kubernetes.nodePorts), on the node IP only. */
const NODE_PORTS = { http: 30080, https: 30443 };
/** The stack's rollout deadline: a failing release must fail `pulumi up` within it (plus the provider's 60 s). */
const PROGRESS_DEADLINE = 90;
const UP_TIMEOUT = 900;
const PREVIEW_TIMEOUT = 300;

type Json = Record<string, any>;

/** One HTTPS GET to the node's websecure node port with SNI and Host of the route (Traefik's default certificate accepted). */
function routeGet(cluster: TestCluster, urlPath: string, timeoutMs = 5000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: cluster.nodeIp,
        port: NODE_PORTS.https,
        path: urlPath,
        method: "GET",
        servername: APP_HOST,
        headers: { Host: APP_HOST },
        rejectUnauthorized: false,
        timeout: timeoutMs,
      },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => (body += chunk));
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      },
    );
    request.on("timeout", () => request.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    request.on("error", reject);
    request.end();
  });
}

/** The certificate Traefik serves on the websecure node port, as PEM, and the DNS name in it. */
function servedCertificate(cluster: TestCluster): Promise<{ pem: string; dnsName: string }> {
  return new Promise((resolve, reject) => {
    const socket = tls.connect({ host: cluster.nodeIp, port: NODE_PORTS.https, servername: APP_HOST, rejectUnauthorized: false }, () => {
      const certificate = socket.getPeerCertificate();
      socket.end();
      const base64 = certificate.raw.toString("base64").replace(/(.{64})/g, "$1\n");
      const dnsName = /DNS:([^,\s]+)/.exec(certificate.subjectaltname ?? "")?.[1] ?? "";
      resolve({ pem: `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`, dnsName });
    });
    socket.setTimeout(5000, () => socket.destroy(new Error("TLS handshake timed out")));
    socket.on("error", reject);
  });
}

/** The prod stack file's plain `ballast:` values (its one secret is set apart). */
function prodValues(): Json {
  const prod = parse(fs.readFileSync(path.join(repoRoot, "Pulumi.prod.yaml"), "utf8")) as { config: Json };
  const values: Json = {};
  for (const [name, value] of Object.entries(prod.config)) {
    if (typeof value === "object" && value !== null && "secure" in value) continue;
    values[name.replace(/^ballast:/, "")] = value;
  }
  return values;
}

const small = (cpu: number, memory: string) => ({ cpu, memory });

/**
 * Pulumi.prod.yaml for one small node: the e2e images (the app image runs the worker and the gateway
 * too), small resources and autoscaling bounds that still give both PodDisruptionBudgets, local-path
 * claims, the entry point as NodePorts, a short progress deadline, no monitoring or backups.
 */
function clusterStackConfig(host: TestHost): Json {
  const prod = prodValues();
  const app = host.images.appV1;
  const health = ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:3000/api/health', timeout=3)"];
  return {
    ...prod,
    environment: "prod",
    domain: DOMAIN,
    acmeEmail: `ops@${DOMAIN}`,
    tls: true,
    allowDataLoss: false,
    kubernetes: {
      ...(prod.kubernetes as Json),
      namespace: NAMESPACE,
      storageClass: "local-path",
      ingressClass: INGRESS_CLASS,
      deployTraefik: true,
      publicService: "NodePort",
      nodePorts: NODE_PORTS,
      progressDeadlineSeconds: PROGRESS_DEADLINE,
      readinessTimeoutSeconds: 300,
    },
    app: {
      ...(prod.app as Json),
      image: app,
      resources: small(0.2, "128Mi"),
      autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 4, cpuTargetPercent: 70 },
    },
    workers: (prod.workers as Json[]).map((worker) => ({
      ...worker,
      image: app,
      // The e2e app image has no node: its web server stands in for the worker process.
      command: ["python3", "/srv/app/server.py"],
      health: { command: health },
      resources: small(0.1, "96Mi"),
      replicas: 2,
      autoscaling: { enabled: true, minReplicas: 2, maxReplicas: 3, cpuTargetPercent: 80 },
    })),
    cronJobs: (prod.cronJobs as Json[]).map((job) => ({ ...job, image: app, command: ["python3", "-c", "print('queue clean')"] })),
    services: (prod.services as Json[]).map((service) => ({
      ...service,
      image: app,
      env: { PORT: String(service.port) },
      health: { liveness: "/api/health" },
      resources: small(0.1, "96Mi"),
    })),
    // Debian has no pgvector: the e2e Postgres image is plain PostgreSQL 15.
    postgres: { image: host.images.postgres, extensions: [], storageGiB: 1, resources: small(0.5, "256Mi") },
    redis: { image: host.images.redis, storageGiB: 1, maxmemory: "64mb", resources: small(0.2, "128Mi") },
    proxy: { image: host.images.proxy, resources: small(0.3, "128Mi") },
    backups: { enabled: false },
    monitoring: { enabled: false },
  };
}

describe("the prod declaration on a real Kubernetes cluster (pulumi up with the real provider)", () => {
  const step = scenarioSteps();
  let cluster: TestCluster | undefined;
  let host: TestHost | undefined;
  let clusterAttempted = false;
  let hostAttempted = false;
  let project: PulumiProject | undefined;
  const marker = `row-${Date.now().toString(36)}`;
  const timings: Record<string, number> = {};
  const tmp: string[] = [];
  let objectCount = 0;

  const ns = (args: string[]) => ["-n", NAMESPACE, ...args];
  const getJson = async (args: string[]): Promise<Json> => JSON.parse(await kubectl(cluster!, ns([...args, "-o", "json"])));
  /** An engine operation, timed under `label`. */
  const timed = async (label: string, run: () => Promise<InlineResult>): Promise<InlineResult> => {
    const started = Date.now();
    try {
      return await run();
    } finally {
      timings[label] = Math.round((Date.now() - started) / 100) / 10;
      console.log(`timing: ${label} ${timings[label]} s`);
    }
  };
  const appAnswers = async (version: string, seconds = 120) => {
    try {
      return await waitUntil(`the app (${version}) through Traefik at https://${APP_HOST}:${NODE_PORTS.https}`, seconds, async () => {
        const answer = await routeGet(cluster!, "/api/health");
        if (answer.status !== 200 || !answer.body.includes(`"version": "${version}"`))
          throw new Error(`HTTP ${answer.status} ${answer.body.slice(0, 200)}`);
        return answer;
      });
    } catch (error) {
      // Traefik reads its routes from its ConfigMap's files: a file it cannot parse is in its log.
      const log = await kubectlRun(cluster!, ns(["logs", "traefik-0", "--tail=200"]));
      const problem = log.stdout.split("\n").find((line) => /"level":"error"/.test(line));
      if (problem) throw new Error(`${(error as Error).message}\nTraefik logged: ${problem.slice(0, 300)}`, { cause: error });
      throw error;
    }
  };
  /** SQL through psql in the Postgres pod, as the database owner over the pod's own TCP loopback. */
  const psql = async (sql: string): Promise<string> => {
    const script =
      'PGPASSWORD="$(cat "$POSTGRES_PASSWORD_FILE")" exec psql -v ON_ERROR_STOP=1 -h 127.0.0.1 -U "$POSTGRES_USER" -d "$POSTGRES_DB" -tAc "$1"';
    return (
      await kubectl(cluster!, ns(["exec", "postgres-0", "-c", "postgres", "--", "bash", "-c", script, "psql", sql]), { timeoutSeconds: 60 })
    ).trim();
  };

  // Set-up is the first step, not a beforeAll: a missing prerequisite fails the scenario.
  step(
    "set-up: toolchain and plugins, the test host's images, the cluster, the images imported, the prod stack",
    async () => {
      const env = toolchainEnv({ ensure: ["kubernetes"] });
      requirePlugin(env, "kubernetes", "pulumi up against a real cluster", { allowStandin: false });
      requirePlugin(env, "random", "the stack's generated secrets", { allowStandin: true });
      hostAttempted = true;
      host = await bringUpHost();
      clusterAttempted = true;
      cluster = await bringUpCluster();
      const images = [
        host.images.appV1,
        host.images.appV2,
        host.images.appFailing,
        host.images.postgres,
        host.images.redis,
        host.images.proxy,
      ];
      for (const image of images) {
        // host.sh may have left only the registry's copy: pull it back into the engine to save it from.
        if ((await docker(["images", "-q", image])) === "") await docker(["pull", "-q", image], 300);
      }
      await runOk("cluster.sh import-image", "bash", [cluster.script, "import-image", ...images], { cwd: repoRoot, timeoutSeconds: 900 });
      process.env.KUBECONFIG = cluster.kubeconfig;
      project = await PulumiProject.create({
        stack: STACK,
        config: clusterStackConfig(host),
        // prod declares this secret; its value is a throwaway.
        secrets: { "secretValues.openai-api-key": "sk-e2e-throwaway" },
      });
      // Cold: the host's builds (compose, Traefik, images) and the cluster's (Kubernetes from Go modules).
    },
    150 * 60_000,
  );

  afterAll(async () => {
    console.log(`timings (s): ${JSON.stringify(timings)}`);
    const timingsFile = process.env.BALLAST_E2E_CLUSTER_TIMINGS ?? path.join(repoRoot, "out", "e2e", "kubernetes-cluster-timings.json");
    fs.mkdirSync(path.dirname(timingsFile), { recursive: true });
    fs.writeFileSync(timingsFile, `${JSON.stringify({ objects: objectCount, seconds: timings }, null, 2)}\n`);
    project?.dispose();
    for (const dir of tmp) fs.rmSync(dir, { recursive: true, force: true });
    if (cluster && !cluster.ownedByUs && process.env.BALLAST_E2E_KEEP === "1") {
      console.log(`BALLAST_E2E_KEEP=1: kept namespace ${NAMESPACE} on the cluster`);
    } else if (cluster && !cluster.ownedByUs) {
      // What the protected objects kept alive, and the cluster-scoped objects of the stack.
      await kubectlRun(cluster, ["delete", "namespace", NAMESPACE, "--ignore-not-found", "--timeout=180s"], { timeoutSeconds: 210 });
    }
    if (clusterAttempted) await takeDownCluster(cluster);
    if (hostAttempted) await takeDownHost(host);
  });

  step("pulumi preview, then pulumi up creates every object of the declaration", async () => {
    const preview = await timed("preview (empty stack)", () => project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT }));
    expect((preview.result?.changes as Record<string, number>).create).toBeGreaterThan(40);
    const up = await timed("up (create)", () => project!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT }));
    expect((up.result?.outputs as Json).appUrl).toBe(`https://${APP_HOST}`);
    // Every Kubernetes resource of the state exists in the cluster.
    const state = JSON.parse((await project!.cli(["stack", "export", "--stack", STACK], 120)).stdout) as Json;
    const objects = (state.deployment.resources as Json[]).filter(
      (r) => String(r.type).startsWith("kubernetes:") && !String(r.type).startsWith("pulumi:"),
    );
    objectCount = objects.length;
    expect(objectCount).toBeGreaterThan(40);
    const missing: string[] = [];
    for (const resource of objects) {
      const { kind, metadata } = resource.outputs as { kind: string; metadata: { name: string; namespace?: string } };
      const args = [...(metadata.namespace ? ["-n", metadata.namespace] : []), "get", kind, metadata.name, "-o", "name"];
      if ((await kubectlRun(cluster!, args)).code !== 0) missing.push(`${kind}/${metadata.name}`);
    }
    expect(missing).toEqual([]);
  });

  step("the app answers through Traefik at its declared host (HTTPS, websecure node port on the node IP)", async () => {
    const answer = await appAnswers("v1");
    expect(answer.body).toContain('"status": "ok"');
    const service = await getJson(["get", "service", "traefik-public"]);
    expect(service.spec.type).toBe("NodePort");
    expect(service.spec.ports.map((p: Json) => p.nodePort)).toEqual([NODE_PORTS.http, NODE_PORTS.https]);
    // The security-headers middleware of Traefik's file provider is on the route.
    const headers = await new Promise<Record<string, unknown>>((resolve, reject) => {
      https
        .get(
          {
            host: cluster!.nodeIp,
            port: NODE_PORTS.https,
            path: "/api/health",
            servername: APP_HOST,
            headers: { Host: APP_HOST },
            rejectUnauthorized: false,
          },
          (response) => {
            response.resume();
            resolve(response.headers);
          },
        )
        .on("error", reject);
    });
    expect(headers["strict-transport-security"]).toMatch(/max-age=31536000/);
  });

  step(
    "the namespace enforces Pod Security restricted: a root pod is refused, every pod of the stack was admitted; Traefik reads no Secret",
    async () => {
      const namespace = await getJson(["get", "namespace", NAMESPACE]);
      expect(namespace.metadata.labels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
      // A pod as root, dry-run on the server: PodSecurity admission refuses it in this namespace.
      const podOf = (name: string, securityContext: Json, containerContext: Json) => ({
        apiVersion: "v1",
        kind: "Pod",
        metadata: { name, namespace: NAMESPACE },
        spec: {
          securityContext,
          containers: [{ name: "probe", image: host!.images.appV1, imagePullPolicy: "Never", securityContext: containerContext }],
        },
      });
      const root = podOf("psa-root-probe", { runAsUser: 0 }, {});
      const refused = await kubectlRun(cluster!, ["apply", "--dry-run=server", "-f", "-"], { input: JSON.stringify(root) });
      console.log(`root pod, server dry run: exit ${refused.code}: ${refused.stderr.trim()}`);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr).toMatch(/violates PodSecurity "restricted:latest"/);
      expect(refused.stderr).toMatch(/runAsNonRoot != true|runAsUser=0/);
      // The same pod hardened as Ballast renders its own is admitted: the refusal is the level, not the image.
      const hardened = podOf(
        "psa-restricted-probe",
        { runAsNonRoot: true, runAsUser: 65534, seccompProfile: { type: "RuntimeDefault" } },
        { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
      );
      const admitted = await kubectlRun(cluster!, ["apply", "--dry-run=server", "-f", "-"], { input: JSON.stringify(hardened) });
      expect(admitted.code, admitted.stderr).toBe(0);
      // Every pod the stack's controllers wanted exists: none was refused at admission.
      const events = await getJson(["get", "events", "--field-selector", "reason=FailedCreate"]);
      const refusals = (events.items as Json[]).map(
        (event) => `${event.involvedObject.kind}/${event.involvedObject.name}: ${event.message}`,
      );
      expect(refusals).toEqual([]);
      const pods = (await getJson(["get", "pods"])).items as Json[];
      const owners = new Set(pods.map((pod) => String(pod.metadata.labels?.["app.kubernetes.io/name"] ?? "")));
      for (const name of ["traefik", "app", "worker", "postgres", "redis", "llm-gateway"])
        expect(owners.has(name), `a pod of ${name}`).toBe(true);
      for (const set of ["deployment", "statefulset"]) {
        for (const item of (await getJson(["get", set])).items as Json[]) {
          expect(item.status.readyReplicas ?? 0, `${set}/${item.metadata.name} ready`).toBe(item.status.replicas);
        }
      }
      // Traefik routes from files: no token in its pod, and its ServiceAccount may not read Secrets.
      const traefik = await getJson(["get", "pod", "traefik-0"]);
      expect(traefik.spec.automountServiceAccountToken).toBe(false);
      const canRead = await kubectlRun(cluster!, [
        "auth",
        "can-i",
        "list",
        "secrets",
        "-n",
        NAMESPACE,
        `--as=system:serviceaccount:${NAMESPACE}:traefik`,
      ]);
      expect(canRead.stdout.trim()).toBe("no");
    },
  );

  step("Postgres and Redis StatefulSets bind their claims and are ready", async () => {
    for (const name of ["postgres", "redis"]) {
      const set = await getJson(["get", "statefulset", name]);
      expect(set.status.readyReplicas, name).toBe(1);
      const claim = await getJson(["get", "pvc", `${name}-data-${name}-0`]);
      expect(claim.status.phase, name).toBe("Bound");
      expect(claim.spec.storageClassName, name).toBe(cluster!.storageClass);
    }
  });

  step("a row written to Postgres survives a new app image", async () => {
    await psql(`CREATE TABLE e2e_marker (value text NOT NULL); INSERT INTO e2e_marker VALUES ('${marker}')`);
    expect(await psql("SELECT value FROM e2e_marker")).toBe(marker);
    await project!.setConfig("app.image", host!.images.appV2, { path: true });
    await timed("up (new app image)", () => project!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT }));
    await appAnswers("v2");
    expect(await psql("SELECT value FROM e2e_marker")).toBe(marker);
  });

  step("pulumi preview right after is empty, and stays empty after pulumi refresh", async () => {
    await timed("preview (no changes)", () => project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT, expectNoChanges: true }));
    await timed("refresh", () => project!.inlineOk("refresh", { timeoutSeconds: PREVIEW_TIMEOUT }));
    await project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT, expectNoChanges: true });
  });

  step(
    "npm run drift: clean after up; a ConfigMap edited and a NetworkPolicy deleted behind Pulumi's back are named; refresh + up reconcile",
    async () => {
      const drift = () =>
        run(
          path.join(repoRoot, "node_modules", ".bin", "tsx"),
          [path.join(repoRoot, "scripts", "drift.ts"), STACK, "--project-dir", project!.projectDir],
          {
            cwd: repoRoot,
            env: project!.env(),
            timeoutSeconds: 300,
          },
        );
      const clean = await drift();
      expect(clean.code, `drift before any change:\n${clean.stdout}${clean.stderr}`).toBe(0);
      expect(clean.stdout).toMatch(/^No drift in stack `prod`: all \d+ resources match the last deployment\.$/m);
      // Out of band, as during an incident: one declared ConfigMap value changed, one policy deleted.
      const state = JSON.parse((await project!.cli(["stack", "export", "--stack", STACK], 120)).stdout) as Json;
      const resources = state.deployment.resources as Json[];
      const configMap = resources.find(
        (r) =>
          r.type === "kubernetes:core/v1:ConfigMap" &&
          r.outputs?.metadata?.namespace === NAMESPACE &&
          !/traefik/.test(r.outputs.metadata.name) &&
          Object.keys(r.outputs.data ?? {}).length > 0,
      );
      const policy = resources.find(
        (r) =>
          r.type === "kubernetes:networking.k8s.io/v1:NetworkPolicy" &&
          /default-deny/.test(r.outputs?.metadata?.name ?? "") &&
          r.outputs.metadata.namespace === NAMESPACE,
      );
      expect(configMap, "a ConfigMap with data (not Traefik's) in the stack").toBeDefined();
      expect(policy, "a default-deny NetworkPolicy in the stack").toBeDefined();
      const key = Object.keys(configMap!.outputs.data)[0];
      await kubectl(
        cluster!,
        ns([
          "patch",
          "configmap",
          configMap!.outputs.metadata.name,
          "--type",
          "merge",
          "-p",
          JSON.stringify({ data: { [key]: "edited by hand" } }),
        ]),
      );
      await kubectl(cluster!, ns(["delete", "networkpolicy", policy!.outputs.metadata.name]));
      const drifted = await drift();
      console.log(`npm run drift after the out-of-band changes:\n${drifted.stdout}`);
      expect(drifted.code, drifted.stderr).toBe(1);
      const rowOf = (name: string) => drifted.stdout.split("\n").find((line) => line.startsWith(`| \`${name}\``)) ?? "";
      const urnName = (r: Json) => String(r.urn).split("::").pop()!;
      expect(rowOf(urnName(configMap!))).toContain("| `kubernetes:core/v1:ConfigMap` | update |");
      expect(rowOf(urnName(configMap!))).not.toContain("edited by hand");
      expect(rowOf(urnName(policy!))).toContain("| delete | the resource no longer exists |");
      // Reconcile as docs/ci-workflows.md says: refresh, then up puts back what the stack declares.
      await project!.inlineOk("refresh", { timeoutSeconds: PREVIEW_TIMEOUT });
      await project!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT });
      const after = await drift();
      expect(after.code, `drift after refresh + up:\n${after.stdout}${after.stderr}`).toBe(0);
      const restored = await getJson(["get", "configmap", configMap!.outputs.metadata.name]);
      expect(restored.data[key]).toBe(configMap!.outputs.data[key]);
      await kubectl(cluster!, ns(["get", "networkpolicy", policy!.outputs.metadata.name]));
    },
  );

  step(
    "the HPAs report real CPU from metrics-server",
    async () => {
      for (const name of ["app", "worker"]) {
        const line = await waitUntil(
          `kubectl get hpa ${name} shows a current CPU value`,
          240,
          async () => {
            const hpa = await getJson(["get", "hpa", name]);
            const current = (hpa.status?.currentMetrics ?? []).find((m: Json) => m.type === "Resource")?.resource?.current;
            if (current?.averageUtilization === undefined) throw new Error(`status: ${JSON.stringify(hpa.status ?? {})}`);
            return (await kubectl(cluster!, ns(["get", "hpa", name, "--no-headers"]))).trim();
          },
          5000,
        );
        console.log(`kubectl get hpa: ${line}`);
        expect(line).toMatch(/cpu: \d+%\/\d+%/);
      }
    },
    10 * 60_000,
  );

  step(
    "a failing image fails pulumi up at the progress deadline (+ the provider's 60 s); the old ReplicaSet serves every request under load",
    async () => {
      const { pem, dnsName } = await servedCertificate(cluster!);
      expect(dnsName).not.toBe("");
      const work = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-e2e-k8s-load-"));
      tmp.push(work);
      const caFile = path.join(work, "traefik-default.pem");
      fs.writeFileSync(caFile, pem);
      await project!.setConfig("app.image", host!.images.appFailing, { path: true });
      // Load for as long as the failed release may take: Traefik's default certificate pinned (its own
      // name in the URL and SNI), the route's host in the Host header, every connection to the node port.
      const loadSeconds = PROGRESS_DEADLINE + 90;
      const load = runLoad({
        vegeta: host!.values.BALLAST_E2E_VEGETA ?? process.env.BALLAST_E2E_VEGETA ?? "",
        rate: 10,
        durationSeconds: loadSeconds,
        targets: [{ url: `https://${dnsName}:${NODE_PORTS.https}/api/health`, headers: { Host: APP_HOST } }],
        caFile,
        connectTo: { [`${dnsName}:${NODE_PORTS.https}`]: `${cluster!.nodeIp}:${NODE_PORTS.https}` },
      });
      const started = Date.now();
      const failed = await timed("up (failing image)", () => project!.inline("up", { timeoutSeconds: UP_TIMEOUT }));
      const seconds = (Date.now() - started) / 1000;
      const report = await load;
      console.log(`load during the failed release: ${JSON.stringify(report)}`);
      expect(failed.timedOut, "pulumi up of the failing image timed out instead of failing").toBe(false);
      expect(failed.code, "pulumi up of the failing image must fail").not.toBe(0);
      // Kubernetes marks the rollout ProgressDeadlineExceeded at the deadline; the provider warns and fails
      // at the Deployment's customTimeout, 60 s later (apply.ts).
      expect(failed.output).toMatch(/deployment-app.*\[ProgressDeadlineExceeded\] ReplicaSet "app-[a-z0-9]+" has timed out progressing/);
      expect(failed.output).toMatch(/"ballast-e2e\/app" failed to fully initialize or become live: 'app' timed out waiting to be Ready/);
      // The deadline, the provider's 60 s, the engine's start-up.
      expect(seconds).toBeGreaterThan(PROGRESS_DEADLINE);
      expect(seconds).toBeLessThan(PROGRESS_DEADLINE + 60 + 40);
      expect(report.requests).toBeGreaterThan(loadSeconds * 10 * 0.9);
      expect(report.failures, report.errors.join("\n")).toBe(0);
      await appAnswers("v2", 30);
      // Back to the release that runs.
      await project!.setConfig("app.image", host!.images.appV2, { path: true });
      await project!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT });
      await appAnswers("v2");
      await project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT, expectNoChanges: true });
    },
    20 * 60_000,
  );

  step("pulumi destroy --exclude-protected removes all but the data; the claims and the row stay", async () => {
    const destroyed = await timed("destroy --exclude-protected", () =>
      project!.inlineOk("destroy", { timeoutSeconds: UP_TIMEOUT, excludeProtected: true }),
    );
    console.log(`destroy: ${JSON.stringify(destroyed.result)}`);
    const left = (await kubectl(cluster!, ns(["get", "deployment,daemonset,cronjob,job,hpa,pdb,ingress", "-o", "name"]))).trim();
    expect(left, "no stateless workload, autoscaler, budget or route is left").toBe("");
    for (const name of ["postgres", "redis"]) expect((await getJson(["get", "pvc", `${name}-data-${name}-0`])).status.phase).toBe("Bound");
    const state = JSON.parse((await project!.cli(["stack", "export", "--stack", STACK], 120)).stdout) as Json;
    const kept = (state.deployment.resources as Json[])
      .filter((r) => String(r.type).startsWith("kubernetes:"))
      .map((r) => String(r.urn).split("::").pop());
    console.log(`kept by destroy --exclude-protected: ${kept.join(", ")}`);
    // What the protected objects use themselves, nothing else: no Service of a stateless workload, no Ingress.
    expect(
      kept.filter((name) =>
        /^(deployment|ingress|horizontalpodautoscaler|poddisruptionbudget|service-app|service-worker)/.test(name ?? ""),
      ),
    ).toEqual([]);
    expect(await psql("SELECT value FROM e2e_marker")).toBe(marker);
  });

  step("a new pulumi up finds the row", async () => {
    await timed("up (after destroy)", () => project!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT }));
    await appAnswers("v2");
    expect(await psql("SELECT value FROM e2e_marker")).toBe(marker);
    await timed("preview (no changes, after redeploy)", () =>
      project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT, expectNoChanges: true }),
    );
  });
});
