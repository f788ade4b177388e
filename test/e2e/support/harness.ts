/**
 * End-to-end harness: the toolchain environment, bounded child processes, and a Pulumi project
 * in a temp directory with a local file backend and the passphrase secrets provider.
 *
 * Nothing here skips: a missing toolchain or test host throws with what to run.
 */
import { spawn } from "node:child_process";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parse, stringify } from "yaml";

export const repoRoot = path.resolve(__dirname, "..", "..", "..");
export const cacheRoot = process.env.BALLAST_CACHE ?? path.join(os.homedir(), ".cache", "ballast");
const tsx = path.join(repoRoot, "node_modules", ".bin", "tsx");

/** Reads `toolchain.env` (written by scripts/toolchain.sh) by sourcing it in bash. */
export function toolchainEnv(options: { ensure?: string[] } = {}): Record<string, string> {
  // A part `.ci/run` builds in the background beside the first scenarios (the Kubernetes provider):
  // toolchain.sh waits for that build (its lock) or builds the part itself, then installs it.
  if (options.ensure?.length) {
    const ensured = spawnSync("bash", [path.join(repoRoot, "scripts", "toolchain.sh"), "--only", options.ensure.join(","), "--quiet"], {
      encoding: "utf8",
      env: process.env,
      timeout: 45 * 60_000,
    });
    if (ensured.status !== 0) {
      throw new Error(`scripts/toolchain.sh --only ${options.ensure.join(",")} failed (exit ${ensured.status}): ${ensured.stderr.trim()}`);
    }
  }
  const file = path.join(cacheRoot, "toolchain.env");
  if (!fs.existsSync(file)) {
    throw new Error(
      `The Pulumi toolchain is not built: ${file} does not exist. Run \`bash scripts/toolchain.sh\` first ` +
        "(it builds the Pulumi CLI and plugins from Go modules into $BALLAST_CACHE and writes that file).",
    );
  }
  const sourced = spawnSync("bash", ["-c", 'set -a; . "$1" >/dev/null; env -0', "toolchain-env", file], {
    encoding: "utf8",
    env: process.env,
  });
  if (sourced.status !== 0) throw new Error(`sourcing ${file} failed: ${sourced.stderr}`);
  const env: Record<string, string> = {};
  for (const entry of sourced.stdout.split("\0")) {
    const eq = entry.indexOf("=");
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
  const cli = env.BALLAST_PULUMI_CLI ?? path.join(env.PULUMI_HOME ?? "", "bin", "pulumi");
  if (!fs.existsSync(cli))
    throw new Error(`${file} names the Pulumi CLI ${cli}, which does not exist: run \`bash scripts/toolchain.sh\` again`);
  return env;
}

/** Provider plugins the toolchain installed, NAME -> VERSION (a stand-in has "(standin)" after its version). */
export function installedPlugins(env: Record<string, string>): Map<string, string> {
  const plugins = new Map<string, string>();
  for (const item of (env.BALLAST_TOOLCHAIN_PLUGINS ?? "").split(/\s+/).filter(Boolean)) {
    const [name, version] = item.split("=");
    if (name && version) plugins.set(name, version);
  }
  return plugins;
}

/**
 * Throws, naming what to build, unless the toolchain installed provider plugin `name`. Ballast's
 * stand-in providers (scripts/toolchain/standin, used where the real provider's module is not
 * served) are accepted only with `allowStandin`: where the provider itself is under test (the
 * Kubernetes provider's renderYamlToDirectory) a stand-in would prove nothing.
 */
export function requirePlugin(env: Record<string, string>, name: string, why: string, options: { allowStandin: boolean }): void {
  const version = installedPlugins(env).get(name);
  if (!version) {
    throw new Error(
      `${why} needs the ${name} provider plugin, which scripts/toolchain.sh did not install ` +
        `(BALLAST_TOOLCHAIN_PLUGINS="${env.BALLAST_TOOLCHAIN_PLUGINS ?? ""}"); see \`bash scripts/toolchain.sh --check\``,
    );
  }
  if (version.includes("standin") && !options.allowStandin) {
    throw new Error(
      `${why} needs the real ${name} provider; the toolchain installed Ballast's stand-in (${name}=${version}), which cannot stand for it here`,
    );
  }
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  input?: string;
  /** Hard bound; the whole process group is killed when it passes. */
  timeoutSeconds: number;
  /** Echo output as it arrives (long engine runs), prefixed. */
  echo?: string;
  /** When this settles, the process group gets SIGINT (a load generator stops early and still reports). */
  interrupt?: Promise<unknown>;
}

/** Runs a command in its own process group, bounded: on timeout the whole group (CLI, plugins) is killed. */
export function run(command: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    const echo = (text: string) => {
      if (options.echo) process.stdout.write(text.replace(/^(?=.)/gm, `${options.echo} `));
    };
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
      echo(chunk.toString());
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
      echo(chunk.toString());
    });
    const killGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup("SIGTERM");
      setTimeout(() => killGroup("SIGKILL"), 10_000).unref();
    }, options.timeoutSeconds * 1000);
    let closed = false;
    const interrupt = () => {
      if (!closed) killGroup("SIGINT");
    };
    options.interrupt?.then(interrupt, interrupt);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${command}: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      closed = true;
      clearTimeout(timer);
      // Plugins the CLI left behind in the group go too.
      killGroup("SIGKILL");
      resolve({ code, signal, stdout, stderr, timedOut });
    });
    // A child that exits without reading its input (crontab -l, mount, umount, pgrep) closes the pipe first: not an error.
    child.stdin.on("error", () => undefined);
    child.stdin.end(options.input ?? "");
  });
}

export function describeRun(what: string, result: RunResult, timeoutSeconds: number): string {
  const status = result.timedOut ? `did not finish within ${timeoutSeconds}s (killed)` : `exited with ${result.code ?? result.signal}`;
  const tail = (text: string) => text.split("\n").slice(-60).join("\n");
  return `${what} ${status}\n--- stdout (last lines) ---\n${tail(result.stdout)}\n--- stderr (last lines) ---\n${tail(result.stderr)}`;
}

/** Runs and throws a readable error unless it exits 0. */
export async function runOk(what: string, command: string, args: string[], options: RunOptions): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.timedOut || result.code !== 0) throw new Error(describeRun(what, result, options.timeoutSeconds));
  return result;
}

export interface ProjectOptions {
  stack: string;
  /** Plain `ballast:` config (key without namespace -> value), written into Pulumi.<stack>.yaml. */
  config: Record<string, unknown>;
  /** Secret config set with `pulumi config set --secret --path` (key path without namespace -> value). */
  secrets?: Record<string, string>;
  /** Keep the temp dir (for debugging) instead of removing it in `dispose`. */
  keep?: boolean;
  /** A bare Pulumi.yaml instead of the repo's (for hand-written stacks that are no Ballast stack). */
  minimalProject?: boolean;
  /**
   * The Ballast tree the project runs (its index.ts, components/, node_modules and inline driver):
   * this checkout by default; the upgrade scenario starts from an extracted earlier version.
   */
  sourceRoot?: string;
}

export interface InlineOptions {
  timeoutSeconds: number;
  expectNoChanges?: boolean;
  policyPacks?: string[];
  policyPackConfigs?: string[];
  excludeProtected?: boolean;
  /** preview --diff: every changed property, as a reviewer reads it. */
  diff?: boolean;
  /** A module exporting `program` to run instead of Ballast's (scripts/e2e/inline.ts --program). */
  program?: string;
  /** refresh --clear-pending-creates: drop the pending creates an interrupted `up` left. */
  clearPendingCreates?: boolean;
}

export interface InlineResult extends RunResult {
  /** The `BALLAST_E2E_RESULT` JSON of scripts/e2e/inline.ts. */
  result?: Record<string, unknown>;
  /** stdout and stderr together, for message checks. */
  output: string;
}

/**
 * A Pulumi project `ballast` in a temp dir: Pulumi.yaml copied from the repo, a file backend in
 * `<root>/state`, passphrase secrets. The program is the repo's own (index.ts's body), run as an
 * Automation API inline program by scripts/e2e/inline.ts.
 */
export class PulumiProject {
  readonly root: string;
  readonly projectDir: string;
  readonly passphrase = "ballast-e2e-passphrase";
  backendDir: string;
  readonly stack: string;
  private readonly toolchain: Record<string, string>;
  private readonly keep: boolean;
  /** The Ballast tree the project's symlinks and the inline driver come from (see ProjectOptions). */
  sourceRoot = repoRoot;

  private constructor(root: string, stack: string, toolchain: Record<string, string>, keep: boolean) {
    this.root = root;
    this.projectDir = path.join(root, "project");
    this.backendDir = path.join(root, "state");
    this.stack = stack;
    this.toolchain = toolchain;
    this.keep = keep;
  }

  /**
   * An empty project dir and backend, without a stack. The project file is the repo's Pulumi.yaml,
   * or for a hand-written stack that is no Ballast stack (`minimalProject`) a bare one.
   */
  static empty(
    stack: string,
    toolchain = toolchainEnv(),
    keep = process.env.BALLAST_E2E_KEEP === "1",
    minimalProject = false,
    sourceRoot = repoRoot,
  ): PulumiProject {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-e2e-"));
    const project = new PulumiProject(root, stack, toolchain, keep);
    fs.mkdirSync(project.projectDir, { recursive: true });
    fs.mkdirSync(project.backendDir, { recursive: true });
    if (minimalProject) {
      fs.writeFileSync(path.join(project.projectDir, "Pulumi.yaml"), "name: ballast\nruntime: nodejs\nmain: index.ts\n");
    }
    project.useSource(sourceRoot, !minimalProject);
    return project;
  }

  /**
   * Points the project at a Ballast tree: the program and its dependencies are that tree's own
   * (Pulumi.yaml's `main: index.ts` must exist: the CLI checks it, even for an inline program, and a
   * language host would run it from here), and `inline` runs that tree's driver. The stack file and
   * the backend stay: this is how the upgrade scenario moves a deployed stack to a newer Ballast.
   */
  useSource(sourceRoot: string, copyProjectFile = true): void {
    this.sourceRoot = sourceRoot;
    if (copyProjectFile) fs.copyFileSync(path.join(sourceRoot, "Pulumi.yaml"), path.join(this.projectDir, "Pulumi.yaml"));
    for (const entry of ["index.ts", "components", "node_modules", "package.json", "tsconfig.json"]) {
      const link = path.join(this.projectDir, entry);
      fs.rmSync(link, { force: true });
      fs.symlinkSync(path.join(sourceRoot, entry), link);
    }
  }

  /** Project + backend + stack (`pulumi stack init`), config written, secrets set with the CLI. */
  static async create(options: ProjectOptions): Promise<PulumiProject> {
    const project = PulumiProject.empty(
      options.stack,
      toolchainEnv(),
      options.keep ?? process.env.BALLAST_E2E_KEEP === "1",
      options.minimalProject ?? false,
      options.sourceRoot ?? repoRoot,
    );
    await project.cli(["stack", "init", options.stack, "--secrets-provider", "passphrase"], 120);
    project.writeConfig(options.config);
    for (const [key, value] of Object.entries(options.secrets ?? {})) await project.setSecret(key, value, { path: true });
    return project;
  }

  get stackFile(): string {
    return path.join(this.projectDir, `Pulumi.${this.stack}.yaml`);
  }

  /** Environment for the CLI and the inline driver. */
  env(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
    return {
      ...process.env,
      ...this.toolchain,
      PULUMI_BACKEND_URL: `file://${this.backendDir}`,
      PULUMI_CONFIG_PASSPHRASE: this.passphrase,
      PULUMI_SKIP_UPDATE_CHECK: "true",
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
      PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK: "true",
      NO_COLOR: "1",
      ...extra,
    };
  }

  /** Replaces the `config:` block of the stack file (keeps `encryptionsalt`). */
  writeConfig(config: Record<string, unknown>): void {
    const current = fs.existsSync(this.stackFile)
      ? ((parse(fs.readFileSync(this.stackFile, "utf8")) as Record<string, unknown> | null) ?? {})
      : {};
    const previous = (current.config ?? {}) as Record<string, unknown>;
    const secretsKept = Object.fromEntries(
      Object.entries(previous).filter(([, value]) => typeof value === "object" && value !== null && "secure" in value),
    );
    const namespaced = Object.fromEntries(Object.entries(config).map(([key, value]) => [`ballast:${key}`, value]));
    fs.writeFileSync(this.stackFile, stringify({ ...current, config: { ...secretsKept, ...namespaced } }, { lineWidth: 0 }));
  }

  async cli(args: string[], timeoutSeconds: number, input?: string): Promise<RunResult> {
    const cli = this.toolchain.BALLAST_PULUMI_CLI ?? "pulumi";
    return runOk(`pulumi ${args.join(" ")}`, cli, [...args, "--non-interactive"], {
      cwd: this.projectDir,
      env: this.env(),
      timeoutSeconds,
      input,
    });
  }

  async setConfig(key: string, value: string, options: { path?: boolean } = {}): Promise<void> {
    await this.cli(["config", "set", ...(options.path ? ["--path"] : []), "--stack", this.stack, `ballast:${key}`, value], 60);
  }

  /** `pulumi config set --secret [--path]`, the value on stdin (never on a command line). */
  async setSecret(key: string, value: string, options: { path?: boolean } = {}): Promise<void> {
    await this.cli(["config", "set", "--secret", ...(options.path ? ["--path"] : []), "--stack", this.stack, `ballast:${key}`], 60, value);
  }

  /** Runs scripts/e2e/inline.ts (up = `pulumi up --yes --skip-preview`); resolves even on failure. */
  async inline(operation: "up" | "preview" | "refresh" | "destroy", options: InlineOptions): Promise<InlineResult> {
    const args = [
      path.join(this.sourceRoot, "scripts", "e2e", "inline.ts"),
      operation,
      "--stack",
      this.stack,
      "--work-dir",
      this.projectDir,
    ];
    if (options.expectNoChanges) args.push("--expect-no-changes");
    if (options.excludeProtected) args.push("--exclude-protected");
    if (options.diff) args.push("--diff");
    for (const pack of options.policyPacks ?? []) args.push("--policy-pack", pack);
    for (const file of options.policyPackConfigs ?? []) args.push("--policy-pack-config", file);
    if (options.program) args.push("--program", options.program);
    if (options.clearPendingCreates) args.push("--clear-pending-creates");
    args.push("--timeout", String(options.timeoutSeconds));
    const result = await run(tsx, args, {
      cwd: this.sourceRoot,
      env: this.env(),
      // The driver bounds itself; this outer bound also covers tsx start-up and a stuck exit.
      timeoutSeconds: options.timeoutSeconds + 60,
      echo: process.env.BALLAST_E2E_VERBOSE === "1" ? `[${operation}]` : undefined,
    });
    const line = result.stdout.split("\n").find((l) => l.startsWith("BALLAST_E2E_RESULT "));
    return {
      ...result,
      result: line ? (JSON.parse(line.slice("BALLAST_E2E_RESULT ".length)) as Record<string, unknown>) : undefined,
      output: `${result.stdout}\n${result.stderr}`,
    };
  }

  /** Like `inline`, but throws with the engine's output unless the operation succeeded. */
  async inlineOk(operation: "up" | "preview" | "refresh" | "destroy", options: InlineOptions): Promise<InlineResult> {
    const result = await this.inline(operation, options);
    if (result.timedOut || result.code !== 0 || !result.result) {
      throw new Error(describeRun(`pulumi ${operation} (stack ${this.stack}, inline program)`, result, options.timeoutSeconds));
    }
    return result;
  }

  /** Runs an npm script of the repo with this project's backend and passphrase. */
  async npm(script: string, args: string[], timeoutSeconds: number, backendDir = this.backendDir): Promise<RunResult> {
    return runOk(`npm run ${script} -- ${args.join(" ")}`, "npm", ["run", "--silent", script, "--", ...args], {
      cwd: repoRoot,
      env: this.env({ PULUMI_BACKEND_URL: `file://${backendDir}` }),
      timeoutSeconds,
    });
  }

  dispose(): void {
    if (this.keep) {
      console.log(`BALLAST_E2E_KEEP=1: kept ${this.root}`);
      return;
    }
    fs.rmSync(this.root, { recursive: true, force: true });
  }
}
