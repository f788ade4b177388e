/** Schedules written in compose files (ofelia labels, `schedule` labels, sleep loops) as 5-field UTC cron. */
import { secondsOf, splitWords } from "./values";

/** Cron schedule of an ofelia/`schedule` label value or a sleep loop, as 5-field UTC cron. */
export function cronOf(text: string): string | undefined {
  const value = text.trim();
  const named: Record<string, string> = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
  };
  if (named[value]) return named[value];
  const every = /^@every\s+(.+)$/.exec(value);
  if (every) return cronOfInterval(secondsOf(every[1]));
  const fields = value.split(/\s+/);
  if (fields.length === 6 && fields[0] === "0") return fields.slice(1).join(" ");
  if (fields.length === 5) return value;
  return undefined;
}

/** A fixed interval in seconds as cron, when cron can say it (every N minutes/hours dividing the day, daily). */
export function cronOfInterval(seconds: number | undefined): string | undefined {
  if (!seconds || seconds < 60 || seconds % 60 !== 0) return undefined;
  const minutes = seconds / 60;
  if (minutes < 60 && 60 % minutes === 0) return minutes === 1 ? "* * * * *" : `*/${minutes} * * * *`;
  if (minutes % 60 === 0 && minutes < 1440 && 24 % (minutes / 60) === 0) return minutes === 60 ? "0 * * * *" : `0 */${minutes / 60} * * *`;
  if (minutes === 1440) return "0 0 * * *";
  if (minutes === 10080) return "0 0 * * 0";
  return undefined;
}

/** The job inside `while true; do <job>; sleep N; done`, and N. */
export function sleepLoop(line: string): { job: string; seconds: number } | undefined {
  const match = /while\s+(?:true|:)\s*;?\s*do\s+([\s\S]*?);?\s*sleep\s+(\d+)([smhd]?)\s*;?\s*done/.exec(line);
  if (!match) return undefined;
  const factor: Record<string, number> = { "": 1, s: 1, m: 60, h: 3600, d: 86400 };
  return { job: match[1].trim().replace(/;$/, ""), seconds: Number(match[2]) * factor[match[3]] };
}

export function jobCommand(line: string): string[] {
  return splitWords(line) ?? ["sh", "-c", line];
}
