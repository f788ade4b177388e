/**
 * Config errors: every message names the key (`ballast:app.port`), the bad value,
 * and what is allowed, so a stack file can be fixed without reading code.
 */

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(
      problems.length === 1
        ? `Invalid Ballast stack config: ${problems[0]}`
        : `Invalid Ballast stack config (${problems.length} problems):\n  - ${problems.join("\n  - ")}`,
    );
    this.name = "ConfigError";
  }
}

/** `["app", "autoscaling", 0]` -> `ballast:app.autoscaling[0]`. */
export function configKey(path: ReadonlyArray<PropertyKey>): string {
  let key = "ballast:";
  path.forEach((part, i) => {
    if (typeof part === "number") key += `[${part}]`;
    else key += i === 0 ? String(part) : `.${String(part)}`;
  });
  return key;
}

/** Short, single-line rendering of a config value for error messages. */
export function showValue(value: unknown): string {
  if (value === undefined) return "nothing";
  const text = typeof value === "string" ? JSON.stringify(value) : JSON.stringify(value) ?? String(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

/** Levenshtein distance, for "did you mean" suggestions on unknown keys. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length];
}

/** The closest known key, if it is close enough to be a plausible typo. */
export function nearestKey(unknown: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const distance = editDistance(unknown, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best !== undefined && bestDistance <= Math.max(2, Math.floor(unknown.length / 3)) ? best : undefined;
}
