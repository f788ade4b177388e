/**
 * npm run bench [-- --reps N] [--growth-reps N] [--no-write]
 *
 * Measures, on this machine, how long the Ballast program takes and how much memory it
 * needs: (a) evaluating the whole program under mocks (config -> Platform -> every
 * resource registered) and (b) rendering each stack's files, for dev, staging and prod,
 * and how both grow with 1, 10, 50 (and 100) workers and extra services. Every measurement runs
 * in a fresh Node process (module cache and heap never carry over), several times, and
 * the median is reported. Writes docs/benchmarks.md and prints the same table.
 *
 * Goals checked (a missed goal is reported, the exit status stays 0: this is a benchmark,
 * not a test): the prod stack evaluated and rendered in under 2 s; time and memory
 * growing roughly linearly with the number of services.
 *
 * When a Pulumi CLI is available ($PULUMI_HOME/bin/pulumi or `pulumi` on PATH), it also
 * times `pulumi preview` of the prod declaration, then staging and dev (Automation API,
 * inline program, a throw-away local backend, no plugin downloads); a stack whose provider
 * plugins are missing is reported as failed with the engine's reason. Without a CLI the
 * section says it was skipped and why. (`. ~/.cache/ballast/toolchain.env` puts the CLI
 * that scripts/toolchain.sh builds on PATH.)
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import * as os from "node:os";
import { delimiter, join, relative } from "node:path";
import { performance } from "node:perf_hooks";
// Node built-ins only, like the above.
import { writeHead } from "./lib/benchmarks-doc";

// Only Node built-ins are imported statically: a measured child loads the program's modules
// (Pulumi SDK included) inside the timed import phase, not before it.
const projectRoot = join(__dirname, "..");

const stacks = ["dev", "staging", "prod"] as const;
/**
 * 1, 10 and 50 are the sizes to report; 100 adds a second long segment, so linearity is
 * judged on two growth steps (10→50, 50→100) that are far larger than run-to-run noise.
 */
const growthSizes = [1, 10, 50, 100] as const;
/** Compose and Kubernetes: the growth runs use one stack of each target. */
const growthStacks = ["dev", "prod"] as const;
const goalMilliseconds = 2000;
/**
 * Growth counts as roughly linear while the CPU cost per service from 50 to 100 stays
 * within this factor of the cost from 10 to 50 (a quadratic cost gives (100+50)/(50+10) = 2.5).
 */
const linearityLimit = 2;
const childMarker = "BALLAST_BENCH_RESULT ";

type Dimension = "workers" | "services";

interface CaseSpec {
  stack: string;
  overrides: Record<string, string>;
  dimension?: Dimension;
  size?: number;
}

interface Sample {
  /** Node and tsx start-up before the case began (performance.now() at entry). */
  startupMs: number;
  /** Loading the program's modules (Pulumi SDK, mocks, config, components, targets). */
  importMs: number;
  /** Installing the mocks, reading config and constructing the Platform until every resource registration completed. */
  evaluateMs: number;
  /** The target's pure render of the model into files (first call, cold). */
  renderMs: number;
  /** Median of repeated renders in the same process (warm). */
  warmRenderMs: number;
  workloads: number;
  resources: number;
  files: number;
  /** CPU time (user + system) of import + evaluate + render: less sensitive than wall time to a busy machine. */
  cpuMs: number;
  /** CPU time of evaluate + render only: the part that grows with the stack. */
  cpuGrowingMs: number;
  /** process.resourceUsage().maxRSS at the end, MiB. */
  maxRssMiB: number;
  /** Wall time of the whole child process, measured by the parent. */
  processMs: number;
}

interface CaseResult {
  spec: CaseSpec;
  samples: Sample[];
  error?: string;
}

// ------------------------------------------------------------------------------------------------
// Child: one measurement

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/** The same steps as renderStack (scripts/lib/render-stack.ts), timed one by one. */
async function runCase(spec: CaseSpec): Promise<Omit<Sample, "processMs">> {
  const startupMs = performance.now();
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const { readStackFile } = await import("./lib/stack-files");
  const { withSecretPlaceholders } = await import("./lib/render-stack");
  const { drainRegistrations, installMocks } = await import("./lib/mock-program");
  const { platformArgsFromStackConfig } = await import("../components/config");
  const { Platform } = await import("../components/platform");
  const t1 = performance.now();
  const cpu1 = process.cpuUsage();
  const file = readStackFile(spec.stack);
  const { raw } = withSecretPlaceholders({ ...file.raw, ...spec.overrides });
  const recorder = await installMocks(spec.stack, raw, [...file.secretKeys, "ballast:secretValues", "ballast:sshPrivateKey"]);
  const platform = new Platform("ballast", platformArgsFromStackConfig());
  await drainRegistrations();
  const t2 = performance.now();
  const files = platform.target.render(platform.model);
  const t3 = performance.now();
  const cpu = process.cpuUsage(cpu0);
  const cpuGrowing = process.cpuUsage(cpu1);
  const warm: number[] = [];
  for (let i = 0; i < 5; i++) {
    const started = performance.now();
    platform.target.render(platform.model);
    warm.push(performance.now() - started);
  }
  return {
    startupMs,
    importMs: t1 - t0,
    evaluateMs: t2 - t1,
    renderMs: t3 - t2,
    warmRenderMs: median(warm),
    workloads: platform.model.workloads.length,
    resources: recorder.resources.length,
    files: files.length,
    cpuMs: (cpu.user + cpu.system) / 1000,
    cpuGrowingMs: (cpuGrowing.user + cpuGrowing.system) / 1000,
    maxRssMiB: process.resourceUsage().maxRSS / 1024,
  };
}

/** `pulumi preview` of a stack through the Automation API (inline program, local file backend). */
async function runPreview(stack: string): Promise<{ previewMs: number; steps: number; summary: string }> {
  const { LocalWorkspace } = await import("@pulumi/pulumi/automation");
  const { readStackFile } = await import("./lib/stack-files");
  const { withSecretPlaceholders } = await import("./lib/render-stack");
  const file = readStackFile(stack);
  const { raw } = withSecretPlaceholders(file.raw);
  const secretKeys = new Set([...file.secretKeys, "ballast:secretValues", "ballast:sshPrivateKey"]);
  const dir = mkdtempSync(join(os.tmpdir(), "ballast-bench-preview-"));
  mkdirSync(join(dir, "state"));
  try {
    const program = async () => {
      const { platformArgsFromStackConfig } = await import("../components/config");
      const { Platform } = await import("../components/platform");
      const platform = new Platform("ballast", platformArgsFromStackConfig());
      return { appUrl: platform.appUrl };
    };
    const workspace = await LocalWorkspace.createOrSelectStack(
      { stackName: stack, projectName: "ballast", program },
      {
        workDir: dir,
        projectSettings: { name: "ballast", runtime: "nodejs", backend: { url: `file://${join(dir, "state")}` } },
        // A throw-away local state: the passphrase protects nothing real.
        envVars: {
          PULUMI_CONFIG_PASSPHRASE: "ballast-bench",
          PULUMI_SKIP_UPDATE_CHECK: "true",
          // A missing plugin must fail the preview here, not start a download.
          PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        },
      },
    );
    await workspace.setAllConfig(
      Object.fromEntries(Object.entries(raw).map(([key, value]) => [key, { value, secret: secretKeys.has(key) }])),
    );
    const started = performance.now();
    const preview = await workspace.preview();
    const previewMs = performance.now() - started;
    const steps = Object.values(preview.changeSummary).reduce((sum, n) => sum + (n ?? 0), 0);
    const summary = Object.entries(preview.changeSummary)
      .map(([op, n]) => `${op} ${n}`)
      .join(", ");
    return { previewMs, steps, summary };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function child(mode: string, payload: string): Promise<void> {
  const result = mode === "--case" ? await runCase(JSON.parse(payload) as CaseSpec) : await runPreview(payload);
  process.stdout.write(`${childMarker}${JSON.stringify(result)}\n`);
}

// ------------------------------------------------------------------------------------------------
// Parent: spawn, aggregate, report

function spawnChild(args: string[], env: NodeJS.ProcessEnv = process.env): { result?: unknown; error?: string; processMs: number } {
  const started = performance.now();
  const run = spawnSync(process.execPath, ["--import", "tsx", __filename, ...args], {
    cwd: projectRoot,
    env,
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 10 * 60 * 1000,
  });
  const processMs = performance.now() - started;
  const line = run.stdout?.split("\n").find((l) => l.startsWith(childMarker));
  if (run.status === 0 && line) return { result: JSON.parse(line.slice(childMarker.length)), processMs };
  const lines = (run.stderr || run.stdout || String(run.error ?? `exit ${run.status}`)).split("\n").map((l) => l.trim());
  // The engine's own `error: ...` line says most; otherwise the first line that mentions an error.
  const reason = lines.find((l) => /^error: /.test(l)) ?? lines.find((l) => /error/i.test(l)) ?? `exit status ${run.status}`;
  return { error: reason.slice(0, 300), processMs };
}

function measure(spec: CaseSpec, reps: number, label: string): CaseResult {
  const samples: Sample[] = [];
  for (let i = 0; i < reps; i++) {
    const { result, error, processMs } = spawnChild(["--case", JSON.stringify(spec)]);
    if (error) {
      console.log(`  ${label}: failed: ${error}`);
      return { spec, samples, error };
    }
    samples.push({ ...(result as Omit<Sample, "processMs">), processMs });
  }
  const m = medians(samples);
  console.log(
    `  ${label}: evaluate+render ${fmt(m.evaluateMs + m.renderMs)} ms, with import ${fmt(m.importMs + m.evaluateMs + m.renderMs)} ms, peak RSS ${fmt(m.maxRssMiB)} MiB`,
  );
  return { spec, samples };
}

type Numeric = { [K in keyof Sample]: number };

function medians(samples: Sample[]): Numeric {
  const keys = Object.keys(samples[0]) as (keyof Sample)[];
  return Object.fromEntries(keys.map((key) => [key, median(samples.map((s) => s[key]))])) as Numeric;
}

function fmt(value: number, digits = 0): string {
  return value.toFixed(digits);
}

/** Least-squares slope of y over x. */
function slope(points: { x: number; y: number }[]): number {
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const num = points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0);
  const den = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function growthOverrides(stack: string, dimension: Dimension, size: number): Promise<Record<string, string>> {
  const { readStackFile } = await import("./lib/stack-files");
  const overrides: Record<string, string> = {};
  if (dimension === "workers") {
    overrides["ballast:workers"] = JSON.stringify(
      Array.from({ length: size }, (_, i) => ({ name: `worker-${i + 1}`, command: ["node", "dist/worker.js"] })),
    );
  } else {
    overrides["ballast:services"] = JSON.stringify(
      Array.from({ length: size }, (_, i) => ({
        name: `svc-${i + 1}`,
        image: "ghcr.io/acme/svc:1.0.0",
        port: 8000,
        health: { liveness: "/health" },
      })),
    );
  }
  // A Compose stack declares the size of its host; a benchmark host big enough for 100 services keeps the footprint warning out of the figures.
  if (readStackFile(stack).raw["ballast:target"] === "compose") overrides["ballast:host"] = JSON.stringify({ cpus: 512, memoryGiB: 4096 });
  return overrides;
}

function pulumiBinary(): string | undefined {
  const home = process.env.PULUMI_HOME;
  if (home && existsSync(join(home, "bin", "pulumi"))) return join(home, "bin", "pulumi");
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, "pulumi"))) return join(dir, "pulumi");
  }
  return undefined;
}

interface Options {
  reps: number;
  growthReps: number;
  write: boolean;
}

function parseOptions(args: string[]): Options {
  const value = (flag: string, fallback: number) => {
    const index = args.indexOf(flag);
    if (index === -1) return fallback;
    const n = Number(args[index + 1]);
    if (!Number.isInteger(n) || n < 1) {
      console.error(`${flag} needs a positive integer`);
      process.exit(2);
    }
    return n;
  };
  return { reps: value("--reps", 5), growthReps: value("--growth-reps", 3), write: !args.includes("--no-write") };
}

async function parent(options: Options): Promise<void> {
  const cpus = os.cpus();
  const machine = `${cpus.length} × ${cpus[0]?.model.trim() ?? "unknown CPU"}, ${fmt(os.totalmem() / 1024 ** 3, 1)} GiB memory, Node ${process.version}, ${os.type()} ${os.release()}`;
  const loadBefore = os.loadavg()[0];
  console.log(`machine: ${machine}; load average ${fmt(loadBefore, 1)}`);
  console.log(`stacks (${options.reps} runs each, one fresh process per run):`);
  const stackResults = stacks.map((stack) => measure({ stack, overrides: {} }, options.reps, stack));

  console.log(`growth (${options.growthReps} runs per point):`);
  const growth: CaseResult[] = [];
  for (const stack of growthStacks) {
    for (const dimension of ["workers", "services"] as const) {
      for (const size of growthSizes) {
        const overrides = await growthOverrides(stack, dimension, size);
        growth.push(measure({ stack, overrides, dimension, size }, options.growthReps, `${stack} ${size} ${dimension}`));
      }
    }
  }

  const binary = pulumiBinary();
  const previewLines: string[] = [];
  if (!binary) {
    previewLines.push(
      "Skipped: no Pulumi CLI on this machine (neither `$PULUMI_HOME/bin/pulumi` nor `pulumi` on PATH; scripts/toolchain.sh builds one).",
    );
  } else {
    // The prod declaration is the one the goal is about; the others show the engine's cost where their plugins exist.
    const env = { ...process.env, PATH: `${join(binary, "..")}${delimiter}${process.env.PATH ?? ""}` };
    // The CLI's version, not its path: docs/benchmarks.md is committed and names no machine's directories.
    const version = spawnSync(binary, ["version"], { encoding: "utf8" }).stdout.trim() || "unknown version";
    previewLines.push(
      `\`pulumi preview\` through the Automation API (inline program, throw-away local backend) with the Pulumi CLI ${version} (scripts/toolchain.sh) and the provider plugins it installed (${process.env.BALLAST_TOOLCHAIN_PLUGINS || "none listed"}); one run per stack.`,
      "",
    );
    previewLines.push("| Stack | Result | Preview ms | Steps | Process ms |", "|---|---|---|---|---|");
    for (const stack of ["prod", "staging", "dev"]) {
      const { result, error, processMs } = spawnChild(["--preview", stack], env);
      if (error) {
        previewLines.push(`| ${stack} | failed: ${error.replace(/\|/g, "\\|")} | | | ${fmt(processMs)} |`);
        console.log(`  pulumi preview ${stack}: failed: ${error}`);
        continue;
      }
      const r = result as { previewMs: number; steps: number; summary: string };
      previewLines.push(`| ${stack} | ${r.summary} | ${fmt(r.previewMs)} | ${r.steps} | ${fmt(processMs)} |`);
      console.log(`  pulumi preview ${stack}: ${fmt(r.previewMs)} ms (${r.summary})`);
    }
  }
  const previewLine = previewLines.join("\n");

  const load = `load average (1 min) ${fmt(loadBefore, 1)} at the start, ${fmt(os.loadavg()[0], 1)} at the end on ${cpus.length} cores`;
  const peakLoad = Math.max(loadBefore, os.loadavg()[0]);
  const busyNote =
    peakLoad > cpus.length
      ? `The machine was busy (load average up to ${fmt(peakLoad, 1)} on ${cpus.length} cores), so wall times are inflated`
      : undefined;
  const report = renderReport(`${machine}; ${load}`, busyNote, options, stackResults, growth, previewLine);
  console.log("");
  console.log(report.verdicts.join("\n"));
  if (options.write) {
    const path = join(projectRoot, "docs", "benchmarks.md");
    // Sections other benchmarks own (bench:release) stay.
    writeHead(path, report.markdown);
    console.log(`wrote ${relative(projectRoot, path)}`);
  }
}

function renderReport(
  machine: string,
  busyNote: string | undefined,
  options: Options,
  stackResults: CaseResult[],
  growth: CaseResult[],
  previewLine: string,
): { markdown: string; verdicts: string[] } {
  const lines: string[] = [];
  const verdicts: string[] = [];
  const date = new Date().toISOString().slice(0, 10);
  lines.push("# Benchmarks", "");
  lines.push(
    `Run on ${date}: ${machine}. Written by \`npm run bench\` (scripts/bench.ts); numbers are medians over fresh Node processes.`,
    "",
  );
  lines.push(
    "Phases, as `pulumi up` runs them: **import** loads the program's modules (config, components, targets, Pulumi SDK); **evaluate** reads and validates the stack config, builds the Platform and waits until every resource registration has completed under mocks; **render** is the target's pure render of the model into files (first call; *warm* is the median of five more calls in the same process). **Process** is the child's whole wall time, Node and tsx start-up included.",
    "",
  );

  lines.push("## Stacks", "");
  lines.push(`${options.reps} runs per stack.`, "");
  lines.push(
    "| Stack | Workloads | Resources | Files | Import ms | Evaluate ms | Render ms | Warm render ms | Import + evaluate + render ms (min–max) | CPU ms | Process ms | Peak RSS MiB |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of stackResults) {
    if (r.error || r.samples.length === 0) {
      lines.push(`| ${r.spec.stack} | failed: ${r.error?.replace(/\|/g, "\\|") ?? "no samples"} | | | | | | | | | | |`);
      continue;
    }
    const m = medians(r.samples);
    const total = m.importMs + m.evaluateMs + m.renderMs;
    const range = r.samples.map((s) => s.importMs + s.evaluateMs + s.renderMs);
    lines.push(
      `| ${r.spec.stack} | ${m.workloads} | ${m.resources} | ${m.files} | ${fmt(m.importMs)} | ${fmt(m.evaluateMs)} | ${fmt(m.renderMs, 1)} | ${fmt(m.warmRenderMs, 1)} | ${fmt(total)} (${fmt(Math.min(...range))}–${fmt(Math.max(...range))}) | ${fmt(m.cpuMs)} | ${fmt(m.processMs)} | ${fmt(m.maxRssMiB)} |`,
    );
  }
  lines.push("");

  const prod = stackResults.find((r) => r.spec.stack === "prod");
  if (prod && !prod.error && prod.samples.length > 0) {
    const m = medians(prod.samples);
    const total = m.importMs + m.evaluateMs + m.renderMs;
    const met = total < goalMilliseconds;
    const busy = busyNote ? ` ${busyNote}; the CPU time of the same phases was ${fmt(m.cpuMs)} ms.` : "";
    verdicts.push(
      `Goal "prod evaluated + rendered in under 2 s": ${met ? "MET" : "MISSED"}: ${fmt(total)} ms in-process (import ${fmt(m.importMs)} + evaluate ${fmt(m.evaluateMs)} + render ${fmt(m.renderMs)}); ${fmt(m.processMs)} ms for the whole process including Node/tsx start-up${m.processMs < goalMilliseconds ? " (also under 2 s)" : " (over 2 s with start-up)"}.${busy}`,
    );
  } else {
    verdicts.push(`Goal "prod evaluated + rendered in under 2 s": NOT MEASURED: prod failed (${prod?.error ?? "no samples"}).`);
  }

  lines.push("## Growth with the number of services", "");
  lines.push(
    `Workers (\`ballast:workers\`) and extra services (\`ballast:services\`) added through \`renderStack(stack, overrides)\`-style config overrides; ${options.growthReps} runs per point. Compose stacks get a declared host of 512 CPUs / 4 TiB so the footprint check stays quiet with 100 services. *Time* is evaluate + render (import does not depend on the size).`,
    "",
  );
  lines.push("| Stack | Added | N | Workloads | Resources | Files | Evaluate ms | Render ms | Time ms | CPU ms | Peak RSS MiB |");
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of growth) {
    if (r.error || r.samples.length === 0) {
      lines.push(
        `| ${r.spec.stack} | ${r.spec.dimension} | ${r.spec.size} | failed: ${r.error?.replace(/\|/g, "\\|") ?? "no samples"} | | | | | | | |`,
      );
      continue;
    }
    const m = medians(r.samples);
    lines.push(
      `| ${r.spec.stack} | ${r.spec.dimension} | ${r.spec.size} | ${m.workloads} | ${m.resources} | ${m.files} | ${fmt(m.evaluateMs)} | ${fmt(m.renderMs, 1)} | ${fmt(m.evaluateMs + m.renderMs)} | ${fmt(m.cpuGrowingMs)} | ${fmt(m.maxRssMiB)} |`,
    );
  }
  lines.push("");

  lines.push(
    "| Stack | Added | Wall ms per service | CPU ms per service | CPU ms per service 1→10 | 10→50 | 50→100 | Ratio (50→100 / 10→50) | CPU 50 / CPU 1 | MiB per service | Roughly linear |",
  );
  lines.push("|---|---|---|---|---|---|---|---|---|---|---|");
  let allLinear = true;
  let anyMeasured = false;
  for (const stack of growthStacks) {
    for (const dimension of ["workers", "services"] as const) {
      const points = growth.filter((r) => r.spec.stack === stack && r.spec.dimension === dimension && !r.error && r.samples.length > 0);
      if (points.length !== growthSizes.length) {
        lines.push(`| ${stack} | ${dimension} | not measured | | | | | | | | |`);
        allLinear = false;
        continue;
      }
      anyMeasured = true;
      const samplesAt = (size: number) => points.find((p) => p.spec.size === size)!.samples;
      const at = (size: number) => medians(samplesAt(size));
      const wall = (size: number) => at(size).evaluateMs + at(size).renderMs;
      const cpu = (size: number) => at(size).cpuGrowingMs;
      const perService = (from: number, to: number) => (cpu(to) - cpu(from)) / (to - from);
      const wallSlope = slope(growthSizes.map((size) => ({ x: size, y: wall(size) })));
      const cpuSlope = slope(growthSizes.map((size) => ({ x: size, y: cpu(size) })));
      const middle = perService(10, 50);
      const late = perService(50, 100);
      // Noise floor: the spread of repeated runs at one size. A growth smaller than it shows nothing either way.
      const spread = Math.max(
        ...growthSizes.map(
          (size) => Math.max(...samplesAt(size).map((x) => x.cpuGrowingMs)) - Math.min(...samplesAt(size).map((x) => x.cpuGrowingMs)),
        ),
      );
      const withinNoise = cpu(100) - cpu(1) <= spread;
      const ratio = middle > 0 ? late / middle : Infinity;
      const linear = withinNoise || ratio <= linearityLimit;
      const memory = slope(growthSizes.map((size) => ({ x: size, y: at(size).maxRssMiB })));
      allLinear &&= linear;
      lines.push(
        `| ${stack} | ${dimension} | ${fmt(wallSlope, 2)} | ${fmt(cpuSlope, 2)} | ${fmt(perService(1, 10), 2)} | ${fmt(middle, 2)} | ${fmt(late, 2)} | ${Number.isFinite(ratio) ? fmt(ratio, 2) : "n/a"} | ${fmt(cpu(50) / cpu(1), 2)} | ${fmt(memory, 2)} | ${linear ? (withinNoise ? "yes (growth within noise)" : "yes") : "NO"} |`,
      );
    }
  }
  lines.push("");
  lines.push(
    `*CPU ms* is the CPU time (user + system) of evaluate + render: it grows with the stack and, unlike wall time, barely moves when other processes compete for the cores. Slopes are least-squares fits over every size (ms per added service). Linear growth means a constant cost per added service: the CPU cost per service from 50 to 100 stays within ${linearityLimit}× the cost from 10 to 50 (a quadratic cost would give 2.5×). The step from 1 to 10 is shown but not judged: its growth is of the order of the run-to-run noise.`,
    "",
  );
  verdicts.push(
    `Goal "growth roughly linear in services": ${!anyMeasured ? "NOT MEASURED" : allLinear ? "MET" : "MISSED"}: see the per-service table (CPU cost per service from 50 to 100 at most ${linearityLimit}× the cost from 10 to 50).`,
  );

  lines.push("## pulumi preview", "", previewLine, "");
  lines.push("## Goals", "", ...verdicts.map((v) => `- ${v}`), "");
  return { markdown: lines.join("\n"), verdicts };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const mode = args.find((a) => a === "--case" || a === "--preview");
  if (mode) {
    await child(mode, args[args.indexOf(mode) + 1]);
    return;
  }
  await parent(parseOptions(args));
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
