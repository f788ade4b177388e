/**
 * Cron jobs on Compose: each job is a service in the `jobs` profile (so `up` never
 * starts it) and one `scheduler` service runs busybox `crond` with a rendered crontab
 * whose lines `docker compose run` the job through the host's Docker socket.
 *
 * The scheduler image is the official `docker:<version>-cli` (Alpine: busybox crond,
 * flock and timeout, plus the compose plugin that docker-library installs in its
 * `cli` variants under /usr/local/libexec/docker/cli-plugins).
 */
import type { WorkloadSpec } from "../../spec";
import type { ComposeLogging, ComposeService } from "./types";

export const SCHEDULER_SERVICE = "scheduler";
export const SCHEDULER_IMAGE = "docker:27.3.1-cli";
export const JOBS_PROFILE = "jobs";
/** Where the scheduler reads the crontab the release ships (`./crontab` in the release). */
const CRONTAB_MOUNT = "/etc/ballast/crontab";

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
    for (const [token, value] of [[startToken, start], [endToken ?? startToken, end]] as const) {
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
  const allowed = "five fields: minute hour day-of-month month day-of-week, e.g. \"0 3 * * *\"";
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
}

/** The command a crontab line runs for a job: bounded by its timeout, never overlapping itself. */
export function jobRunCommand(job: WorkloadSpec, settings: CronSettings): string {
  if (job.jobTimeoutSeconds === undefined || job.jobTimeoutSeconds <= 0) {
    throw new Error(`job ${job.name}: jobTimeoutSeconds must be a positive number of seconds`);
  }
  const current = `${settings.releaseBase}/current`;
  return [
    `flock -n /tmp/${job.name}.lock`,
    `timeout ${job.jobTimeoutSeconds}`,
    `docker compose -p ${settings.project} --project-directory ${current} -f ${current}/docker-compose.yml`,
    `--profile ${JOBS_PROFILE} run --rm --no-deps -T ${job.name}`,
  ].join(" ");
}

/**
 * The busybox crontab (`/etc/crontabs/root` format: five fields then a shell command).
 * Output goes to crond's own stdout/stderr (PID 1) so job logs land in the
 * scheduler's container log, which the log pipeline already collects.
 */
export function renderCrontab(jobs: WorkloadSpec[], settings: CronSettings): string {
  const lines = [
    `# Rendered by Ballast for compose project ${settings.project}. Times are UTC.`,
    `# Each run: at most one at a time (flock), killed after its timeout, container removed after.`,
  ];
  for (const job of [...jobs].sort((a, b) => a.name.localeCompare(b.name))) {
    if (job.schedule === undefined) throw new Error(`job ${job.name}: role "job" needs a schedule`);
    const schedule = validateSchedule(job.schedule, job.name);
    lines.push(`# ${job.name}: ${job.description.replace(/\s+/g, " ")}`);
    lines.push(`${schedule} ${jobRunCommand(job, settings)} >/proc/1/fd/1 2>/proc/1/fd/2`);
  }
  return `${lines.join("\n")}\n`;
}

/**
 * The scheduler service. It mounts the whole release base read-only at the same
 * absolute path as on the host: `docker compose run` resolves `./config/...` against
 * `<base>/current` and hands those paths to the host's daemon, so they must mean the
 * same thing on both sides; mounting the base (not `current` itself) keeps the
 * `current` link live across deploys instead of pinning the release it pointed at
 * when the scheduler started.
 */
export function schedulerService(
  settings: CronSettings,
  logging: ComposeLogging,
  labels: Record<string, string>,
): ComposeService {
  return {
    image: SCHEDULER_IMAGE,
    // Bypass docker-entrypoint.sh, which would try `crond` as a docker subcommand first.
    entrypoint: ["/bin/sh", "-c"],
    // crond wants a root-owned crontab; the bind-mounted file keeps the deploy user's owner.
    command: [`install -m 0600 ${CRONTAB_MOUNT} /etc/crontabs/root && exec crond -f -d 8 -c /etc/crontabs`],
    environment: { TZ: "UTC" },
    restart: "unless-stopped",
    logging,
    deploy: {
      resources: {
        limits: { cpus: "0.25", memory: "128M" },
        reservations: { cpus: "0.05", memory: "32M" },
      },
    },
    stop_grace_period: "10s",
    security_opt: ["no-new-privileges:true"],
    cap_drop: ["ALL"],
    // crond switches to the crontab owner (root) before each run: setgroups needs SETGID.
    cap_add: ["SETGID", "SETUID"],
    // Writable root: crond writes its pid file and the crontab copy; with the docker
    // socket mounted the container is root-equivalent anyway.
    read_only: false,
    network_mode: "none",
    volumes: [
      "/var/run/docker.sock:/var/run/docker.sock:ro",
      { type: "bind", source: settings.releaseBase, target: settings.releaseBase, read_only: true },
      { type: "bind", source: "./crontab", target: CRONTAB_MOUNT, read_only: true },
    ],
    labels,
  };
}
