/**
 * Metric names referenced by a PromQL expression, for checking expressions against the
 * metrics catalogue. A small tokenizer: strings, label matchers, ranges and the label
 * lists of `by`/`without`/`on`/`ignoring`/`group_*` are skipped; an identifier followed
 * by `(` is a function or aggregation; keywords are not metrics.
 */

const keywords = new Set([
  "by",
  "without",
  "on",
  "ignoring",
  "group_left",
  "group_right",
  "bool",
  "and",
  "or",
  "unless",
  "offset",
  "atan2",
  "inf",
  "nan",
  // Aggregation operators can be written `sum by (x) (...)`, so they may not be followed by `(`.
  "sum",
  "min",
  "max",
  "avg",
  "count",
  "stddev",
  "stdvar",
  "group",
  "topk",
  "bottomk",
  "quantile",
  "count_values",
]);

const labelListKeywords = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);

export function promqlMetricNames(expr: string): string[] {
  const names: string[] = [];
  let i = 0;
  let previousWord = "";
  while (i < expr.length) {
    const c = expr[i];
    if (c === '"' || c === "'" || c === "`") {
      const quote = c;
      i++;
      while (i < expr.length && expr[i] !== quote) i += expr[i] === "\\" ? 2 : 1;
      i++;
      previousWord = "";
      continue;
    }
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      while (i < expr.length && expr[i] !== close) {
        if (expr[i] === '"' || expr[i] === "'" || expr[i] === "`") {
          const quote = expr[i];
          i++;
          while (i < expr.length && expr[i] !== quote) i += expr[i] === "\\" ? 2 : 1;
        }
        i++;
      }
      i++;
      previousWord = "";
      continue;
    }
    if (c === "(" && labelListKeywords.has(previousWord)) {
      while (i < expr.length && expr[i] !== ")") i++;
      i++;
      previousWord = "";
      continue;
    }
    if (/[0-9.]/.test(c)) {
      // Numbers and durations (5m, 1e3, 0.95).
      while (i < expr.length && /[0-9a-zA-Z_.]/.test(expr[i])) i++;
      previousWord = "";
      continue;
    }
    if (/[a-zA-Z_:]/.test(c)) {
      let j = i;
      while (j < expr.length && /[a-zA-Z0-9_:]/.test(expr[j])) j++;
      const word = expr.slice(i, j);
      let k = j;
      while (k < expr.length && /\s/.test(expr[k])) k++;
      const isCall = expr[k] === "(";
      if (!isCall && !keywords.has(word.toLowerCase())) names.push(word);
      previousWord = word.toLowerCase();
      i = j;
      continue;
    }
    if (!/\s/.test(c)) previousWord = "";
    i++;
  }
  return [...new Set(names)];
}
