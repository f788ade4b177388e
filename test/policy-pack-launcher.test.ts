/**
 * Policy packs without the Node.js language host (scripts/toolchain/policy-pack-launcher.ts): the
 * runtime options read from PulumiPolicy.yaml, the launcher script, and the launcher for
 * policies/ started as the engine starts a binary analyzer plugin (only the engine's address as
 * argument, another working directory): it serves Ballast's TypeScript pack over gRPC.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as grpc from "@grpc/grpc-js";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import type { AnalyzerInfo } from "@pulumi/pulumi/proto/analyzer_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { afterEach, describe, expect, it } from "vitest";
import { ballastPolicies, packName } from "../policies/all";
import { enginePolicyPacks, launcherScript, nodePolicyRuntime } from "../scripts/toolchain/policy-pack-launcher";

const repoRoot = path.resolve(__dirname, "..");
const policiesDir = path.join(repoRoot, "policies");
const noHost = { BALLAST_TOOLCHAIN_LANGUAGE_HOST: "0" };

describe("nodePolicyRuntime", () => {
  it("takes `runtime: nodejs` without options", () => {
    expect(nodePolicyRuntime("runtime: nodejs\n", "P.yaml")).toEqual({ typescript: false, tsconfig: undefined, nodeargs: [] });
  });

  it("reads the options the language host honours", () => {
    const yaml =
      "runtime:\n  name: nodejs\n  options:\n    typescript: true\n    tsconfig: tsconfig.policy.json\n    nodeargs: --max-old-space-size=512 --trace-warnings\n    packagemanager: npm\n";
    expect(nodePolicyRuntime(yaml, "P.yaml")).toEqual({
      typescript: true,
      tsconfig: "tsconfig.policy.json",
      nodeargs: ["--max-old-space-size=512", "--trace-warnings"],
    });
  });

  it("refuses a pack of another runtime", () => {
    expect(() => nodePolicyRuntime("runtime: python\n", "/p/PulumiPolicy.yaml")).toThrow(
      '/p/PulumiPolicy.yaml: runtime "python": only a Node.js policy pack (runtime: nodejs) can be launched without a language host',
    );
  });

  it("refuses an option it does not know, naming the allowed ones", () => {
    expect(() => nodePolicyRuntime("runtime:\n  name: nodejs\n  options:\n    binary: bin/pack\n", "P.yaml")).toThrow(
      "P.yaml: runtime.options.binary is not supported without a language host (allowed: typescript, tsconfig, nodeargs, packagemanager)",
    );
  });

  it("refuses a typescript option that is not a boolean, and nodeargs with quotes", () => {
    expect(() => nodePolicyRuntime("runtime:\n  name: nodejs\n  options:\n    typescript: yes please\n", "P.yaml")).toThrow(
      'P.yaml: runtime.options.typescript must be true or false, got "yes please"',
    );
    expect(() => nodePolicyRuntime(`runtime:\n  name: nodejs\n  options:\n    nodeargs: "--title 'a b'"\n`, "P.yaml")).toThrow(
      `P.yaml: runtime.options.nodeargs must be a string of arguments without quotes or backslashes, got "--title 'a b'"`,
    );
  });
});

describe("launcherScript", () => {
  it("cds into the pack, sets the host's TypeScript variables and runs run-policy-pack with the engine's arguments, then the pack", () => {
    const script = launcherScript(
      "/packs/it's",
      { typescript: true, tsconfig: "ts.json", nodeargs: ["--trace-warnings"] },
      "/usr/bin/node",
      "/nm/run.js",
    );
    expect(script.split("\n").slice(3)).toEqual([
      `cd '/packs/it'\\''s' || exit 1`,
      "export PULUMI_NODEJS_TYPESCRIPT=true",
      "export PULUMI_NODEJS_TSCONFIG_PATH='ts.json'",
      `exec '/usr/bin/node' '/nm/run.js' '--trace-warnings' "$@" .`,
      "",
    ]);
  });
});

describe("enginePolicyPacks", () => {
  const started: ChildProcess[] = [];
  afterEach(() => {
    for (const child of started.splice(0)) child.kill("SIGKILL");
  });

  it("hands the directories over as they are where the toolchain has a language host, or is not Ballast's", () => {
    expect(enginePolicyPacks([policiesDir], { BALLAST_TOOLCHAIN_LANGUAGE_HOST: "1" }).packs).toEqual([policiesDir]);
    expect(enginePolicyPacks([policiesDir], {}).packs).toEqual([policiesDir]);
  });

  it("refuses a pack whose @pulumi/pulumi does not resolve, and leaves no launcher behind", () => {
    const pack = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-pack-without-deps-"));
    try {
      fs.writeFileSync(path.join(pack, "PulumiPolicy.yaml"), "runtime: nodejs\n");
      const before = fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("ballast-policy-packs-")).length;
      expect(() => enginePolicyPacks([pack], noHost)).toThrow(
        `policy pack ${pack}: @pulumi/pulumi/cmd/run-policy-pack does not resolve from it; install the pack's dependencies (npm install)`,
      );
      expect(fs.readdirSync(os.tmpdir()).filter((f) => f.startsWith("ballast-policy-packs-")).length).toBe(before);
    } finally {
      fs.rmSync(pack, { recursive: true, force: true });
    }
  });

  it("gives policies/ a launcher that serves Ballast's TypeScript pack to the engine", async () => {
    const policies = enginePolicyPacks([policiesDir], noHost);
    try {
      const [launcher] = policies.packs;
      expect(fs.statSync(launcher!).mode & 0o111).not.toBe(0);
      // The engine reads the pack's description and version next to the launcher.
      expect(fs.readFileSync(path.join(path.dirname(launcher!), "PulumiPolicy.yaml"), "utf8")).toBe(
        fs.readFileSync(path.join(policiesDir, "PulumiPolicy.yaml"), "utf8"),
      );
      // As the engine starts it: the engine's address only, from the program's directory.
      const child = spawn(launcher!, ["127.0.0.1:1"], { cwd: os.tmpdir(), stdio: ["ignore", "pipe", "pipe"] });
      started.push(child);
      const port = await firstLine(child);
      expect(port).toMatch(/^\d+$/);
      const info = await analyzerInfo(`127.0.0.1:${port}`);
      expect(info.getName()).toBe(packName);
      expect(info.getPoliciesList().map((p) => p.getName())).toEqual(ballastPolicies.map((p) => p.name));
    } finally {
      policies.dispose();
    }
    expect(fs.existsSync(path.dirname(policies.packs[0]!))).toBe(false);
  }, 60_000);
});

/** The first line the launched pack writes to stdout (its gRPC port), or its stderr if it exits first. */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout!.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      const newline = out.indexOf("\n");
      if (newline >= 0) resolve(out.slice(0, newline).trim());
    });
    child.stderr!.on("data", (chunk: Buffer) => (err += chunk.toString()));
    child.on("exit", (code) => reject(new Error(`the policy pack exited (${code}) before serving: ${err}`)));
  });
}

function analyzerInfo(address: string): Promise<AnalyzerInfo> {
  const client = new AnalyzerClient(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) => {
    client.getAnalyzerInfo(new Empty(), (error, info) => {
      client.close();
      if (error) reject(error);
      else resolve(info);
    });
  });
}
