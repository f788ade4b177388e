/**
 * Scenario 1: the Kubernetes target on the real Pulumi engine without a cluster. The prod
 * declaration (Pulumi.prod.yaml) is previewed and deployed with the Kubernetes provider's
 * `renderYamlToDirectory` (config `ballast:kubernetes.renderYamlToDirectory`); what the provider
 * writes must be what `npm run render -- prod` writes, and a preview right after must be empty.
 *
 * renderYamlToDirectory writes Secret values in plaintext: the directory lives in a temp dir
 * that is removed afterwards, and the secret value set here is a throwaway.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect } from "vitest";
import { parseAllDocuments } from "yaml";
import { PulumiProject, repoRoot, requirePlugin, runOk, toolchainEnv } from "./support/harness";
import { prodRenderConfig } from "./support/stacks";
import { scenarioSteps } from "./support/steps";

type K8sObject = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  spec?: Record<string, unknown>;
};

const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob"];

function readObjects(dir: string): K8sObject[] {
  const objects: K8sObject[] = [];
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (/\.ya?ml$/.test(entry.name)) {
        for (const doc of parseAllDocuments(fs.readFileSync(full, "utf8"))) {
          const value = doc.toJS() as K8sObject | null;
          if (value && typeof value === "object" && value.kind) objects.push(value);
        }
      }
    }
  };
  walk(dir);
  return objects;
}

const key = (o: K8sObject) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`;

function podSpec(o: K8sObject): Record<string, unknown> | undefined {
  const spec = o.spec as Record<string, any> | undefined;
  if (!spec) return undefined;
  if (o.kind === "CronJob") return spec.jobTemplate?.spec?.template?.spec;
  return spec.template?.spec;
}

function images(o: K8sObject): string[] {
  const pod = podSpec(o) as { containers?: { image: string }[]; initContainers?: { image: string }[] } | undefined;
  return [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])].map((c) => c.image);
}

/** What the comparison looks at per object: kind, name, images, replicas, HPA bounds. */
function essentials(objects: K8sObject[]): Map<string, Record<string, unknown>> {
  const result = new Map<string, Record<string, unknown>>();
  for (const o of objects) {
    const spec = (o.spec ?? {}) as Record<string, any>;
    const entry: Record<string, unknown> = {};
    if (WORKLOAD_KINDS.includes(o.kind)) entry.images = images(o);
    if (o.kind === "Deployment" || o.kind === "StatefulSet") entry.replicas = spec.replicas ?? null;
    if (o.kind === "HorizontalPodAutoscaler") {
      entry.minReplicas = spec.minReplicas;
      entry.maxReplicas = spec.maxReplicas;
      entry.target = spec.scaleTargetRef?.name;
    }
    result.set(key(o), entry);
  }
  return result;
}

describe("kubernetes target without a cluster: renderYamlToDirectory on the real engine", () => {
  const step = scenarioSteps();
  let project: PulumiProject | undefined;
  let work = "";
  let yamlDir = "";
  let renderDir = "";

  // Set-up is the first step, not a beforeAll: a missing prerequisite fails the scenario
  // (every later step then fails naming it) instead of leaving its steps skipped.
  step("set-up: toolchain and plugins, the prod stack with renderYamlToDirectory", async () => {
    const env = toolchainEnv({ ensure: ["kubernetes"] });
    requirePlugin(env, "kubernetes", "renderYamlToDirectory", { allowStandin: false });
    requirePlugin(env, "random", "the stack's generated secrets", { allowStandin: true });
    work = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-e2e-k8s-"));
    yamlDir = path.join(work, "yaml");
    renderDir = path.join(work, "render");
    project = await PulumiProject.create({
      stack: "prod",
      config: prodRenderConfig(repoRoot, yamlDir),
      // prod declares this secret; its value is a throwaway (the YAML holds it in plaintext).
      secrets: { "secretValues.openai-api-key": "sk-e2e-throwaway" },
    });
  });

  afterAll(() => {
    project?.dispose();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  step("pulumi preview of the prod declaration succeeds", async () => {
    const preview = await project!.inlineOk("preview", { timeoutSeconds: 600 });
    const changes = preview.result?.changes as Record<string, number>;
    expect(changes.create ?? 0).toBeGreaterThan(10);
  });

  step("pulumi up writes the objects to the directory", async () => {
    await project!.inlineOk("up", { timeoutSeconds: 900 });
    expect(fs.existsSync(path.join(yamlDir, "1-manifest"))).toBe(true);
  });

  step("the written objects match `npm run render -- prod`: kinds, names, images, replicas, HPA bounds", async () => {
    await runOk("npm run render -- prod", "npm", ["run", "--silent", "render", "--", "prod", "--out", renderDir], {
      cwd: repoRoot,
      timeoutSeconds: 300,
    });
    const rendered = essentials(readObjects(path.join(renderDir, "kubernetes")));
    const written = essentials(readObjects(yamlDir));
    expect([...written.keys()].sort()).toEqual([...rendered.keys()].sort());
    for (const [name, entry] of rendered) expect({ name, ...written.get(name) }).toEqual({ name, ...entry });
    // The prod sizing the stack file promises: API HPA 3-10, workers HPA 5-20, no replicas field under an HPA.
    const hpas = [...written.entries()].filter(([k]) => k.startsWith("HorizontalPodAutoscaler/"));
    expect(hpas.map(([, v]) => [v.target, v.minReplicas, v.maxReplicas])).toEqual(
      expect.arrayContaining([
        ["app", 3, 10],
        ["worker", 5, 20],
      ]),
    );
    for (const [, v] of hpas) expect(written.get(`Deployment/ballast/${v.target as string}`)?.replicas).toBeNull();
  });

  step("pulumi preview right after up shows no changes", async () => {
    await project!.inlineOk("preview", { timeoutSeconds: 600, expectNoChanges: true });
  });
});
