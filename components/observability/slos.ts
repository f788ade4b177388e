/**
 * Service level objectives (`ballast:monitoring.slos`) as Prometheus rules: per SLO, the
 * error ratio recorded over the windows the alerts need, the error budget left, and the
 * Google SRE workbook's multi-window, multi-burn-rate alerts (chapter "Alerting on SLOs"):
 *
 *   page   (critical): 2 % of the budget gone in 1 h (14.4x for 30 days), confirmed over 5 m,
 *                      or 5 % in 6 h (6x), confirmed over 30 m;
 *   ticket (warning):  10 % in 3 d (1x), confirmed over 6 h.
 *
 * The factors follow the SLO's window (`budget share x window / alert window`), so a 28-day
 * SLO pages at 13.44x. The short window makes an alert stop soon after the burn stops.
 * Series are the SLO's service's own: every selector gets `job="<service>"`, the workload
 * name Prometheus gives each target on both targets.
 */
import { fastBurnFactor, formatSelector, parseSeriesSelector, type LabelMatcher, type MonitoringConfig, type SloConfig } from "../config";
import type { RuleFileGroup } from "./rules";

/** Alert name of every burn-rate alert; the `slo` and `service` labels tell them apart. */
export const SLO_ALERT = "SLOErrorBudgetBurn";

/** Recording rule of an SLO's error ratio over a window: `slo:sli_error:ratio_rate1h`. */
export const errorRatioRecord = (window: string) => `slo:sli_error:ratio_rate${window}`;
export const budgetRemainingRecord = "slo:error_budget_remaining:ratio";
export const objectiveRecord = "slo:objective:ratio";

export interface BurnWindow {
  /** The window the burn is measured over (`1h`). */
  long: string;
  /** The window that confirms it is still burning (`5m`). */
  short: string;
  /** Share of the whole budget this burn consumes within `long`. */
  budgetShare: number;
  /** Burn rate: error ratio as a multiple of the budget (14.4 for 2 % in 1 h of 30 days). */
  factor: number;
}

export interface BurnAlert {
  severity: "critical" | "warning";
  /** What the alert is for in words: `page` or `ticket`. */
  kind: "page" | "ticket";
  windows: BurnWindow[];
}

const hours: Record<string, number> = { "5m": 1 / 12, "30m": 0.5, "1h": 1, "6h": 6, "3d": 72 };

/** The workbook's window pairs with factors for an SLO window of `windowDays`. */
export function burnAlerts(windowDays: number): BurnAlert[] {
  const window = (long: string, short: string, budgetShare: number): BurnWindow => ({
    long,
    short,
    budgetShare,
    // Four significant digits: 14.4, 6 and 1 stay exact, a 28-day ticket is 0.9333x rather than 0.933333333333x.
    factor: long === "1h" ? fastBurnFactor(windowDays) : +((budgetShare * windowDays * 24) / hours[long]).toPrecision(4),
  });
  return [
    { severity: "critical", kind: "page", windows: [window("1h", "5m", 0.02), window("6h", "30m", 0.05)] },
    { severity: "warning", kind: "ticket", windows: [window("3d", "6h", 0.1)] },
  ];
}

/** Every window an SLO's error ratio is recorded over: the alerts' and the whole SLO window. */
export function recordedWindows(slo: SloConfig): string[] {
  return ["5m", "30m", "1h", "6h", "3d", `${slo.windowDays}d`];
}

/** The error budget as a ratio (0.001 for 99.9 %), without float noise (1 - 0.999 is 0.0010000000000000009). */
export function errorBudget(slo: SloConfig): number {
  return +(1 - slo.objective).toPrecision(12);
}

const roundRatio = (n: number) => +n.toPrecision(12);

function selector(text: string | undefined, slo: SloConfig, suffix = "", extra: LabelMatcher[] = []): string {
  const parsed = text === undefined ? undefined : parseSeriesSelector(text);
  // The config schema parsed and required it; reaching this is a programming error.
  if (!parsed) throw new Error(`SLO ${slo.name}: selector ${JSON.stringify(text)} does not parse`);
  return formatSelector(parsed, [{ label: "job", op: "=", value: slo.service }, ...extra], suffix);
}

/**
 * The `le` matcher of a latency threshold. Go clients write `le="1"`, Python clients
 * `le="1.0"`: an integer bound matches both.
 */
function bucketMatcher(thresholdSeconds: number): LabelMatcher {
  return Number.isInteger(thresholdSeconds)
    ? { label: "le", op: "=~", value: `${thresholdSeconds}|${thresholdSeconds}\\.0` }
    : { label: "le", op: "=", value: String(thresholdSeconds) };
}

/**
 * PromQL of the SLO's error ratio over `window`: bad events / all events, rounded to 1e-12.
 * Rates carry float noise (95 fast of 100 gives 0.05000000000000001 bad); unrounded, a
 * service exactly at its objective would open a ticket.
 */
export function errorRatioExpr(slo: SloConfig, window: string): string {
  if (slo.type === "availability") {
    return `round(sum(rate(${selector(slo.errors, slo)}[${window}])) / sum(rate(${selector(slo.total, slo)}[${window}])), 1e-12)`;
  }
  // (all - fast enough) / all: closer to exact than 1 - fast/all (1 - 0.95 is 0.050000000000000044).
  const all = `sum(rate(${selector(slo.histogram, slo, "_count")}[${window}]))`;
  const fast = `sum(rate(${selector(slo.histogram, slo, "_bucket", [bucketMatcher(slo.thresholdSeconds ?? 0)])}[${window}]))`;
  return `round((${all} - ${fast}) / ${all}, 1e-12)`;
}

/** What the SLO counts as good, in words (runbook, dashboard, alert descriptions). */
export function sloPromise(slo: SloConfig): string {
  const percent = `${roundRatio(slo.objective * 100)} %`;
  return slo.type === "availability"
    ? `${percent} of ${slo.service}'s requests succeed over ${slo.windowDays} days`
    : `${percent} of ${slo.service}'s requests complete within ${slo.thresholdSeconds}s over ${slo.windowDays} days`;
}

const labelsOf = (slo: SloConfig) => ({ slo: slo.name, service: slo.service });

const ruleSelector = (record: string, slo: SloConfig) => `${record}{slo="${slo.name}", service="${slo.service}"}`;

function burnExpr(slo: SloConfig, alert: BurnAlert): string {
  const budget = errorBudget(slo);
  const pair = (w: BurnWindow) => {
    const threshold = roundRatio(w.factor * budget);
    return `${ruleSelector(errorRatioRecord(w.long), slo)} > ${threshold} and ${ruleSelector(errorRatioRecord(w.short), slo)} > ${threshold}`;
  };
  return alert.windows.length === 1 ? pair(alert.windows[0]) : alert.windows.map((w) => `(${pair(w)})`).join(" or ");
}

/** When the whole budget is gone at a window's burn rate, in words. */
function exhaustion(slo: SloConfig, w: BurnWindow): string {
  const days = slo.windowDays / w.factor;
  return days < 3 ? `${roundRatio(+(days * 24).toFixed(0))} hours` : `${roundRatio(+days.toFixed(1))} days`;
}

function burnDescription(slo: SloConfig, alert: BurnAlert): string {
  const burns = alert.windows
    .map(
      (w) =>
        `${w.factor}x over ${w.long} (confirmed over ${w.short}; ${roundRatio(w.budgetShare * 100)} % of the budget, empty in ${exhaustion(slo, w)})`,
    )
    .join(" or ");
  const action =
    alert.kind === "page"
      ? `Check ${slo.service}'s logs and recent deploys now, roll back if a deploy just happened, and look at the SLO dashboard for which window burns.`
      : "Find the failing requests in the Logs dashboard and plan a fix before the budget runs out; check the SLO dashboard for the trend.";
  return `SLO ${slo.name} (${sloPromise(slo)}, error budget ${roundRatio(errorBudget(slo) * 100)} %) burns its budget at ${burns}. ${action}`;
}

/** The Prometheus rule groups of the SLOs: one of recording rules, one of alerts. Empty without SLOs. */
export function sloRuleGroups(monitoring: MonitoringConfig): RuleFileGroup[] {
  const slos = monitoring.slos;
  if (slos.length === 0) return [];
  const records = slos.flatMap((slo) => [
    ...recordedWindows(slo).map((window) => ({
      record: errorRatioRecord(window),
      expr: errorRatioExpr(slo, window),
      labels: labelsOf(slo),
    })),
    { record: objectiveRecord, expr: `vector(${slo.objective})`, labels: labelsOf(slo) },
    {
      record: budgetRemainingRecord,
      expr: `1 - ${ruleSelector(errorRatioRecord(`${slo.windowDays}d`), slo)} / ${errorBudget(slo)}`,
      labels: labelsOf(slo),
    },
  ]);
  const alerts = slos.flatMap((slo) =>
    burnAlerts(slo.windowDays).map((alert) => ({
      alert: SLO_ALERT,
      expr: burnExpr(slo, alert),
      labels: { severity: alert.severity, ...labelsOf(slo) },
      annotations: {
        summary: `SLO ${slo.name}: error budget burning ${alert.kind === "page" ? "fast (page)" : "steadily (ticket)"}`,
        description: burnDescription(slo, alert),
      },
    })),
  );
  return [
    { name: "ballast-slo-records", rules: records },
    { name: "ballast-slo-alerts", rules: alerts },
  ];
}
