/**
 * A structural check of PromQL for config time, where no PromQL parser runs: strings are
 * closed, brackets pair up, label matchers read `name op "value"`, ranges are durations
 * (`[5m]`, subqueries `[1h:5m]`) and the expression does not end in an operator. It
 * catches the typos a stack file gets (`rate(x[5m]`, `{status=5..}`); the tests run
 * promtool over the rendered rules and dashboards for the full grammar.
 */

const durationPattern = /^(\d+(ms|s|m|h|d|w|y))+$/;
const matcherPattern = /^\s*[a-zA-Z_][a-zA-Z0-9_]*\s*(=~|!~|!=|=)\s*("([^"\\]|\\.)*"|'([^'\\]|\\.)*'|`[^`]*`)\s*$/;
const binaryOperatorEnd = /(\+|-|\*|\/|%|\^|==|!=|<=|>=|<|>|\band|\bor|\bunless|,)\s*$/;

const closing: Record<string, string> = { "(": ")", "[": "]", "{": "}" };

/** Splits a matcher list on commas outside strings. */
function splitMatchers(body: string): string[] {
  const parts: string[] = [];
  let current = "";
  let quote: string | undefined;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (quote) {
      current += c;
      if (c === "\\" && quote !== "`") current += body[++i] ?? "";
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === "`") {
      quote = c;
      current += c;
    } else if (c === ",") {
      parts.push(current);
      current = "";
    } else current += c;
  }
  parts.push(current);
  // A trailing comma is allowed: `{a="b",}`.
  return parts.length > 1 && parts[parts.length - 1].trim() === "" ? parts.slice(0, -1) : parts;
}

function checkMatchers(body: string, at: number): string | undefined {
  if (body.trim() === "") return undefined;
  for (const matcher of splitMatchers(body)) {
    if (!matcherPattern.test(matcher)) {
      return `label matcher ${JSON.stringify(matcher.trim())} in {} at position ${at} must read name="value", name!="value", name=~"regex" or name!~"regex"`;
    }
  }
  return undefined;
}

function checkRange(body: string, at: number): string | undefined {
  const [range, step, ...rest] = body.split(":");
  const ok =
    durationPattern.test(range.trim()) &&
    (step === undefined || step.trim() === "" || durationPattern.test(step.trim())) &&
    rest.length === 0;
  return ok ? undefined : `range [${body}] at position ${at} must be a duration such as [5m], or a subquery range such as [1h:5m]`;
}

/** Undefined when the expression is structurally sound, else what is wrong, with the position. */
export function promqlSyntaxProblem(expr: string): string | undefined {
  if (expr.trim() === "") return "the expression is empty";
  const open: { char: string; at: number }[] = [];
  for (let i = 0; i < expr.length; i++) {
    const c = expr[i];
    if (c === '"' || c === "'" || c === "`") {
      const start = i;
      i++;
      while (i < expr.length && expr[i] !== c) i += expr[i] === "\\" && c !== "`" ? 2 : 1;
      if (i >= expr.length) return `the string opened with ${c} at position ${start} is never closed`;
      continue;
    }
    if (c === "#") {
      // A comment runs to the end of the line.
      while (i < expr.length && expr[i] !== "\n") i++;
      continue;
    }
    if (c in closing) {
      if (c === "{" || c === "[") {
        const end = findClose(expr, i, closing[c]);
        if (end === -1) return `"${c}" at position ${i} is never closed`;
        const body = expr.slice(i + 1, end);
        const problem = c === "{" ? checkMatchers(body, i) : checkRange(body, i);
        if (problem) return problem;
        i = end;
        continue;
      }
      open.push({ char: c, at: i });
      continue;
    }
    if (c === ")" || c === "]" || c === "}") {
      const last = open.pop();
      if (!last) return `"${c}" at position ${i} closes nothing`;
      if (closing[last.char] !== c) return `"${c}" at position ${i} does not close "${last.char}" at position ${last.at}`;
    }
  }
  const unclosed = open.pop();
  if (unclosed) return `"${unclosed.char}" at position ${unclosed.at} is never closed`;
  if (binaryOperatorEnd.test(expr)) return "the expression ends with an operator or a comma";
  return undefined;
}

/** Index of `close` that ends the bracket at `start` (strings skipped), or -1. */
function findClose(expr: string, start: number, close: string): number {
  for (let i = start + 1; i < expr.length; i++) {
    const c = expr[i];
    if (c === '"' || c === "'" || c === "`") {
      i++;
      while (i < expr.length && expr[i] !== c) i += expr[i] === "\\" && c !== "`" ? 2 : 1;
      continue;
    }
    if (c === close) return i;
    if (c === "{" || c === "[" || c === "(") return -1;
  }
  return -1;
}

/**
 * Grafana's template variables replaced by what PromQL accepts, so a dashboard query can be
 * checked: `$__rate_interval`, `$__interval`, `$__range` become `5m`, `$__range_s` `300`,
 * and a stack variable (`$job`, `${job}`, `[[job]]`) an identifier (inside quotes it stays text).
 */
export function withGrafanaVariables(expr: string): string {
  return expr
    .replace(/\$\{?__range_s\}?/g, "300")
    .replace(/\$\{?__(rate_interval|interval|range)(_ms)?\}?/g, (_, __, ms: string | undefined) => (ms ? "300000" : "5m"))
    .replace(
      /\$\{(\w+)(:\w+)?\}|\$(\w+)|\[\[(\w+)\]\]/g,
      (_, a?: string, _format?: string, b?: string, c?: string) => `var_${a ?? b ?? c}`,
    );
}
