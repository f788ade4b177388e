/**
 * `promtool test rules` cases generated from declared SLOs: for each SLO, input series at a
 * chosen error ratio and the burn-rate alerts that must (or must not) fire, with thresholds
 * taken from the SLO itself (objective, window, burn factors). Labels of one good and one
 * failed request are given per SLO and checked against its selectors first, so a case
 * cannot pass by feeding series the SLO never reads.
 */
import { parseSeriesSelector, type LabelMatcher, type SloConfig } from "../../components/config";
import type { RuleFileGroup } from "../../components/observability/rules";
import { burnAlerts, errorBudget, SLO_ALERT } from "../../components/observability/slos";

/** Labels of a good and of a failed request of one SLO (without `job`, which the SLO sets). */
export interface SampleRequests {
  good: Record<string, string>;
  bad: Record<string, string>;
}

function holds(m: LabelMatcher, labels: Record<string, string>): boolean {
  const value = labels[m.label] ?? "";
  const re = new RegExp(`^(?:${m.value})$`);
  return m.op === "=" ? value === m.value : m.op === "!=" ? value !== m.value : m.op === "=~" ? re.test(value) : !re.test(value);
}

/** Whether a series with these labels is selected by `selector` (job added). */
export function selects(selector: string | undefined, slo: SloConfig, labels: Record<string, string>): boolean {
  const parsed = selector === undefined ? undefined : parseSeriesSelector(selector);
  if (!parsed) return false;
  return parsed.matchers.every((m) => holds(m, { ...labels, job: slo.service }));
}

const seriesText = (metric: string, labels: Record<string, string>) =>
  `${metric}{${Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(", ")}}`;

/** Requests per minute such that `ratio` of them is a whole number. */
function perMinute(ratio: number): { all: number; bad: number } {
  for (const all of [100, 1_000, 10_000, 100_000, 1_000_000]) {
    const bad = ratio * all;
    if (Math.abs(bad - Math.round(bad)) < 1e-9) return { all, bad: Math.round(bad) };
  }
  return { all: 1_000_000, bad: Math.ceil(ratio * 1_000_000) };
}

/** One minute-step counter: `increments` per minute for `minutes`, then `after` per minute. */
const counter = (increments: number, minutes: number, after?: { increments: number; minutes: number }) =>
  after ? `0+${increments}x${minutes} ${increments * minutes}+${after.increments}x${after.minutes}` : `0+${increments}x${minutes}`;

interface Phase {
  ratio: number;
  minutes: number;
}

/** Input series of an SLO whose error ratio is `first.ratio` (then `then.ratio`), from its own selectors. */
export function sloSeries(slo: SloConfig, sample: SampleRequests, first: Phase, then?: Phase): { series: string; values: string }[] {
  const a = perMinute(first.ratio);
  const b = then ? perMinute(then.ratio) : undefined;
  const rescale = (x: { all: number; bad: number }, all: number) => ({ all, bad: (x.bad * all) / x.all });
  const all = Math.max(a.all, b?.all ?? 0);
  const p1 = rescale(a, all);
  const p2 = b && then ? { ...rescale(b, all), minutes: then.minutes } : undefined;
  const job = { job: slo.service };
  const values = (pick: (p: { all: number; bad: number }) => number) =>
    counter(pick(p1), first.minutes, p2 ? { increments: pick(p2), minutes: p2.minutes } : undefined);

  if (slo.type === "availability") {
    const total = parseSeriesSelector(slo.total ?? "")!;
    const errors = parseSeriesSelector(slo.errors ?? "")!;
    if (total.metric === errors.metric) {
      // One counter with a status-like label: failed requests count in the total too.
      return [
        { series: seriesText(total.metric, { ...job, ...sample.good }), values: values((p) => p.all - p.bad) },
        { series: seriesText(errors.metric, { ...job, ...sample.bad }), values: values((p) => p.bad) },
      ];
    }
    return [
      { series: seriesText(total.metric, { ...job, ...sample.good }), values: values((p) => p.all) },
      { series: seriesText(errors.metric, { ...job, ...sample.bad }), values: values((p) => p.bad) },
    ];
  }
  const histogram = parseSeriesSelector(slo.histogram ?? "")!;
  const le = String(slo.thresholdSeconds);
  return [
    { series: seriesText(`${histogram.metric}_count`, { ...job, ...sample.good }), values: values((p) => p.all) },
    { series: seriesText(`${histogram.metric}_bucket`, { ...job, ...sample.good, le }), values: values((p) => p.all - p.bad) },
  ];
}

/** Checks that the sample labels hit the SLO's selectors the intended way; the problems found. */
export function sampleProblems(slo: SloConfig, sample: SampleRequests): string[] {
  const problems: string[] = [];
  if (slo.type === "availability") {
    if (!selects(slo.total, slo, sample.good)) problems.push(`${slo.name}: the good request is not in total`);
    if (!selects(slo.total, slo, sample.bad)) problems.push(`${slo.name}: the failed request is not in total`);
    if (selects(slo.errors, slo, sample.good)) problems.push(`${slo.name}: the good request counts as an error`);
    if (!selects(slo.errors, slo, sample.bad)) problems.push(`${slo.name}: the failed request is not an error`);
  } else if (!selects(slo.histogram, slo, sample.good)) {
    problems.push(`${slo.name}: the request is not in the histogram`);
  }
  return problems;
}

export interface SloCase {
  title: string;
  test: Record<string, unknown>;
}

/** The expected alert of an SLO at a severity, with the annotations of its rendered rule. */
function expected(groups: RuleFileGroup[], slo: SloConfig, severity: "critical" | "warning") {
  const rule = groups
    .flatMap((g) => g.rules)
    .find((r) => "alert" in r && r.alert === SLO_ALERT && r.labels.slo === slo.name && r.labels.severity === severity);
  if (!rule || !("alert" in rule)) throw new Error(`no ${severity} burn alert for SLO ${slo.name}`);
  return { exp_labels: { severity, slo: slo.name, service: slo.service }, exp_annotations: rule.annotations };
}

/**
 * Per SLO: a fast burn (twice the page threshold) pages and tickets; a slow burn (between the
 * ticket and page thresholds) only tickets; a burn that stopped 35 minutes ago no longer
 * pages (the short windows); errors exactly at the objective stay silent, at every window.
 */
export function sloCases(groups: RuleFileGroup[], slo: SloConfig, sample: SampleRequests): SloCase[] {
  const budget = errorBudget(slo);
  const [page, ticket] = burnAlerts(slo.windowDays);
  const fastRatio = Math.min(1, 2 * page.windows[0].factor * budget);
  const slowRatio = ((ticket.windows[0].factor + page.windows[1].factor) / 2) * budget;
  const at = (eval_time: string, exp: unknown[]) => ({ eval_time, alertname: SLO_ALERT, exp_alerts: exp });
  const test = (input: { series: string; values: string }[], checks: unknown[]) => ({
    interval: "1m",
    input_series: input,
    alert_rule_test: checks,
  });
  const critical = expected(groups, slo, "critical");
  const warning = expected(groups, slo, "warning");
  return [
    {
      title: `${slo.name}: fast burn pages`,
      test: test(sloSeries(slo, sample, { ratio: fastRatio, minutes: 60 }), [at("10m", [critical, warning])]),
    },
    {
      title: `${slo.name}: slow burn tickets only`,
      test: test(sloSeries(slo, sample, { ratio: slowRatio, minutes: 420 }), [at("7h", [warning])]),
    },
    {
      title: `${slo.name}: the page stops once the burn stopped`,
      // After 35 error-free minutes both short windows (5m, 30m) are clean: no page, the ticket stays.
      test: test(sloSeries(slo, sample, { ratio: fastRatio, minutes: 60 }, { ratio: 0, minutes: 40 }), [
        at("50m", [critical, warning]),
        at("95m", [warning]),
      ]),
    },
    {
      title: `${slo.name}: exactly at the objective stays silent`,
      test: test(sloSeries(slo, sample, { ratio: budget, minutes: 3 * 24 * 60 + 60 }), [
        at("10m", []),
        at("2h", []),
        at("7h", []),
        at("73h", []),
      ]),
    },
  ];
}
