/**
 * Scenario 3: the policy pack (policies/) on the real engine: `pulumi preview --policy-pack policies`
 * passes for the e2e stack and refuses a stack that deploys an unpinned image.
 *
 * Previews only: nothing is deployed, so no test host is needed (a preview of the SSH release does
 * not connect). The e2e stack is a staging stack without TLS (no ACME on loopback): it uses the
 * staging pack config with `routes-tls-only.requireTls` off, as the dev config does.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect } from "vitest";
import { PulumiProject, repoRoot, requirePlugin, toolchainEnv } from "./support/harness";
import { composeStackConfig } from "./support/stacks";
import { scenarioSteps } from "./support/steps";

const policiesDir = path.join(repoRoot, "policies");
const fixture = path.join(repoRoot, "test", "e2e", "fixtures", "unpinned-release.ts");

describe("policy pack on the engine", () => {
  const step = scenarioSteps();
  let e2e: PulumiProject | undefined;
  let unpinned: PulumiProject | undefined;
  let work = "";
  let packConfig = "";

  // Set-up is the first step, not a beforeAll: a missing prerequisite fails the scenario
  // (every later step then fails naming it) instead of leaving its steps skipped.
  step("set-up: toolchain and plugins, the e2e stack and the unpinned stack", async () => {
    expect(fs.existsSync(path.join(policiesDir, "PulumiPolicy.yaml")), "policies/PulumiPolicy.yaml exists").toBe(true);
    // No policy runner to check for: without the Node.js language host, scripts/e2e/inline.ts hands the
    // engine a generated launcher for the pack (scripts/toolchain/policy-pack-launcher.ts).
    const env = toolchainEnv();
    requirePlugin(env, "command", "the compose target's release command", { allowStandin: true });
    requirePlugin(env, "random", "the stack's generated secrets", { allowStandin: true });
    work = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-e2e-policy-"));
    // A real key pair: the stack pins the host key and holds a private key, as a deployed one does.
    const key = path.join(work, "key");
    const keygen = spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-C", "ballast-e2e-policy", "-f", key]);
    if (keygen.status !== 0) throw new Error(`ssh-keygen failed: ${keygen.stderr?.toString() ?? ""}`);
    const staging = JSON.parse(fs.readFileSync(path.join(policiesDir, "config.staging.json"), "utf8")) as Record<string, unknown>;
    packConfig = path.join(work, "policy-config.json");
    fs.writeFileSync(packConfig, JSON.stringify({ ...staging, "routes-tls-only": { requireTls: false } }, null, 2));
    e2e = await PulumiProject.create({
      stack: "e2e",
      config: composeStackConfig({
        project: "ballast-e2e",
        ssh: {
          host: "127.0.0.1",
          port: 22,
          user: "ballast-e2e",
          hostKey: fs.readFileSync(`${key}.pub`, "utf8").split(" ").slice(0, 2).join(" "),
          remoteDir: "/home/ballast-e2e/ballast",
        },
        images: {
          app: "127.0.0.1:45127/ballast-e2e/app:v1-0123456789ab",
          postgres: "127.0.0.1:45127/ballast-e2e/postgres:15-0123456789ab",
          redis: "127.0.0.1:45127/ballast-e2e/redis:7-0123456789ab",
          proxy: "127.0.0.1:45127/ballast-e2e/proxy:1-0123456789ab",
        },
        httpPort: 18080,
        httpsPort: 18443,
        adminPort: 18099,
      }),
      secrets: { sshPrivateKey: fs.readFileSync(key, "utf8") },
    });
    unpinned = await PulumiProject.create({ stack: "unpinned", config: {}, minimalProject: true });
  });

  afterAll(() => {
    e2e?.dispose();
    unpinned?.dispose();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  step("pulumi preview --policy-pack policies passes for the e2e stack", async () => {
    const preview = await e2e!.inlineOk("preview", { timeoutSeconds: 600, policyPacks: [policiesDir], policyPackConfigs: [packConfig] });
    expect(preview.output).not.toMatch(/mandatory/);
  });

  step("pulumi preview --policy-pack policies refuses a stack with an unpinned image", async () => {
    const preview = await unpinned!.inline("preview", {
      timeoutSeconds: 600,
      policyPacks: [policiesDir],
      policyPackConfigs: [packConfig],
      program: fixture,
    });
    expect(preview.timedOut).toBe(false);
    expect(preview.code, "the preview must fail on the mandatory images-pinned policy").not.toBe(0);
    expect(preview.output).toMatch(/images-pinned/);
    expect(preview.output).toContain('image "traefik:latest" is not pinned');
  });
});
