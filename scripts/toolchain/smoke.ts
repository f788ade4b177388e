// Smoke test of the toolchain that scripts/toolchain.sh builds: run it with `scripts/toolchain.sh --smoke`.
//
// An Automation API inline program (no language host needed) deploys a RandomPassword, a
// command.local.Command running `echo` and a dynamic resource, checks their outputs, previews with
// --expect-no-changes, previews once more with a policy pack whose policy config makes it refuse the
// password (without the Node.js language host the pack runs through a generated launcher,
// policy-pack-launcher.ts), then destroys the stack. A provider that the toolchain did not install
// (BALLAST_TOOLCHAIN_PLUGINS) is left out and reported. State lives in BALLAST_SMOKE_DIR.
import * as fs from "fs";
import * as path from "path";
import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { LocalWorkspace } from "@pulumi/pulumi/automation";
import * as random from "@pulumi/random";
import { enginePolicyPacks } from "./policy-pack-launcher";

const dir = process.env.BALLAST_SMOKE_DIR;
if (!dir) throw new Error("BALLAST_SMOKE_DIR is not set: run scripts/toolchain.sh --smoke");
const installed = (process.env.BALLAST_TOOLCHAIN_PLUGINS ?? "")
  .split(/\s+/)
  .filter(Boolean)
  .map((p) => p.split("=")[0]);
const want = {
  random: installed.includes("random"),
  command: installed.includes("command"),
  dynamic: process.env.BALLAST_SMOKE_DYNAMIC !== "0",
};
const wantPolicy = want.random && process.env.BALLAST_SMOKE_POLICY !== "0";

// A policy pack that refuses passwords shorter than `minLength` characters: 16 by default, which the
// smoke password (24) passes, 32 in the policy config the preview passes, so the refusal also shows
// that the policy config reached the pack.
function writePolicyPack(): { pack: string; config: string } {
  const pack = path.join(dir as string, "policy-pack");
  fs.mkdirSync(pack, { recursive: true });
  fs.writeFileSync(path.join(pack, "PulumiPolicy.yaml"), "runtime: nodejs\ndescription: toolchain smoke\n");
  fs.writeFileSync(path.join(pack, "package.json"), JSON.stringify({ name: "smoke-policy", version: "0.0.1" }));
  fs.writeFileSync(
    path.join(pack, "index.js"),
    `const { PolicyPack } = require("@pulumi/policy");
new PolicyPack("smoke", { policies: [{
  name: "smoke-password-length", description: "passwords have at least minLength characters", enforcementLevel: "mandatory",
  configSchema: { properties: { minLength: { type: "integer", default: 16 } } },
  validateResource: (args, report) => {
    const { minLength } = args.getConfig();
    if (args.type === "random:index/randomPassword:RandomPassword" && args.props.length < minLength) {
      report(\`password shorter than \${minLength} characters\`);
    }
  },
}] });
`,
  );
  const config = path.join(dir as string, "policy-config.json");
  fs.writeFileSync(config, JSON.stringify({ "smoke-password-length": { minLength: 32 } }));
  return { pack, config };
}

interface EchoInputs {
  value: string;
}

// A dynamic resource runs through the pulumi-resource-pulumi-nodejs plugin.
class Echo extends pulumi.dynamic.Resource {
  declare readonly value: pulumi.Output<string>;
  constructor(name: string, value: string) {
    const provider: pulumi.dynamic.ResourceProvider = {
      async create(inputs: EchoInputs) {
        return { id: `echo-${inputs.value}`, outs: inputs };
      },
    };
    super(provider, name, { value }, {});
  }
}

async function program(): Promise<Record<string, pulumi.Output<unknown>>> {
  const outputs: Record<string, pulumi.Output<unknown>> = {};
  if (want.random) {
    const password = new random.RandomPassword("password", { length: 24, special: false });
    outputs.passwordLength = password.result.apply((r) => r.length);
  }
  if (want.command) {
    const echo = new command.local.Command("echo", { create: "echo ballast-smoke" });
    outputs.echo = echo.stdout;
  }
  if (want.dynamic) {
    outputs.dynamic = new Echo("dynamic", "ballast").value;
  }
  return outputs;
}

// The engine's output, indented; `atLineStart` keeps the smoke's own lines on lines of their own.
let atLineStart = true;
function log(s: string): void {
  process.stdout.write(s.replace(/^(?=.)/gm, "  | "));
  atLineStart = s.endsWith("\n");
}

function expect(label: string, actual: unknown, wanted: unknown): void {
  if (!atLineStart) process.stdout.write("\n");
  atLineStart = true;
  if (actual !== wanted) throw new Error(`smoke: ${label}: expected ${JSON.stringify(wanted)}, got ${JSON.stringify(actual)}`);
  console.log(`smoke: ok   ${label} = ${JSON.stringify(actual)}`);
}

async function main(): Promise<void> {
  for (const [name, on] of Object.entries(want)) {
    if (!on) console.log(`smoke: SKIP ${name} (not installed by the toolchain)`);
  }
  const stackName = "smoke";
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName, projectName: "ballast-smoke", program },
    {
      workDir: dir,
      projectSettings: { name: "ballast-smoke", runtime: "nodejs", backend: { url: `file://${dir}/state` } },
    },
  );
  try {
    const up = await stack.up({ onOutput: log });
    expect("up result", up.summary.result, "succeeded");
    if (want.random) expect("password length", up.outputs.passwordLength?.value, 24);
    if (want.random) expect("password length is secret", up.outputs.passwordLength?.secret, true);
    if (want.command) expect("echo stdout", up.outputs.echo?.value, "ballast-smoke");
    if (want.dynamic) expect("dynamic value", up.outputs.dynamic?.value, "ballast");
    const preview = await stack.preview({ expectNoChanges: true, onOutput: log });
    const changes = Object.entries(preview.changeSummary).filter(([op, n]) => op !== "same" && (n ?? 0) > 0);
    expect("preview --expect-no-changes: changes", JSON.stringify(changes), "[]");
    if (wantPolicy) {
      let refused = "";
      const { pack, config } = writePolicyPack();
      const policies = enginePolicyPacks([pack]);
      try {
        await stack.preview({ policyPacks: policies.packs, policyPackConfigs: [config], onOutput: log });
      } catch (err: unknown) {
        refused = String(err instanceof Error ? err.message : err);
      } finally {
        policies.dispose();
      }
      expect("policy pack (config minLength 32) refuses the password", /password shorter than 32 characters/.test(refused), true);
    } else {
      console.log("smoke: SKIP policy pack (needs random)");
    }
  } finally {
    const destroy = await stack.destroy({ onOutput: log });
    expect("destroy result", destroy.summary.result, "succeeded");
    await stack.workspace.removeStack(stackName);
  }
  console.log("smoke: passed");
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
