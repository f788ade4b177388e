/**
 * Files of the repository the stack file points at: Grafana dashboards
 * (`ballast:monitoring.grafana.dashboards`), Prometheus rule files and their
 * `promtool test rules` files (`ballast:monitoring.alerts.ruleFiles` / `.ruleTests`). Paths
 * are relative to the project root, the directory of Pulumi.yaml (`pulumi up` runs there).
 *
 * They are read once, at config time, so a missing file or one that is not what it claims
 * to be refuses the stack before any resource exists, naming the file (and the panel or
 * rule). Their content then travels in the config: the renderers stay pure, and a changed
 * file changes the rendered bundle / ConfigMap that `pulumi preview` shows.
 */
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import type { z } from "zod";
import { configKey, showValue } from "./errors";
import { BUILTIN_RULE_GROUPS, ruleGroupSchema } from "./monitoring";
import { promqlSyntaxProblem, withGrafanaVariables } from "./promql";
import type { platformInputSchema } from "./schema";

/** The parsed stack input (./types.ts names it too; derived here so the two files do not import each other). */
type PlatformInput = z.output<typeof platformInputSchema>;

export type RuleGroup = z.output<typeof ruleGroupSchema>;

/** A team dashboard as its file holds it, checked for shape and PromQL structure. */
export interface TeamDashboard {
  /** Path relative to the project root, as the stack file names it. */
  file: string;
  /** The file's `uid`, or `team-<file name>` when it has none. */
  uid: string;
  /** The file's title, without the stack's title prefix. */
  title: string;
  /** The whole JSON model, unchanged. */
  model: Record<string, unknown>;
}

/** The team's rule groups of one rule file. */
export interface TeamRuleFile {
  file: string;
  groups: RuleGroup[];
}

export interface RuleTestFile {
  file: string;
  content: string;
}

/** What the stack's repository files hold, for the renderers and `npm run test:rules`. */
export interface RepositoryFiles {
  dashboards: TeamDashboard[];
  ruleFiles: TeamRuleFile[];
  ruleTests: RuleTestFile[];
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === "object" && value !== null && !Array.isArray(value);

/** `["groups", 0, "rules", 1, "expr"]` -> `groups[0].rules[1].expr`. */
function pathText(path: ReadonlyArray<PropertyKey>): string {
  return path.map((part, i) => (typeof part === "number" ? `[${part}]` : `${i === 0 ? "" : "."}${String(part)}`)).join("");
}

/** The file's text, or a problem naming the key and the file. */
function readRepositoryFile(root: string, file: string, key: string, problems: string[]): string | undefined {
  const path = join(root, file);
  if (!existsSync(path) || !statSync(path).isFile()) {
    problems.push(`${key}: file ${showValue(file)} does not exist (paths are relative to the project root ${root}, where Pulumi.yaml is)`);
    return undefined;
  }
  return readFileSync(path, "utf8");
}

export type DatasourceKind = "prometheus" | "loki" | "other" | "default";

/** What a panel's or query's `datasource` points at: an object ref, a name (old dashboards) or nothing (the default, Prometheus). */
export function datasourceKind(ref: unknown): DatasourceKind {
  if (ref === undefined || ref === null) return "default";
  if (isObject(ref)) {
    if (ref.type === "prometheus" || ref.type === "loki") return ref.type;
    if (ref.type === undefined && (ref.uid === "prometheus" || ref.uid === "loki")) return ref.uid;
    return "other";
  }
  if (typeof ref === "string") {
    if (/prometheus/i.test(ref)) return "prometheus";
    if (/loki/i.test(ref)) return "loki";
  }
  return "other";
}

/** Every panel, rows' collapsed panels included. */
export function allPanels(model: Json): Json[] {
  const panels = Array.isArray(model.panels) ? model.panels.filter(isObject) : [];
  return panels.flatMap((panel) => [panel, ...(Array.isArray(panel.panels) ? panel.panels.filter(isObject) : [])]);
}

/** The Prometheus queries of a dashboard: panel title, query refId and expression. */
export function prometheusQueries(model: Json): { panel: string; refId: string; expr: unknown }[] {
  return allPanels(model).flatMap((panel) => {
    const targets = Array.isArray(panel.targets) ? panel.targets.filter(isObject) : [];
    const panelKind = datasourceKind(panel.datasource);
    return targets
      .filter((target) => {
        const kind = target.datasource === undefined || target.datasource === null ? panelKind : datasourceKind(target.datasource);
        return kind === "prometheus" || kind === "default";
      })
      .map((target, i) => ({
        panel: typeof panel.title === "string" && panel.title !== "" ? panel.title : `#${String(panel.id ?? "?")}`,
        refId: typeof target.refId === "string" ? target.refId : String.fromCharCode(65 + i),
        expr: target.expr,
      }));
  });
}

const uidPattern = /^[a-zA-Z0-9_-]{1,40}$/;

function dashboardProblems(model: unknown, where: string): string[] {
  if (!isObject(model) || typeof model.title !== "string" || model.title.trim() === "" || !Array.isArray(model.panels)) {
    const wrapped =
      isObject(model) && isObject(model.dashboard) ? ' (an API export wraps the model in "dashboard": save that inner object)' : "";
    return [`${where} is not a Grafana dashboard: it must be a JSON object with a non-empty "title" and a "panels" list${wrapped}`];
  }
  const problems: string[] = [];
  if (model.uid !== undefined && model.uid !== null && (typeof model.uid !== "string" || !uidPattern.test(model.uid))) {
    problems.push(`${where}: "uid" ${showValue(model.uid)} must be 1 to 40 letters, digits, '_' or '-'`);
  }
  for (const query of prometheusQueries(model)) {
    const at = `${where} panel ${JSON.stringify(query.panel)} query ${query.refId}`;
    if (typeof query.expr !== "string" || query.expr.trim() === "") {
      problems.push(`${at}: "expr" must be a non-empty PromQL string (got ${showValue(query.expr)})`);
      continue;
    }
    const problem = promqlSyntaxProblem(withGrafanaVariables(query.expr));
    // The whole query, not a shortened one: it is what the user has to find in the file.
    if (problem) problems.push(`${at}: ${JSON.stringify(query.expr)} is not valid PromQL: ${problem}`);
  }
  return problems;
}

function fileStem(file: string): string {
  return (file.split("/").pop() ?? file).replace(/\.json$/, "");
}

function loadDashboards(config: PlatformInput, root: string, problems: string[]): TeamDashboard[] {
  const dashboards: TeamDashboard[] = [];
  const uids = new Map<string, string>();
  config.monitoring.grafana.dashboards.forEach((file, i) => {
    const key = configKey(["monitoring", "grafana", "dashboards", i]);
    const text = readRepositoryFile(root, file, key, problems);
    if (text === undefined) return;
    let model: unknown;
    try {
      model = JSON.parse(text);
    } catch (error) {
      problems.push(`${key}: ${showValue(file)} is not valid JSON (${(error as Error).message})`);
      return;
    }
    const found = dashboardProblems(model, `${key}: ${showValue(file)}`);
    if (found.length > 0) {
      problems.push(...found);
      return;
    }
    const json = model as Json;
    const uid = typeof json.uid === "string" ? json.uid : `team-${fileStem(file).replace(/[^a-zA-Z0-9_-]/g, "-")}`.slice(0, 40);
    if (uid.startsWith("ballast-")) {
      problems.push(
        `${key}: ${showValue(file)} has uid ${showValue(uid)}: uids starting with "ballast-" belong to Ballast's built-in dashboards; choose another`,
      );
      return;
    }
    const previous = uids.get(uid);
    if (previous) {
      problems.push(`${key}: ${showValue(file)} has uid ${showValue(uid)}, as ${previous} does: each dashboard needs its own uid`);
      return;
    }
    uids.set(uid, `${key} (${showValue(file)})`);
    dashboards.push({ file, uid, title: (json.title as string).trim(), model: json });
  });
  return dashboards;
}

function loadRuleFiles(config: PlatformInput, root: string, problems: string[]): TeamRuleFile[] {
  const files: TeamRuleFile[] = [];
  config.monitoring.alerts.ruleFiles.forEach((file, i) => {
    const key = configKey(["monitoring", "alerts", "ruleFiles", i]);
    const text = readRepositoryFile(root, file, key, problems);
    if (text === undefined) return;
    let document: unknown;
    try {
      document = parse(text);
    } catch (error) {
      problems.push(`${key}: ${showValue(file)} is not valid YAML (${(error as Error).message.split("\n")[0]})`);
      return;
    }
    if (!isObject(document) || !Array.isArray(document.groups)) {
      problems.push(`${key}: ${showValue(file)} is not a Prometheus rule file: it must have a "groups" list`);
      return;
    }
    const groups: RuleGroup[] = [];
    document.groups.forEach((group, g) => {
      const parsed = ruleGroupSchema.safeParse(group);
      if (parsed.success) groups.push(parsed.data);
      else
        for (const issue of parsed.error.issues)
          problems.push(`${key}: ${showValue(file)} ${pathText(["groups", g, ...issue.path])}: ${issue.message}`);
    });
    files.push({ file, groups });
  });
  return files;
}

function loadRuleTests(config: PlatformInput, root: string, problems: string[]): RuleTestFile[] {
  const tests: RuleTestFile[] = [];
  config.monitoring.alerts.ruleTests.forEach((file, i) => {
    const key = configKey(["monitoring", "alerts", "ruleTests", i]);
    const content = readRepositoryFile(root, file, key, problems);
    if (content === undefined) return;
    let document: unknown;
    try {
      document = parse(content);
    } catch (error) {
      problems.push(`${key}: ${showValue(file)} is not valid YAML (${(error as Error).message.split("\n")[0]})`);
      return;
    }
    if (!isObject(document) || !Array.isArray(document.tests)) {
      problems.push(`${key}: ${showValue(file)} is not a promtool test file: it must have a "tests" list`);
      return;
    }
    tests.push({ file, content });
  });
  return tests;
}

/** Team rule group names must be unique and must not take a built-in group's name (Prometheus would run both). */
function groupNameProblems(config: PlatformInput, ruleFiles: TeamRuleFile[]): string[] {
  const problems: string[] = [];
  const seen = new Map<string, string>();
  const declared = [
    ...config.monitoring.alerts.groups.map((group, i) => {
      const key = configKey(["monitoring", "alerts", "groups", i]);
      return { name: group.name, subject: `${key}.name: ${showValue(group.name)}`, ref: key };
    }),
    ...ruleFiles.flatMap((ruleFile) => {
      const key = configKey(["monitoring", "alerts", "ruleFiles", config.monitoring.alerts.ruleFiles.indexOf(ruleFile.file)]);
      return ruleFile.groups.map((group) => ({
        name: group.name,
        subject: `${key}: ${showValue(ruleFile.file)} group ${showValue(group.name)}`,
        ref: `the group in ${showValue(ruleFile.file)}`,
      }));
    }),
  ];
  for (const { name, subject, ref } of declared) {
    if ((BUILTIN_RULE_GROUPS as readonly string[]).includes(name)) {
      problems.push(
        `${subject} is the name of a built-in Ballast rule group; choose another (built-in: ${BUILTIN_RULE_GROUPS.join(", ")})`,
      );
      continue;
    }
    const previous = seen.get(name);
    if (previous) problems.push(`${subject} is already the name of ${previous}; rule group names must be unique`);
    else seen.set(name, ref);
  }
  return problems;
}

/**
 * On Kubernetes every dashboard lives in the one grafana ConfigMap, whose data may hold at most
 * 1 MiB; Ballast's own boards take less than 150 KiB of it.
 */
export const KUBERNETES_TEAM_DASHBOARDS_MAX_KIB = 768;

function dashboardSizeProblem(config: PlatformInput, dashboards: TeamDashboard[]): string | undefined {
  if (config.target !== "kubernetes") return undefined;
  const kib = Math.ceil(dashboards.reduce((sum, d) => sum + Buffer.byteLength(JSON.stringify(d.model, null, 2)), 0) / 1024);
  if (kib <= KUBERNETES_TEAM_DASHBOARDS_MAX_KIB) return undefined;
  return (
    `${configKey(["monitoring", "grafana", "dashboards"])}: the dashboards add up to ${kib} KiB; on Kubernetes they share the grafana ConfigMap ` +
    `(at most 1 MiB with Ballast's own boards), so at most ${KUBERNETES_TEAM_DASHBOARDS_MAX_KIB} KiB: drop boards or their unused panels`
  );
}

/** Reads and checks every repository file the config names; problems name key and file. */
export function loadRepositoryFiles(config: PlatformInput, root: string, problems: string[]): RepositoryFiles {
  const dashboards = loadDashboards(config, root, problems);
  const tooLarge = dashboardSizeProblem(config, dashboards);
  if (tooLarge) problems.push(tooLarge);
  const ruleFiles = loadRuleFiles(config, root, problems);
  const ruleTests = loadRuleTests(config, root, problems);
  problems.push(...groupNameProblems(config, ruleFiles));
  return { dashboards, ruleFiles, ruleTests };
}
