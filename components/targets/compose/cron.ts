/**
 * Scheduled jobs on Compose run from the host's cron, as the deploy user: deploy.sh installs the
 * release's crontab as a marked block of that user's crontab (destroy.sh removes it). Each job is
 * a service in the `jobs` profile (so `up` never starts it) that a crontab line runs with
 * `docker compose run --rm` against the live release. No scheduler container, so no container
 * holds the Docker socket for scheduling, and the job runs as the user that owns the release
 * files (a root scheduler without DAC_OVERRIDE could not read them).
 */
import type { WorkloadSpec } from "../../spec";

export const JOBS_PROFILE = "jobs";

interface FieldRule {
  label: string;
  min: number;
  max: number;
  names?: readonly string[];
}

const MONTH_NAMES = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"] as const;
const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as const;

// Day-of-week stops at 6: `7` for Sunday is not portable across busybox crond and Kubernetes.
const FIELD_RULES: readonly FieldRule[] = [
  { label: "minute", min: 0, max: 59 },
  { label: "hour", min: 0, max: 23 },
  { label: "day of month", min: 1, max: 31 },
  { label: "month", min: 1, max: 12, names: MONTH_NAMES },
  { label: "day of week", min: 0, max: 6, names: DAY_NAMES },
];

function fieldValue(token: string, rule: FieldRule): number | undefined {
  if (/^\d+$/.test(token)) return Number(token);
  const index = rule.names?.indexOf(token.toLowerCase() as never) ?? -1;
  if (index < 0) return undefined;
  // Month names count from 1, day names from 0 (sun).
  return rule.names === MONTH_NAMES ? index + 1 : index;
}

function fieldProblem(field: string, rule: FieldRule): string | undefined {
  for (const item of field.split(",")) {
    const match = /^(\*|([0-9a-zA-Z]+)(?:-([0-9a-zA-Z]+))?)(?:\/(\d+))?$/.exec(item);
    if (!match) return `"${item}" is not a value, range, list or step`;
    const [, whole, startToken, endToken, step] = match;
    if (step !== undefined && Number(step) < 1) return `step "${step}" must be at least 1`;
    if (whole === "*") continue;
    if (step !== undefined && endToken === undefined) return `"${item}": a step needs a range or "*"`;
    const start = fieldValue(startToken, rule);
    const end = endToken === undefined ? start : fieldValue(endToken, rule);
    for (const [token, value] of [
      [startToken, start],
      [endToken ?? startToken, end],
    ] as const) {
      if (value === undefined) return `"${token}" is not a number${rule.names ? " or name" : ""}`;
      if (value < rule.min || value > rule.max) return `${value} is outside ${rule.min}-${rule.max}`;
    }
    if (start !== undefined && end !== undefined && start > end) return `range "${item}" runs backwards`;
  }
  return undefined;
}

/**
 * Validates a five-field cron schedule (UTC) and returns it with single spaces.
 * Refuses macros (`@daily`), six-field (seconds) forms and out-of-range values,
 * naming the job, the field and what is allowed.
 */
export function validateSchedule(schedule: string, jobName: string): string {
  const fields = schedule.trim().split(/\s+/);
  const allowed = 'five fields: minute hour day-of-month month day-of-week, e.g. "0 3 * * *"';
  if (schedule.trim().startsWith("@")) {
    throw new Error(`job ${jobName}: schedule "${schedule}" is a macro; write it as ${allowed}`);
  }
  if (fields.length !== 5) {
    throw new Error(`job ${jobName}: schedule "${schedule}" has ${fields.length} field(s); expected ${allowed}`);
  }
  fields.forEach((field, index) => {
    const rule = FIELD_RULES[index];
    const problem = fieldProblem(field, rule);
    if (problem) {
      throw new Error(
        `job ${jobName}: schedule "${schedule}": ${rule.label} field "${field}" is invalid (${problem}); ` +
          `allowed ${rule.min}-${rule.max}${rule.names ? ` or ${rule.names[0]}-${rule.names[rule.names.length - 1]}` : ""}, ` +
          `"*", ranges a-b, lists a,b and steps */n`,
      );
    }
  });
  return fields.join(" ");
}

export interface CronSettings {
  project: string;
  /** Absolute directory on the host holding `releases/` and the `current` link. */
  releaseBase: string;
  /** `docker compose` or `docker-compose`. */
  composeCommand: string;
  /** The maintenance prune's schedule, when it is on. */
  maintenanceSchedule?: string;
  /** Workers scale on their queues: autoscale.sh runs every minute. */
  autoscale?: boolean;
}

/** The command a crontab line runs for a job: bounded by its timeout, never overlapping itself. */
export function jobRunCommand(job: WorkloadSpec, settings: CronSettings): string {
  if (job.jobTimeoutSeconds === undefined || job.jobTimeoutSeconds <= 0) {
    throw new Error(`job ${job.name}: jobTimeoutSeconds must be a positive number of seconds`);
  }
  const current = `${settings.releaseBase}/current`;
  return [
    `flock -n ${settings.releaseBase}/.ballast/${job.name}.lock`,
    `timeout ${job.jobTimeoutSeconds}`,
    `${settings.composeCommand} -p ${settings.project} --project-directory ${current} -f ${current}/docker-compose.yml`,
    `--profile ${JOBS_PROFILE} run --rm --no-deps -T ${job.name}`,
  ].join(" ");
}

/**
 * The crontab block (five fields, then a shell command, UTC as the host's clock should be).
 * Each run's output is appended to <base>/.ballast/jobs.log; the container's own log is
 * Docker's like every other container's.
 */
export function renderCrontab(jobs: WorkloadSpec[], settings: CronSettings): string {
  if (!/^\/[A-Za-z0-9._/-]+$/.test(settings.releaseBase))
    throw new Error(`release directory "${settings.releaseBase}" must be a plain absolute path`);
  const log = `${settings.releaseBase}/.ballast`;
  // Times are the host's clock: VPS images run UTC (the bootstrap leaves the timezone alone).
  const lines = [`# Compose project ${settings.project}. Each run: at most one at a time, killed after its timeout.`];
  for (const job of [...jobs].sort((a, b) => a.name.localeCompare(b.name))) {
    if (job.schedule === undefined) throw new Error(`job ${job.name}: role "job" needs a schedule`);
    const schedule = validateSchedule(job.schedule, job.name);
    lines.push(`# ${job.name}: ${job.description.replace(/\s+/g, " ")}`);
    lines.push(`${schedule} ${jobRunCommand(job, settings)} >>${log}/jobs.log 2>&1`);
  }
  if (settings.maintenanceSchedule !== undefined) {
    const schedule = validateSchedule(settings.maintenanceSchedule, "maintenance");
    lines.push("# maintenance: prunes images no kept release names, and old build cache");
    lines.push(
      `${schedule} flock -n ${log}/maintenance.lock bash --noprofile --norc ${settings.releaseBase}/current/maintenance.sh >>${log}/maintenance.log 2>&1`,
    );
  }
  if (settings.autoscale) {
    lines.push("# autoscale: queue-scaled workers follow their queue's length (skipped while a deploy runs)");
    lines.push(
      `* * * * * flock -n ${log}/autoscale.lock bash --noprofile --norc ${settings.releaseBase}/current/autoscale.sh >>${log}/autoscale.log 2>&1`,
    );
  }
  return `${lines.join("\n")}\n`;
}
