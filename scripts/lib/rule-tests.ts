/**
 * Checks a stack's rendered Prometheus rules with promtool: `promtool check rules` over every
 * rules file Prometheus loads (Ballast's and the team's), then `promtool test rules` for each
 * test file the stack declares (`ballast:monitoring.alerts.ruleTests`), with its `rule_files`
 * pointed at the rendered rules, so the cases run against exactly what Prometheus evaluates.
 * Used by `npm run test:rules` and the tool tests.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { prometheusQueries, withGrafanaVariables, type RuleTestFile, type TeamDashboard } from "../../components/config";
import { toYaml } from "../../components/observability/yaml";
import type { StackModel } from "../../components/spec";

export interface RulesFile {
  name: string;
  content: string;
}

export interface PromtoolStep {
  /** What ran, e.g. `check rules team.rules.yml` or `test rules examples/nomosx/alerts/nomosx.rules.test.yml`. */
  step: string;
  status: number;
  output: string;
}

/** The rules files of the model's Prometheus (none when monitoring is off). */
export function renderedRuleFiles(model: StackModel): RulesFile[] {
  const prometheus = model.workloads.find((w) => w.name === "prometheus");
  return (prometheus?.configFiles ?? []).filter((f) => f.name.endsWith(".rules.yml")).map((f) => ({ name: f.name, content: f.content }));
}

/** A test file with `rule_files` replaced by the rendered rules' paths. */
export function pointedAt(test: RuleTestFile, rulePaths: string[]): string {
  const document = parse(test.content) as Record<string, unknown>;
  return stringify({ ...document, rule_files: rulePaths });
}

function promtool(args: string[]): { status: number; output: string } {
  const result = spawnSync("promtool", args, { encoding: "utf8", timeout: 110_000 });
  if (result.error)
    throw new Error(`promtool could not run (${result.error.message}); install Debian's prometheus package (apt-get install prometheus)`);
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}`.trim() };
}

/** Writes the rules into `dir` and runs promtool: every check first, then every declared test. */
export function checkAndTestRules(rules: RulesFile[], tests: RuleTestFile[], dir: string): PromtoolStep[] {
  mkdirSync(dir, { recursive: true });
  const rulePaths = rules.map((rule) => {
    const path = join(dir, rule.name);
    writeFileSync(path, rule.content);
    return path;
  });
  const steps: PromtoolStep[] = rules.map((rule, i) => ({
    step: `check rules ${rule.name}`,
    ...promtool(["check", "rules", rulePaths[i]]),
  }));
  tests.forEach((test, i) => {
    const path = join(dir, `test-${i}.yml`);
    writeFileSync(path, pointedAt(test, rulePaths));
    steps.push({ step: `test rules ${test.file}`, ...promtool(["test", "rules", path]) });
  });
  return steps;
}

/** One recording rule per Prometheus query of the dashboards, grouped by file, panel and query. */
export function dashboardQueryRules(dashboards: Pick<TeamDashboard, "file" | "model">[]): { content: string; count: number } {
  const groups = dashboards
    .flatMap(({ file, model }) => prometheusQueries(model).map((q) => ({ file, ...q })))
    .map((q, i) => ({
      name: `${q.file} panel ${JSON.stringify(q.panel)} query ${q.refId}`,
      // A record name per query: promtool lints two identical rules as duplicates.
      rules: [{ record: `dashboard:query_${i + 1}`, expr: withGrafanaVariables(String(q.expr)) }],
    }));
  return { content: toYaml({ groups }), count: groups.length };
}

/** `promtool check rules` over the dashboards' queries (no step when they have none). */
export function checkDashboardQueries(dashboards: Pick<TeamDashboard, "file" | "model">[], dir: string): PromtoolStep[] {
  const rules = dashboardQueryRules(dashboards);
  if (rules.count === 0) return [];
  mkdirSync(dir, { recursive: true });
  const path = join(dir, "dashboard-queries.yml");
  writeFileSync(path, rules.content);
  return [
    {
      step: `check dashboard queries (${rules.count} in ${dashboards.map((d) => d.file).join(", ")})`,
      ...promtool(["check", "rules", path]),
    },
  ];
}
