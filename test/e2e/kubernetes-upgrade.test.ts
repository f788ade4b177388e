/**
 * Upgrading Ballast under a deployed Kubernetes stack, on the real engine with the real Kubernetes
 * provider, without a cluster: its `renderYamlToDirectory` writes the objects to files.
 *
 * The previous landed version (test/e2e/fixtures/upgrade-from, extracted with `git archive`)
 * deploys its own prod declaration (its Pulumi.prod.yaml). Then the project is pointed at this
 * tree: `pulumi preview` must plan no delete and no replace of any Kubernetes object, of the
 * provider or of a generated secret (the deletes of the empty components this version turned into
 * functions are the only ones allowed, support/upgrade.ts); `pulumi up` converges with every
 * object, the provider and every secret kept (the engine's creation time of each is unchanged:
 * nothing was created anew under its new name), the provider wrote the same set of objects, and a preview
 * after it is empty. The objects took the Platform's name (`deployment-app` is now
 * `ballast-deployment-app`): their aliases keep them.
 *
 * renderYamlToDirectory writes Secret values in plaintext: the directory lives in a temp dir that
 * is removed afterwards, and the secret value set here is a throwaway.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect } from "vitest";
import { PulumiProject, repoRoot, requirePlugin, toolchainEnv } from "./support/harness";
import { prodRenderConfig } from "./support/stacks";
import { scenarioSteps } from "./support/steps";
import {
  creations,
  describeStep,
  extractVersion,
  forbiddenSteps,
  plannedSteps,
  stateResources,
  stepsByOp,
  timed,
  upgradeFromCommit,
  urnName,
  type StateResource,
} from "./support/upgrade";

const STACK = "prod";
const UP_TIMEOUT = 900;
const PREVIEW_TIMEOUT = 600;

/** What holds the stack: every Kubernetes object, the provider they are on, the generated secrets. */
const kept = (resource: StateResource) =>
  resource.type.startsWith("kubernetes:") || resource.type === "pulumi:providers:kubernetes" || resource.type.startsWith("random:");

/** Every file the provider wrote (one per object), relative to `dir`, sorted. */
function writtenFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (current: string) => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push(path.relative(dir, full));
    }
  };
  walk(dir);
  return files.sort();
}

describe("upgrading Ballast under a deployed Kubernetes stack (renderYamlToDirectory, real provider)", () => {
  const step = scenarioSteps();
  let project: PulumiProject | undefined;
  let work = "";
  let oldRoot = "";
  let commit = "";
  let yamlDir = "";
  let before: StateResource[] = [];
  let filesBefore: string[] = [];
  const timings: Record<string, number> = {};

  // Set-up is the first step, not a beforeAll: a missing prerequisite fails the scenario.
  step("set-up: the previous landed version extracted, the prod stack as that version declares it", async () => {
    const env = toolchainEnv({ ensure: ["kubernetes"] });
    requirePlugin(env, "kubernetes", "renderYamlToDirectory (the provider's own handling of renamed objects)", { allowStandin: false });
    requirePlugin(env, "random", "the stack's generated secrets", { allowStandin: true });
    commit = upgradeFromCommit();
    work = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-e2e-k8s-upgrade-"));
    oldRoot = path.join(work, "from");
    fs.mkdirSync(oldRoot);
    await extractVersion(commit, oldRoot, env);
    yamlDir = path.join(work, "yaml");
    project = await PulumiProject.create({
      stack: STACK,
      config: prodRenderConfig(oldRoot, yamlDir),
      // prod declares this secret; its value is a throwaway (the YAML holds it in plaintext).
      secrets: { "secretValues.openai-api-key": "sk-e2e-throwaway" },
      sourceRoot: oldRoot,
    });
  });

  afterAll(() => {
    console.log(`timings (s): ${JSON.stringify(timings)}`);
    project?.dispose();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  step("the previous version deploys the stack: the objects are written", async () => {
    await timed(timings, "up (previous version)", () => project!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT }));
    before = await stateResources(project!);
    filesBefore = writtenFiles(yamlDir);
    expect(before.filter((resource) => resource.type.startsWith("kubernetes:")).length).toBeGreaterThan(30);
    expect(filesBefore.length).toBeGreaterThan(30);
  });

  step("pulumi preview with this version plans no delete or replace of any object, the provider or a secret", async () => {
    project!.useSource(repoRoot);
    const preview = await timed(timings, "preview (upgrade)", () => project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT }));
    const steps = plannedSteps(preview);
    console.log(
      `upgrade ${commit.slice(0, 12)} -> this tree (kubernetes): ${steps.length} planned steps ${JSON.stringify(stepsByOp(steps))}\n` +
        steps.map((s) => `  ${describeStep(s)}`).join("\n"),
    );
    expect(forbiddenSteps(steps).map(describeStep), "an upgrade would delete or replace these: add aliases before landing").toEqual([]);
  });

  step(
    "pulumi up with this version keeps every object, the provider and the secrets, under their new names; a preview after it is empty",
    async () => {
      const up = await timed(timings, "up (upgrade)", () => project!.inlineOk("up", { timeoutSeconds: UP_TIMEOUT }));
      console.log(`up (upgrade): ${JSON.stringify(up.result?.summary)}`);
      const after = await stateResources(project!);
      expect(creations(after, kept), "created anew by the upgrade").toEqual(creations(before, kept));
      // Every object is `ballast-<kind>-<name>` now, and on the one provider, which the old version created.
      const providers = after.filter((resource) => resource.type === "pulumi:providers:kubernetes");
      expect(providers.map((resource) => urnName(resource.urn))).toEqual(["ballast-kubernetes"]);
      const objects = after.filter((resource) => resource.type.startsWith("kubernetes:"));
      for (const object of objects) {
        const kind = object.type.split(":").pop()!.toLowerCase();
        expect(urnName(object.urn), object.type).toMatch(new RegExp(`^ballast-${kind}-`));
        expect(object.provider?.slice(0, providers[0].urn.length + 2), object.urn).toBe(`${providers[0].urn}::`);
      }
      // The provider wrote the same objects: none removed, none added (an update rewrites its file in place).
      expect(writtenFiles(yamlDir)).toEqual(filesBefore);
      await timed(timings, "preview (after)", () =>
        project!.inlineOk("preview", { timeoutSeconds: PREVIEW_TIMEOUT, expectNoChanges: true }),
      );
    },
  );
});
