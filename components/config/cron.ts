/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week, UTC) as
 * both targets understand them: Kubernetes CronJob and the Compose host's crontab.
 *
 * Only the numeric syntax is accepted (`*`, `a`, `a-b`, `*\/n`, `a-b/n`, lists with `,`);
 * names (`mon`, `jan`) and macros (`@daily`) are refused so one expression means the
 * same thing on both targets. `maxGapHours` answers "how long can data go without a
 * backup", which the config checks against the RPO.
 */

export interface CronFields {
  minutes: ReadonlySet<number>;
  hours: ReadonlySet<number>;
  daysOfMonth: ReadonlySet<number>;
  months: ReadonlySet<number>;
  /** 0 = Sunday (7 is folded into 0). */
  daysOfWeek: ReadonlySet<number>;
  /** Vixie-cron rule: when both day fields are restricted, a day matches if either does. */
  domRestricted: boolean;
  dowRestricted: boolean;
}

const FIELDS = [
  { name: "minute", min: 0, max: 59 },
  { name: "hour", min: 0, max: 23 },
  { name: "day of month", min: 1, max: 31 },
  { name: "month", min: 1, max: 12 },
  { name: "day of week", min: 0, max: 7 },
] as const;

function parseField(text: string, field: (typeof FIELDS)[number]): Set<number> | string {
  const values = new Set<number>();
  for (const part of text.split(",")) {
    const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (!match) return `${field.name} "${part}" is not a number, range, list or step`;
    let low: number = field.min;
    let high: number = field.max;
    if (match[1] !== "*") {
      low = Number(match[2]);
      high = match[3] !== undefined ? Number(match[3]) : match[4] !== undefined ? field.max : low;
    }
    const step = match[4] !== undefined ? Number(match[4]) : 1;
    if (low < field.min || high > field.max || low > high) {
      return `${field.name} "${part}" is outside ${field.min}-${field.max}`;
    }
    if (step < 1) return `${field.name} "${part}" has a step below 1`;
    for (let v = low; v <= high; v += step) values.add(field.name === "day of week" && v === 7 ? 0 : v);
  }
  return values;
}

/** Parses an expression; returns a message naming the bad field instead of throwing. */
export function parseCron(expression: string): CronFields | string {
  const parts = expression.trim().split(/\s+/);
  if (parts.length !== 5) {
    return `expected five fields (minute hour day-of-month month day-of-week), got ${parts.length}`;
  }
  const sets: Set<number>[] = [];
  for (let i = 0; i < 5; i++) {
    const parsed = parseField(parts[i], FIELDS[i]);
    if (typeof parsed === "string") return parsed;
    sets.push(parsed);
  }
  return {
    minutes: sets[0],
    hours: sets[1],
    daysOfMonth: sets[2],
    months: sets[3],
    daysOfWeek: sets[4],
    domRestricted: !parts[2].startsWith("*"),
    dowRestricted: !parts[4].startsWith("*"),
  };
}

function dayMatches(cron: CronFields, date: Date): boolean {
  if (!cron.months.has(date.getUTCMonth() + 1)) return false;
  const dom = cron.daysOfMonth.has(date.getUTCDate());
  const dow = cron.daysOfWeek.has(date.getUTCDay());
  if (cron.domRestricted && cron.dowRestricted) return dom || dow;
  if (cron.domRestricted) return dom;
  if (cron.dowRestricted) return dow;
  return true;
}

/**
 * The longest interval, in hours, between two consecutive runs of the schedule over
 * a leap year and a bit (so monthly and yearly schedules are measured correctly).
 * `Infinity` when the schedule never fires (e.g. 31 February).
 */
export function maxGapHours(cron: CronFields): number {
  const start = Date.UTC(2024, 0, 1);
  const days = 400;
  const minutesOfDay: number[] = [];
  for (const h of [...cron.hours].sort((a, b) => a - b)) {
    for (const m of [...cron.minutes].sort((a, b) => a - b)) minutesOfDay.push(h * 60 + m);
  }
  let first: number | undefined;
  let previous: number | undefined;
  let gap = 0;
  for (let d = 0; d < days; d++) {
    const dayStart = start + d * 86_400_000;
    if (!dayMatches(cron, new Date(dayStart))) continue;
    for (const minute of minutesOfDay) {
      const at = dayStart + minute * 60_000;
      if (first === undefined) first = at;
      if (previous !== undefined) gap = Math.max(gap, at - previous);
      previous = at;
    }
  }
  if (first === undefined || previous === undefined) return Infinity;
  if (first === previous) return Infinity;
  return gap / 3_600_000;
}
