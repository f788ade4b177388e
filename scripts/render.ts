/**
 * npm run render -- <stack> [--out DIR]
 *
 * Writes what `pulumi up` would deploy for a stack, without a Pulumi CLI, SSH host,
 * cluster or network: a compose project in DIR/compose/ or one YAML document per
 * Kubernetes object in DIR/kubernetes/. No secret value is ever written.
 */
import { chmodSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { ConfigError } from "../components/config";
import { renderStack } from "./lib/render-stack";
import { projectRoot } from "./lib/stack-files";

function usage(): never {
  console.error("usage: npm run render -- <stack> [--out DIR]   (stacks: dev, staging, prod)");
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const stack = args[0];
  if (!stack || stack.startsWith("-")) usage();
  const outIndex = args.indexOf("--out");
  if (outIndex !== -1 && !args[outIndex + 1]) usage();
  const outDir = resolve(outIndex === -1 ? join(projectRoot, "out", stack) : args[outIndex + 1]);

  const rendered = await renderStack(stack);
  const targetDir = join(outDir, rendered.target);
  rmSync(targetDir, { recursive: true, force: true });
  for (const file of rendered.files) {
    const path = join(targetDir, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content);
    if (file.mode !== undefined) chmodSync(path, file.mode);
  }
  console.log(`rendered stack ${stack} (${rendered.target}): ${rendered.files.length} files in ${targetDir} [${rendered.milliseconds.toFixed(0)} ms]`);
  console.log(`workloads: ${rendered.model.workloads.map((w) => w.name).join(", ")}`);
  if (rendered.placeholderSecrets.length > 0) {
    console.log(`note: secrets without a value in Pulumi.${stack}.yaml were rendered by name only: ${rendered.placeholderSecrets.join(", ")}`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error(error instanceof Error ? error.stack ?? error.message : String(error));
  }
  process.exit(1);
});
