/**
 * tsx scripts/e2e/inline.ts <up|preview|refresh|destroy> --stack NAME --work-dir DIR
 *                           [--expect-no-changes] [--policy-pack DIR]... [--policy-pack-config FILE]...
 *                           [--exclude-protected] [--diff] [--program MODULE] [--timeout SECONDS]
 *                           [--clear-pending-creates]
 *
 * Runs the Ballast program (exactly what index.ts does: config in, Platform built, outputs
 * exported) on the real Pulumi engine as an Automation API *inline* program, for the end-to-end
 * tests. Inline programs need no Node.js language host plugin: the Automation API serves the
 * program from this process and the CLI connects to it. `up` is `pulumi up --yes --skip-preview`.
 *
 * --program MODULE runs another inline program instead (a module exporting `program`), for stacks
 * the tests build by hand, e.g. one that deploys an unpinned image past Ballast's config checks.
 *
 * DIR is the Pulumi project directory: Pulumi.yaml (project `ballast`) and Pulumi.<stack>.yaml.
 * A --policy-pack DIR goes to the engine as it is, or as a generated launcher where the toolchain
 * has no Node.js language host (scripts/toolchain/policy-pack-launcher.ts).
 * Environment: the pulumi CLI on PATH (source scripts/toolchain.sh's toolchain.env), PULUMI_HOME,
 * PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE.
 *
 * Engine output streams to stdout. The last line is `BALLAST_E2E_RESULT <json>` with the
 * operation's summary and outputs (secret outputs masked). Exit status 0 on success, 1 when the
 * operation failed (its error text on stderr), 2 on a usage error, 124 on the timeout (the caller
 * should start this in its own process group and end the group, so the CLI and plugins go too).
 */
import { resolve } from "node:path";
import { LocalWorkspace, type EngineEvent, type OutputMap } from "@pulumi/pulumi/automation";
import { platformArgsFromStackConfig } from "../../components/config";
import { Platform } from "../../components/platform";
import { enginePolicyPacks } from "../toolchain/policy-pack-launcher";

const USAGE =
  "usage: tsx scripts/e2e/inline.ts <up|preview|refresh|destroy> --stack NAME --work-dir DIR [--expect-no-changes] [--policy-pack DIR]... [--policy-pack-config FILE]... [--exclude-protected] [--diff] [--program MODULE] [--timeout SECONDS] [--clear-pending-creates]";

type Operation = "up" | "preview" | "refresh" | "destroy";

interface Args {
  operation: Operation;
  stack: string;
  workDir: string;
  expectNoChanges: boolean;
  policyPacks: string[];
  policyPackConfigs: string[];
  /** Module exporting `program`; default: Ballast's own (index.ts's body). */
  programModule?: string;
  /** destroy: leave protected resources (the encryption key) and what they need, destroy the rest. */
  excludeProtected: boolean;
  diff: boolean;
  timeoutSeconds: number;
  /** refresh: drop the pending creates an interrupted `up` left in the state (`pulumi refresh --clear-pending-creates`). */
  clearPendingCreates: boolean;
}

function parseArgs(argv: string[]): Args | string {
  const [operation, ...rest] = argv;
  if (!["up", "preview", "refresh", "destroy"].includes(operation ?? "")) return USAGE;
  let stack = "";
  let workDir = "";
  let expectNoChanges = false;
  let excludeProtected = false;
  let diff = false;
  let clearPendingCreates = false;
  let timeoutSeconds = 1200;
  const policyPacks: string[] = [];
  const policyPackConfigs: string[] = [];
  let programModule: string | undefined;
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    const value = (): string => {
      const next = rest[++i];
      if (next === undefined) throw new Error(`${arg} needs a value`);
      return next;
    };
    if (arg === "--stack") stack = value();
    else if (arg === "--work-dir") workDir = value();
    else if (arg === "--expect-no-changes") expectNoChanges = true;
    else if (arg === "--policy-pack") policyPacks.push(value());
    else if (arg === "--policy-pack-config") policyPackConfigs.push(value());
    else if (arg === "--program") programModule = value();
    else if (arg === "--exclude-protected") excludeProtected = true;
    else if (arg === "--diff") diff = true;
    else if (arg === "--clear-pending-creates") clearPendingCreates = true;
    else if (arg === "--timeout") timeoutSeconds = Number(value());
    else return `unknown argument ${arg}\n${USAGE}`;
  }
  if (!stack || !workDir) return USAGE;
  if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1) return `--timeout must be a positive integer\n${USAGE}`;
  return {
    operation: operation as Operation,
    stack,
    workDir,
    expectNoChanges,
    policyPacks,
    policyPackConfigs,
    programModule,
    excludeProtected,
    diff,
    timeoutSeconds,
    clearPendingCreates,
  };
}

/** The body of index.ts, as an inline program. */
async function program(): Promise<Record<string, unknown>> {
  const platform = new Platform("ballast", platformArgsFromStackConfig());
  return {
    target: platform.config.target,
    appUrl: platform.appUrl,
    location: platform.location,
    workloads: platform.model.workloads.map((w) => w.name),
  };
}

function plainOutputs(outputs: OutputMap | undefined): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  for (const [name, output] of Object.entries(outputs ?? {})) result[name] = output.secret ? "[secret]" : output.value;
  return result;
}

type Program = () => Promise<Record<string, unknown>>;

async function loadProgram(module: string | undefined): Promise<Program> {
  if (!module) return program;
  const loaded = (await import(resolve(module))) as { program?: Program };
  if (typeof loaded.program !== "function") throw new Error(`${module} exports no \`program\` function`);
  return loaded.program;
}

async function run(args: Args): Promise<Record<string, unknown>> {
  const policies = enginePolicyPacks(args.policyPacks);
  try {
    return await runWithPolicyPacks(args, policies.packs);
  } finally {
    policies.dispose();
  }
}

async function runWithPolicyPacks(args: Args, policyPacks: string[]): Promise<Record<string, unknown>> {
  const stack = await LocalWorkspace.createOrSelectStack(
    { stackName: args.stack, projectName: "ballast", program: await loadProgram(args.programModule) },
    { workDir: args.workDir },
  );
  const onOutput = (text: string) => process.stdout.write(text);
  const common = { onOutput, color: "never" as const };
  switch (args.operation) {
    case "up": {
      const result = await stack.up({ ...common, policyPacks, policyPackConfigs: args.policyPackConfigs });
      return { summary: result.summary.resourceChanges ?? {}, outputs: plainOutputs(result.outputs) };
    }
    case "preview": {
      // Every planned step but "same", for tests that judge what a preview would do to each resource.
      const steps: { op: string; urn: string; type: string }[] = [];
      const onEvent = (event: EngineEvent) => {
        const step = event.resourcePreEvent?.metadata;
        if (step && step.op !== "same") steps.push({ op: step.op, urn: step.urn, type: step.type });
      };
      const result = await stack.preview({
        ...common,
        onEvent,
        expectNoChanges: args.expectNoChanges,
        diff: args.diff,
        policyPacks,
        policyPackConfigs: args.policyPackConfigs,
      });
      return { changes: result.changeSummary, steps };
    }
    case "refresh": {
      const result = await stack.refresh({ ...common, clearPendingCreates: args.clearPendingCreates });
      return { summary: result.summary.resourceChanges ?? {} };
    }
    case "destroy": {
      const result = await stack.destroy({ ...common, excludeProtected: args.excludeProtected });
      return { summary: result.summary.resourceChanges ?? {} };
    }
  }
}

async function main(): Promise<number> {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === "string") {
    console.error(args);
    return 2;
  }
  const timer = setTimeout(() => {
    console.error(`inline: pulumi ${args.operation} of stack ${args.stack} did not finish within ${args.timeoutSeconds}s`);
    process.exit(124);
  }, args.timeoutSeconds * 1000);
  try {
    const result = await run(args);
    process.stdout.write(`\nBALLAST_E2E_RESULT ${JSON.stringify({ operation: args.operation, ...result })}\n`);
    return 0;
  } catch (error) {
    console.error(
      `inline: pulumi ${args.operation} of stack ${args.stack} failed:\n${error instanceof Error ? error.message : String(error)}`,
    );
    return 1;
  } finally {
    clearTimeout(timer);
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
