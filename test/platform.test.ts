/**
 * The real program, per stack file, under mocks: the components it declares, the model the
 * targets receive, data safety and secret handling. The targets' own details are tested in
 * test/targets/.
 */
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { parsePlatformConfig } from "../components/config";
import { composeHostFit } from "../components/footprint";
import { renderStack, withSecretPlaceholders, type RenderedStack } from "../scripts/lib/render-stack";
import { readStackFile } from "../scripts/lib/stack-files";

/** Pulumi's marker of a secret value in serialized inputs. */
const secretSignature = "4dabf18193072939515e22adb298388d";

/** Inputs as text, with base64 blocks decoded too (bundles carry files base64-encoded). */
function revealedText(inputs: unknown): string {
  const strings: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === "string") strings.push(value);
    else if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === "object") Object.values(value).forEach(walk);
  };
  walk(inputs);
  const decoded = strings.flatMap((text) => {
    const blocks: string[] = [];
    let block = "";
    for (const line of text.split("\n")) {
      if (/^[A-Za-z0-9+/]{4,}={0,2}$/.test(line)) block += line;
      else if (block) {
        blocks.push(block);
        block = "";
      }
    }
    if (block) blocks.push(block);
    return blocks.map((b) => Buffer.from(b, "base64").toString("utf8"));
  });
  return `${JSON.stringify(inputs)}\n${decoded.join("\n")}`;
}

const cache = new Map<string, Promise<RenderedStack>>();
function rendered(stack: string, overrides: Record<string, string> = {}): Promise<RenderedStack> {
  const key = `${stack}:${JSON.stringify(overrides)}`;
  if (!cache.has(key)) cache.set(key, renderStack(stack, overrides));
  return cache.get(key)!;
}

/** Waits for outputs of mocked resources to settle, so every resource has been recorded. */
const settled = () => new Promise((resolve) => setTimeout(resolve, 50));

/**
 * The components a stack without builds declares: the ones that own resources. The parts that only
 * shape specs (app, workers, datastores, proxy, backups, observability) are plain functions, and
 * ImageBuilds exists only with a `build` (test/all-features.test.ts).
 */
const componentTypes = ["ballast:platform:Platform", "ballast:secrets:Secrets"];

describe.each(["dev", "staging", "prod"])("stack %s under mocks", (stack) => {
  it("declares every component, parented to the Platform", async () => {
    const { recorder } = await rendered(stack);
    await settled();
    for (const type of componentTypes) {
      const options = recorder.options.filter((o) => o.type === type);
      expect(options, type).toHaveLength(1);
      if (type !== "ballast:platform:Platform") expect(options[0].parent).toBe("ballast:platform:Platform::ballast");
    }
    // No empty component: every component but the root parents at least one resource.
    const components = recorder.options.filter((o) => !o.custom && o.type !== "ballast:platform:Platform");
    expect(components.map((o) => o.type)).toEqual(["ballast:secrets:Secrets"]);
    for (const component of components)
      expect(recorder.options.some((o) => o.parent === `${component.type}::${component.name}`)).toBe(true);
  });

  it("builds the runbook's services", async () => {
    const { model } = await rendered(stack);
    const names = model.workloads.map((w) => w.name);
    expect(names).toEqual(expect.arrayContaining(["traefik", "app", "worker", "queue-clean", "postgres", "redis"]));
    const app = model.workloads.find((w) => w.name === "app")!;
    expect(app.health?.http?.path).toBe("/api/health");
    expect(app.metrics?.path).toBe("/api/v1/metrics");
  });

  it("derives datastore access from the credentials a workload holds", async () => {
    const { model } = await rendered(stack);
    const postgres = model.workloads.find((w) => w.name === "postgres")!;
    const redis = model.workloads.find((w) => w.name === "redis")!;
    expect(postgres.network.allowFrom).toEqual(expect.arrayContaining(["app", "worker", "queue-clean"]));
    expect(postgres.network.allowFrom).not.toContain("traefik");
    expect(redis.network.allowFrom).toEqual(expect.arrayContaining(["app", "worker", "queue-clean"]));
    expect(postgres.network.egressInternet).toBe(false);
  });

  it("generates secrets it uses and protects the encryption key", async () => {
    const { recorder } = await rendered(stack);
    await settled();
    const encryptionKey = recorder.optionsOf("random:index/randomBytes:RandomBytes", "ballast-secrets-encryption-key");
    expect(encryptionKey?.protect).toBe(true);
    const passwords = recorder.byType("random:index/randomPassword:RandomPassword").map((r) => r.name);
    expect(passwords).toEqual(
      expect.arrayContaining(["ballast-secrets-postgres-password", "ballast-secrets-redis-password", "ballast-secrets-auth-secret"]),
    );
  });

  it("never writes a secret value into a rendered file or a non-secret resource input", async () => {
    const { files, recorder } = await rendered(stack);
    await settled();
    // The mocks give generated secrets LEAKCHECK-prefixed values (hex-encoded for the encryption key).
    const leakPattern = /LEAKCHECK|render-placeholder-openai-api-key|4c45414b434845434b/;
    for (const file of files) {
      expect(leakPattern.test(file.content), `${file.path} contains a secret value`).toBe(false);
    }
    // Only the secret holders may carry values: the Kubernetes Secret and the Compose release command's bundle.
    const holders = new Set(["kubernetes:core/v1:Secret", "command:remote:Command", "command:local:Command"]);
    let heldByHolders = 0;
    for (const resource of recorder.resources) {
      const text = revealedText(resource.inputs);
      if (holders.has(resource.type)) {
        if (leakPattern.test(text)) {
          heldByHolders++;
          // Whatever carries the values is a secret input (encrypted in state, hidden in previews).
          const carriers = Object.entries(resource.inputs).filter(([, value]) => leakPattern.test(revealedText(value)));
          for (const [key, value] of carriers) {
            expect(JSON.stringify(value).includes(secretSignature), `${resource.type} ${resource.name}.${key} is not a secret`).toBe(true);
          }
        }
        continue;
      }
      expect(leakPattern.test(text), `${resource.type} ${resource.name} input contains a secret value`).toBe(false);
    }
    // The values do reach the stack (so the search above would have found a leak).
    expect(heldByHolders).toBeGreaterThan(0);
  });
});

describe("targets per stack", () => {
  it("dev and staging render a compose project; only Traefik publishes ports on staging", async () => {
    for (const stack of ["dev", "staging"]) {
      const { files, target } = await rendered(stack);
      expect(target).toBe("compose");
      const compose = parse(files.find((f) => f.path === "docker-compose.yml")!.content) as {
        services: Record<string, { ports?: unknown[] }>;
      };
      const publishing = Object.entries(compose.services)
        .filter(([, s]) => (s.ports ?? []).length > 0)
        .map(([name]) => name);
      expect(publishing).toEqual(["traefik"]);
    }
  });

  it("prod renders Kubernetes objects with HPAs, PDBs, StatefulSets, a CronJob, TLS routes in Traefik's file and NetworkPolicies", async () => {
    const { files, target } = await rendered("prod");
    expect(target).toBe("kubernetes");
    const objects = files.map((f) => parse(f.content) as { kind: string; metadata: { name: string }; spec?: Record<string, unknown> });
    const kinds = new Set(objects.map((o) => o.kind));
    for (const kind of [
      "HorizontalPodAutoscaler",
      "PodDisruptionBudget",
      "StatefulSet",
      "CronJob",
      "NetworkPolicy",
      "Secret",
      "ConfigMap",
      "Service",
      "Deployment",
    ]) {
      expect(kinds.has(kind), kind).toBe(true);
    }
    const appHpa = objects.find((o) => o.kind === "HorizontalPodAutoscaler" && o.metadata.name === "app")!;
    expect(appHpa.spec).toMatchObject({ minReplicas: 3, maxReplicas: 10 });
    const workerHpa = objects.find((o) => o.kind === "HorizontalPodAutoscaler" && o.metadata.name === "worker")!;
    expect(workerHpa.spec).toMatchObject({ minReplicas: 5, maxReplicas: 20 });
    // Traefik routes from its ConfigMap's file, every route on HTTPS: no Ingress to read, no Secret.
    expect(kinds.has("Ingress")).toBe(false);
    const traefik = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "traefik-config") as unknown as {
      data: Record<string, string>;
    };
    const routers = Object.values(
      (parse(traefik.data["routes.yml"]) as { http: { routers: Record<string, { entryPoints: string[] }> } }).http.routers,
    );
    expect(routers.length).toBeGreaterThan(0);
    expect(routers.every((router) => router.entryPoints.join() === "websecure")).toBe(true);
  });
});

describe("secret rotation on Kubernetes", () => {
  it("appends the rotation stamp after every other variable: a rotation's diff is one added entry, no entry shifts", async () => {
    type Env = { name: string; value?: string; valueFrom?: unknown }[];
    const envOf = (files: { path: string; content: string }[]) => {
      const app = files
        .map(
          (f) =>
            parse(f.content) as {
              kind: string;
              metadata: { name: string };
              spec: { template: { spec: { containers: { name: string; env?: Env }[] } } };
            },
        )
        .find((o) => o.kind === "Deployment" && o.metadata.name === "app")!;
      return app.spec.template.spec.containers[0].env ?? [];
    };
    const before = envOf((await rendered("prod")).files);
    const after = envOf((await rendered("prod", { "ballast:rotation": JSON.stringify({ "postgres-app-password": 1 }) })).files);
    expect(after.slice(0, -1)).toEqual(before);
    expect(after[after.length - 1]).toEqual({ name: "BALLAST_SECRET_REVISIONS", value: "postgres-app-password=1" });
  });
});

describe("data safety", () => {
  it("Kubernetes: Postgres and Redis StatefulSets are protected and retained unless allowDataLoss", async () => {
    const safe = await rendered("prod");
    await settled();
    for (const name of ["postgres", "redis"]) {
      const options = safe.recorder.options.find((o) => o.type === "kubernetes:apps/v1:StatefulSet" && o.name.includes(name));
      expect(options, name).toBeDefined();
      expect(options!.protect).toBe(true);
      expect(options!.retainOnDelete).toBe(true);
      const statefulSet = safe.recorder.resources.find((r) => r.type === "kubernetes:apps/v1:StatefulSet" && r.name.includes(name))!;
      expect(statefulSet.inputs).toMatchObject({
        spec: { persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" } },
      });
    }
    const reckless = await rendered("prod", { "ballast:allowDataLoss": "true" });
    await settled();
    const options = reckless.recorder.options.find((o) => o.type === "kubernetes:apps/v1:StatefulSet" && o.name.includes("postgres"));
    expect(options!.protect).toBe(false);
    expect(options!.retainOnDelete).toBe(false);
  });

  it("Compose: datastore volumes are external (never removed by compose) and destroy keeps them unless allowDataLoss", async () => {
    const safe = await rendered("staging");
    const compose = parse(safe.files.find((f) => f.path === "docker-compose.yml")!.content) as {
      volumes: Record<string, { external?: boolean; name?: string }>;
    };
    for (const volume of ["postgres-data", "redis-data"]) {
      expect(compose.volumes[volume]).toMatchObject({ external: true, name: `ballast_${volume}` });
    }
    const destroy = safe.files.find((f) => f.path === "destroy.sh")!.content;
    expect(destroy).toContain("readonly ALLOW_DATA_LOSS=0");
    const reckless = await rendered("staging", { "ballast:allowDataLoss": "true" });
    expect(reckless.files.find((f) => f.path === "destroy.sh")!.content).toContain("readonly ALLOW_DATA_LOSS=1");
  });
});

describe("footprint on the Compose host", () => {
  it.each(["dev", "staging"])("%s: everything that runs permanently fits the host size declared in config", async (stack) => {
    const { model } = await rendered(stack);
    const { config } = parsePlatformConfig(withSecretPlaceholders(readStackFile(stack).raw).raw, stack, "ballast");
    const fit = composeHostFit(model.workloads, config.host);
    expect(fit.problems).toEqual([]);
    expect(fit.monitoringMemoryMiB).toBeLessThanOrEqual(1536);
    expect(fit.memoryMiB).toBeGreaterThan(fit.monitoringMemoryMiB);
  });

  it("reports a host that is too small, naming the key", async () => {
    const { model } = await rendered("staging");
    const fit = composeHostFit(model.workloads, { cpus: 1, memoryGiB: 2 });
    expect(fit.problems).toEqual([
      expect.stringMatching(
        /^ballast:host\.memoryGiB: the stack's memory limits add up to \d+ MiB, \d+ MiB more than the declared host's 2 GiB\. Largest: postgres 1536 MiB \[ballast:postgres\.resources\], app 1024 MiB \[ballast:app\.resources\], .*; the monitoring set alone takes \d+ MiB \(ballast:monitoring\.enabled: false, or switch parts off with ballast:monitoring\.<part>\.enabled\)\. Lower those keys' memory, or declare a bigger host$/,
      ),
      expect.stringMatching(
        /^ballast:host\.cpus: the stack's CPU limits add up to [\d.]+ cores, [\d.]+ more than the declared host's 1\. Largest: .*\[ballast:.*\.resources\].*Lower those keys' cpu, or declare a bigger host$/,
      ),
    ]);
  });
});
