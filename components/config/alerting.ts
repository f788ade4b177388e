/**
 * Schemas of alert routing (`ballast:monitoring.alertmanager.receivers` / `.routes`) and of
 * service level objectives (`ballast:monitoring.slos`), with the two small parsers they
 * need: Alertmanager label matchers (`severity="critical"`) and PromQL series selectors
 * (`http_requests_total{status=~"5.."}`). Parsed here once, so a bad matcher or selector is
 * refused by the config instead of by Alertmanager or Prometheus after a deploy.
 */
import { z } from "zod";
import { dnsLabel } from "./primitives";

export type MatchOperator = "=" | "!=" | "=~" | "!~";

export interface LabelMatcher {
  label: string;
  op: MatchOperator;
  value: string;
}

/** Name of the default receiver (`ballast:monitoring.alertmanager.receiver`) in routes and in alertmanager.yml. */
export const DEFAULT_RECEIVER = "ops";

const labelPattern = "[a-zA-Z_][a-zA-Z0-9_]*";
const operatorPattern = "=~|!~|!=|=";

/** Whether a regex value compiles (JavaScript's dialect is close enough to RE2 for a config check). */
function compiles(pattern: string): boolean {
  try {
    new RegExp(`^(?:${pattern})$`);
    return true;
  } catch {
    return false;
  }
}

/** `\"` and `\\` inside a double-quoted value. */
const unescape = (quoted: string) => quoted.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c));

/**
 * One Alertmanager matcher as 0.25 parses it: `label op value`, the value double-quoted or
 * bare (`severity=critical`). Undefined when the text is not one.
 */
export function parseAlertMatcher(text: string): LabelMatcher | undefined {
  const match = new RegExp(`^\\s*(${labelPattern})\\s*(${operatorPattern})\\s*(?:"((?:[^"\\\\]|\\\\.)*)"|([^"\\s,{}=!~]*))\\s*$`).exec(
    text,
  );
  if (!match) return undefined;
  const op = match[2] as MatchOperator;
  const value = match[3] !== undefined ? unescape(match[3]) : match[4];
  if ((op === "=~" || op === "!~") && !compiles(value)) return undefined;
  return { label: match[1], op, value };
}

/** The canonical text of a matcher: `label op "value"` (what alertmanager.yml and the tests carry). */
export function formatMatcher(m: LabelMatcher): string {
  return `${m.label}${m.op}${JSON.stringify(m.value)}`;
}

export const alertMatcher = z.string().refine((text) => parseAlertMatcher(text) !== undefined, {
  message:
    'must be an Alertmanager matcher: label, one of = != =~ !~, value (e.g. "severity=critical", \'service=~"api|worker"\'); a regex must compile',
});

export interface SeriesSelector {
  metric: string;
  matchers: LabelMatcher[];
}

/** A PromQL series selector with double-quoted values: `name` or `name{label op "value", ...}`. */
export function parseSeriesSelector(text: string): SeriesSelector | undefined {
  const head = new RegExp(`^\\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*(?:\\{(.*)\\})?\\s*$`).exec(text);
  if (!head) return undefined;
  const matchers: LabelMatcher[] = [];
  const body = head[2] ?? "";
  const item = new RegExp(`\\s*(${labelPattern})\\s*(${operatorPattern})\\s*"((?:[^"\\\\]|\\\\.)*)"\\s*(,|$)`, "y");
  let offset = 0;
  while (offset < body.length && body.slice(offset).trim() !== "") {
    item.lastIndex = offset;
    const m = item.exec(body);
    if (!m) return undefined;
    const op = m[2] as MatchOperator;
    const value = unescape(m[3]);
    if ((op === "=~" || op === "!~") && !compiles(value)) return undefined;
    matchers.push({ label: m[1], op, value });
    offset = item.lastIndex;
    if (m[4] === "") break;
  }
  return { metric: head[1], matchers };
}

/** A selector with extra matchers in front (the SLO's `job`, a histogram's `le`). */
export function formatSelector(selector: SeriesSelector, extra: LabelMatcher[] = [], suffix = ""): string {
  const all = [...extra, ...selector.matchers];
  return `${selector.metric}${suffix}{${all.map(formatMatcher).join(", ")}}`;
}

const seriesSelector = z.string().refine((text) => parseSeriesSelector(text) !== undefined, {
  message:
    "must be a PromQL series selector: a metric name with optional label matchers in double quotes, e.g. 'http_requests_total{status=~\"5..\"}'",
});

/** Receiver names become Alertmanager receiver names and part of their secret's name. */
export const receiverKey = z.string().regex(/^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, {
  message: 'must be lowercase letters, digits and single dashes, e.g. "pagerduty" or "slack-incidents"',
});

export const routeSchema = z.strictObject({
  /** Every matcher must hold (Alertmanager `matchers`). */
  matchers: z.array(alertMatcher).min(1, { message: 'must list at least one matcher, e.g. ["severity=critical"]' }),
  /** A key of `receivers`, or `ops` for the default `receiver`. */
  receiver: z.string(),
  /** Keep matching the next routes too (Alertmanager `continue`): notify several receivers. */
  continue: z.boolean(),
});

/**
 * Burn-rate alerting needs a budget large enough for the fast-burn pair to ever fire: 2 % of
 * the budget in one hour is `0.02 * windowHours` times the budget rate, which must stay below
 * an error ratio of 1.
 */
export function fastBurnFactor(windowDays: number): number {
  return +(0.02 * windowDays * 24).toPrecision(12);
}

const sloObject = z.strictObject({
  /** Names the SLO in alerts (`slo` label), recording rules and the dashboard. */
  name: dnsLabel,
  /** The workload (app, worker or extra service) whose series the SLO reads: its `job` label. */
  service: z.string(),
  type: z.enum(["availability", "latency"]),
  /** Share of good events over the window, e.g. 0.999. */
  objective: z
    .number()
    .gt(0, { message: "must be a ratio strictly between 0 and 1, e.g. 0.999 for 99.9 %" })
    .lt(1, { message: "must be a ratio strictly between 0 and 1, e.g. 0.999 for 99.9 %" }),
  /** The compliance window the error budget spans. */
  windowDays: z
    .number()
    .int()
    .min(7, { message: "must be a whole number of days from 7 to 90" })
    .max(90, { message: "must be a whole number of days from 7 to 90" }),
  /** One line for the runbook and dashboard: what the SLO promises. */
  description: z.string().min(1).optional(),
  /** availability: all requests (a counter selector). */
  total: seriesSelector.optional(),
  /** availability: failed requests (a counter selector, a subset of `total`). */
  errors: seriesSelector.optional(),
  /** latency: a histogram (its `_bucket` and `_count` series are read), optionally with label matchers. */
  histogram: seriesSelector.optional(),
  /** latency: a request is good when faster than this; must be one of the histogram's bucket bounds. */
  thresholdSeconds: z.number().positive().optional(),
});

export type SloInput = z.output<typeof sloObject>;

/** Per-type fields: missing ones are named with an example, the other type's are refused. */
function sloFieldProblems(slo: SloInput): { path: string; message: string }[] {
  const problems: { path: string; message: string }[] = [];
  const need = (field: keyof SloInput, example: string) => {
    if (slo[field] === undefined)
      problems.push({ path: field, message: `required for ${slo.type === "availability" ? "an" : "a"} ${slo.type} SLO: ${example}` });
  };
  const refuse = (field: keyof SloInput) => {
    if (slo[field] !== undefined)
      problems.push({
        path: field,
        message: `only for ${slo.type === "availability" ? "latency" : "availability"} SLOs (this one is type ${slo.type})`,
      });
  };
  if (slo.type === "availability") {
    need("total", 'the counter of all requests, e.g. "http_requests_total"');
    need("errors", "the counter of failed requests, e.g. 'http_requests_total{status=~\"5..\"}'");
    refuse("histogram");
    refuse("thresholdSeconds");
  } else {
    need("histogram", 'a histogram metric, e.g. "http_request_duration_seconds" (its _bucket and _count series are read)');
    need("thresholdSeconds", "the latency a good request stays under, one of the histogram's bucket bounds, e.g. 2.5");
    refuse("total");
    refuse("errors");
    if (slo.histogram !== undefined) {
      const selector = parseSeriesSelector(slo.histogram);
      if (selector && /_(bucket|count|sum)$/.test(selector.metric)) {
        problems.push({
          path: "histogram",
          message: `must name the histogram, not one of its series: "${selector.metric.replace(/_(bucket|count|sum)$/, "")}"`,
        });
      }
      if (selector?.matchers.some((m) => m.label === "le"))
        problems.push({ path: "histogram", message: 'must not match "le": thresholdSeconds picks the bucket' });
    }
  }
  for (const field of ["total", "errors", "histogram"] as const) {
    const selector = slo[field] === undefined ? undefined : parseSeriesSelector(slo[field]);
    if (selector?.matchers.some((m) => m.label === "job")) {
      problems.push({ path: field, message: `must not match "job": the SLO's service sets it (job="${slo.service}")` });
    }
  }
  const factor = fastBurnFactor(slo.windowDays);
  const budget = 1 - slo.objective;
  // An objective outside (0, 1) is refused by its own schema already.
  if (slo.objective > 0 && slo.objective < 1 && factor * budget >= 1) {
    const lowest = +(1 - 1 / factor).toFixed(4);
    problems.push({
      path: "objective",
      message:
        `${slo.objective} cannot page with windowDays ${slo.windowDays}: the fast-burn alert (${factor}x the error budget of ${+(budget * 100).toFixed(4)} %) ` +
        `would need more than 100 % of requests to fail; use an objective above ${lowest} or a shorter windowDays`,
    });
  }
  return problems;
}

export const sloSchema = sloObject.superRefine((slo, ctx) => {
  for (const problem of sloFieldProblems(slo)) ctx.addIssue({ code: "custom", path: [problem.path], message: problem.message });
});

export const slosSchema = z.array(sloSchema).superRefine((slos, ctx) => {
  const seen = new Map<string, number>();
  slos.forEach((slo, i) => {
    const first = seen.get(slo.name);
    if (first !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: [i, "name"],
        message: `"${slo.name}" is already the name of ballast:monitoring.slos[${first}]; SLO names must be unique`,
      });
    } else {
      seen.set(slo.name, i);
    }
  });
});
