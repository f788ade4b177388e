/**
 * Builds `promtool test rules` files from the alert scenarios and the rendered rules, and
 * recording-rule files from dashboard queries. Expected annotations are computed with a
 * tiny expander for the two template forms the rules use (a unit test enforces that).
 */
import type { AlertGroup, AlertRule } from "../../components/observability/rules";
import type { DashboardJson } from "../../components/observability/dashboards";
import { dashboardQueries } from "../../components/observability/dashboards";
import { toYaml } from "../../components/observability/yaml";
import type { AlertScenario, ExpectedAlert } from "./alert-scenarios";

export function expandAnnotation(template: string, labels: Record<string, string>, value: number | undefined): string {
  return template
    .replace(/\{\{ \$labels\.([a-z_]+) \}\}/g, (_, name: string) => labels[name] ?? "")
    .replace(/\{\{ printf "%\.(\d)f" \$value \}\}/g, (_, digits: string) => {
      if (value === undefined) throw new Error(`template needs a value: ${template}`);
      return value.toFixed(Number(digits));
    });
}

export function findRule(groups: AlertGroup[], alert: string, severity: string): AlertRule {
  const rule = groups.flatMap((g) => g.rules).find((r) => r.alert === alert && r.severity === severity);
  if (!rule) throw new Error(`no rule ${alert} (${severity})`);
  return rule;
}

function expectedAlert(groups: AlertGroup[], alert: string, expected: ExpectedAlert) {
  const rule = findRule(groups, alert, expected.severity);
  const labels = { ...expected.labels, severity: expected.severity };
  return {
    exp_labels: labels,
    exp_annotations: {
      summary: expandAnnotation(rule.summary, labels, expected.value),
      description: expandAnnotation(rule.description, labels, expected.value),
    },
  };
}

/** One test file per evaluation interval (promtool sets it per file). */
export function ruleTestFiles(groups: AlertGroup[], scenarios: AlertScenario[], rulesPath: string): { name: string; content: string }[] {
  const intervals = [...new Set(scenarios.map((s) => s.interval))];
  return intervals.map((interval) => {
    const tests = scenarios
      .filter((s) => s.interval === interval)
      .flatMap((s) => [
        {
          interval,
          input_series: s.bad,
          alert_rule_test: [
            { eval_time: s.evalTime, alertname: s.alert, exp_alerts: s.expected.map((e) => expectedAlert(groups, s.alert, e)) },
          ],
        },
        {
          interval,
          input_series: s.healthy,
          alert_rule_test: [{ eval_time: s.evalTime, alertname: s.alert, exp_alerts: [] }],
        },
      ]);
    return { name: `alerts-${interval}.test.yml`, content: toYaml({ rule_files: [rulesPath], evaluation_interval: interval, tests }) };
  });
}

/** Every Prometheus query of the dashboards as a recording rule, so promtool parses each one. */
export function dashboardRecordingRules(dashboards: DashboardJson[]): { content: string; count: number } {
  const rules = dashboards.flatMap((d) =>
    dashboardQueries(d)
      .filter((q) => q.datasource === "prometheus")
      .map((q, i) => ({ record: `dashboard:${d.uid.replace(/[^a-zA-Z0-9_]/g, "_")}:query_${i + 1}`, expr: q.expr })),
  );
  return { content: toYaml({ groups: [{ name: "dashboard-queries", rules }] }), count: rules.length };
}
