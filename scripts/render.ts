/**
 * npm run render -- <stack | path/to/Pulumi.<stack>.yaml> [--stack NAME] [--out DIR]
 *
 * Writes what `pulumi up` would deploy for a stack, without a Pulumi CLI, SSH host,
 * cluster or network: a compose project in DIR/compose/ or one YAML document per
 * Kubernetes object in DIR/kubernetes/. No secret value is ever written.
 *
 * A stack name (dev, staging, prod) renders the project's Pulumi.<stack>.yaml; a path renders
 * that file (e.g. examples/nyxcore/Pulumi.compose.yaml) as the stack its name says, or --stack.
 */
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join, relative, resolve } from "node:path";
import { ConfigError } from "../components/config";
import { renderStack, renderStackFile, type RenderedStack } from "./lib/render-stack";
import { projectRoot, stackNameOfPath } from "./lib/stack-files";

function usage(): never {
  console.error("usage: npm run render -- <stack | path/to/Pulumi.<stack>.yaml> [--stack NAME] [--out DIR]   (stacks: dev, staging, prod)");
  process.exit(2);
}

/** A mistake in the arguments: said in one line, without a stack trace. */
function fail(message: string): never {
  console.error(message);
  process.exit(2);
}

/** The value after `flag`, undefined when the flag is absent; usage() when it has no value. */
function option(args: string[], flag: string): string | undefined {
  const index = args.indexOf(flag);
  if (index === -1) return undefined;
  const value = args[index + 1];
  if (!value || value.startsWith("-")) usage();
  return value;
}

/** A file argument is a path (has a directory part or a YAML suffix), not a stack name. */
function isStackFilePath(arg: string): boolean {
  return /\.ya?ml$/.test(arg) || arg.includes("/") || arg.includes("\\");
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const target = args[0];
  if (!target || target.startsWith("-")) usage();
  const outOption = option(args, "--out");
  const stackOption = option(args, "--stack");

  let rendered: RenderedStack;
  let source: string;
  let defaultOut: string;
  if (isStackFilePath(target)) {
    // npm runs scripts in the project root; INIT_CWD is where `npm run` was typed.
    const path = resolve(process.env.INIT_CWD ?? process.cwd(), target);
    if (!existsSync(path)) fail(`no stack file ${path}`);
    if (!stackOption && !/^Pulumi\.[^/\\]+\.ya?ml$/.test(basename(path)))
      fail(`${path} is not named Pulumi.<stack>.yaml: name the stack with --stack NAME`);
    const stack = stackOption ?? stackNameOfPath(path);
    rendered = await renderStackFile(path, stack);
    source = relative(process.cwd(), path) || path;
    // out/<directory>-<stack>: examples/nyxcore/Pulumi.compose.yaml -> out/nyxcore-compose.
    defaultOut = join(projectRoot, "out", `${basename(dirname(path))}-${stack}`);
  } else {
    if (stackOption) usage();
    rendered = await renderStack(target);
    source = `Pulumi.${target}.yaml`;
    defaultOut = join(projectRoot, "out", target);
  }

  const targetDir = join(resolve(outOption ?? defaultOut), rendered.target);
  rmSync(targetDir, { recursive: true, force: true });
  for (const file of rendered.files) {
    const path = join(targetDir, file.path);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, file.content);
    if (file.mode !== undefined) chmodSync(path, file.mode);
  }
  console.log(
    `rendered stack ${rendered.stack} (${rendered.target}): ${rendered.files.length} files in ${targetDir} [${rendered.milliseconds.toFixed(0)} ms]`,
  );
  console.log(`workloads: ${rendered.model.workloads.map((w) => w.name).join(", ")}`);
  if (rendered.placeholderSecrets.length > 0) {
    console.log(`note: secrets without a value in ${source} were rendered by name only: ${rendered.placeholderSecrets.join(", ")}`);
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  }
  process.exit(1);
});
