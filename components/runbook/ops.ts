/**
 * The exact operator commands for each target, built from the stack's own names
 * (compose project, release directory, SSH host, namespace, workload names). The
 * sections in render.ts only arrange them; every command the runbook prints comes
 * from here.
 */
import { secretEnvName, type WorkloadSpec } from "../spec";
import { agentsNamespaceOf } from "../config/kubernetes";
import { configPath, envVarFor, type RunbookContext } from "./context";
import { shellLine, shellWord } from "./markdown";
import type { ComposeFacts, KubernetesFacts } from "./types";

/** A UTC timestamp suffix evaluated by the operator's shell: unique names for manual jobs and dumps. */
export const timestampSuffix = "$(date -u +%Y%m%d%H%M%S)";

export interface TargetOps {
  kind: "compose" | "kubernetes";
  /** Commands that put an operator where the other commands run (an SSH login, a directory). */
  shell: string[];
  /** One sentence: where the commands run. */
  where: string;
  /** Overall status of every workload. */
  status: string;
  /** Follow a workload's logs. */
  logs(workload: WorkloadSpec): string;
  /** The last lines of a workload's logs, without following. */
  recentLogs(workload: WorkloadSpec): string;
  /** Logs of the runs of a scheduled job. */
  jobLogs(job: WorkloadSpec): string;
  /** An interactive command inside a running workload. */
  exec(workload: WorkloadSpec, argv: string[]): string;
  /** A non-interactive command inside a running workload (reads stdin, no TTY). */
  execNoTty(workload: WorkloadSpec, argv: string[]): string;
  /** Run a job once now, optionally with extra arguments for its command; lines to type in order. */
  runJob(job: WorkloadSpec, extraArgs?: string[]): string[];
  /** CPU and memory use right now. */
  top: string;
  /** Persistent storage of the stack and how full it is. */
  storage: string;
  /** Where a secret's value lives on this target. */
  secretLocation(secret: string, users: WorkloadSpec[]): string;
}

function sshLogin(ssh: NonNullable<ComposeFacts["ssh"]>): string {
  return shellLine(["ssh", ...(ssh.port !== 22 ? ["-p", String(ssh.port)] : []), `${ssh.user}@${ssh.host}`]);
}

export function composeOps(facts: ComposeFacts): TargetOps & ComposeExtras {
  const dc = `${facts.composeCommand} -p ${shellWord(facts.project)}`;
  const current = `${facts.releaseDir}/current`;
  const releases = `${facts.releaseDir}/releases`;
  const shell = [...(facts.ssh ? [sshLogin(facts.ssh)] : []), `cd ${shellWord(current)}`];
  const where = facts.ssh
    ? `On the host ${facts.ssh.host}, in the current release: log in with ${"`"}${sshLogin(facts.ssh)}${"`"}${
        // The bootstrap gives the deploy key no terminal (restrict): people log in with an operator key.
        facts.sshAllowFrom ? ` and a key of ${"`"}ballast:compose.bootstrap.operatorKeys${"`"} (the deploy key gets no terminal)` : ""
      }, then ${"`"}cd ${current}${"`"}.`
    : `On this machine's Docker engine, in the current release: from the Ballast checkout (where you run ${"`"}pulumi up${"`"}), ${"`"}cd ${current}${"`"}.`;
  const jobsRun = (job: WorkloadSpec, extraArgs: string[] = []) => {
    // `run SERVICE ARGS` replaces the service's command (the spec's args); the entrypoint stays.
    const args = extraArgs.length > 0 ? [...(job.args ?? []), ...extraArgs] : [];
    return `${dc} --profile jobs run --rm --no-deps ${shellWord(job.name)}${args.length > 0 ? ` ${shellLine(args)}` : ""}`;
  };
  return {
    kind: "compose",
    shell,
    where,
    status: `${dc} ps`,
    logs: (w) => `${dc} logs -f ${shellWord(w.name)}`,
    recentLogs: (w) => `${dc} logs --tail 200 ${shellWord(w.name)}`,
    jobLogs: () => `tail -n 200 ${facts.releaseDir}/.ballast/jobs.log`,
    exec: (w, argv) => `${dc} exec ${shellWord(w.name)} ${shellLine(argv)}`,
    execNoTty: (w, argv) => `${dc} exec -T ${shellWord(w.name)} ${shellLine(argv)}`,
    runJob: (job, extraArgs) => [jobsRun(job, extraArgs)],
    top: `docker stats --no-stream $(${dc} ps -q)`,
    storage: "docker system df -v",
    secretLocation: (secret, users) => {
      const asEnv = users.some((w) => envVarFor(w, secret) !== undefined);
      const asFile = users.some((w) => w.secretFiles.some((f) => f.secret === secret));
      const parts: string[] = [];
      if (asEnv || !asFile) parts.push(`${"`"}${current}/.env${"`"} as ${"`"}${secretEnvName(secret)}${"`"}`);
      if (asFile) parts.push(`${"`"}${current}/secrets/${secret}${"`"}`);
      return parts.join(" and ");
    },
    composeCommand: dc,
    current,
    releases,
    base: facts.releaseDir,
    up: `${dc} up -d --wait --wait-timeout ${facts.deployTimeoutSeconds} --remove-orphans`,
    scaleNow: (w, replicas) => `${dc} up -d --wait --no-deps --scale ${shellWord(w.name)}=${replicas} ${shellWord(w.name)}`,
    stop: (names) => `${dc} stop ${names.map(shellWord).join(" ")}`,
    pauseJobs: `crontab -l > ~/crontab.before-restore && crontab -l | sed '/^# BEGIN ballast/,/^# END ballast/{/^#/!s/^/#paused# /}' | crontab -`,
    resumeJobs: "crontab ~/crontab.before-restore",
  };
}

export interface ComposeExtras {
  /** `docker compose -p <project>`. */
  composeCommand: string;
  /** `<releaseDir>/current`. */
  current: string;
  /** `<releaseDir>/releases`. */
  releases: string;
  /** `<releaseDir>`. */
  base: string;
  /** Bring the current release up and wait for health. */
  up: string;
  scaleNow(workload: WorkloadSpec, replicas: number): string;
  /** Stop services by name. */
  stop(names: string[]): string;
  /** Pause and resume the scheduled jobs (Ballast's block of the deploy user's crontab). */
  pauseJobs: string;
  resumeJobs: string;
}

export interface KubernetesExtras {
  /** `kubectl [--context C] -n <ns>`. */
  kubectl: string;
  namespace: string;
  /** `deployment/app`, `statefulset/postgres`, `daemonset/alloy`, `cronjob/backup`, `job/migrate`. */
  objectOf(workload: WorkloadSpec): string;
  rolloutStatus(workload: WorkloadSpec): string;
  scale(workload: WorkloadSpec, replicas: number): string;
  suspend(job: WorkloadSpec, suspended: boolean): string;
}

export function kubernetesOps(facts: KubernetesFacts): TargetOps & KubernetesExtras {
  const kubectlIn = (namespace: string) =>
    `kubectl${facts.context ? ` --context ${shellWord(facts.context)}` : ""} -n ${shellWord(namespace)}`;
  const k = kubectlIn(facts.namespace);
  // Per-node agents run in their own namespace (Pod Security privileged), beside the application's.
  const kw = (w: WorkloadSpec) => (w.role === "agent" ? kubectlIn(agentsNamespaceOf(facts.namespace)) : k);
  const selector = (w: WorkloadSpec) => `app.kubernetes.io/name=${w.name}`;
  const maxReplicas = (w: WorkloadSpec) => w.autoscaling?.maxReplicas ?? w.replicas;
  const objectOf = (w: WorkloadSpec): string => {
    switch (w.role) {
      case "stateless":
        return `deployment/${w.name}`;
      case "stateful":
        return `statefulset/${w.name}`;
      case "agent":
        return `daemonset/${w.name}`;
      case "job":
        return w.schedule === undefined ? `job/${w.name}` : `cronjob/${w.name}`;
    }
  };
  const logFlags = (w: WorkloadSpec) => {
    // kubectl follows at most 5 pods by default; allow every replica the autoscaler may run.
    const pods = maxReplicas(w);
    return `--prefix${pods > 5 ? ` --max-log-requests ${pods}` : ""}`;
  };
  return {
    kind: "kubernetes",
    shell: facts.context ? [`kubectl config use-context ${shellWord(facts.context)}`] : [],
    where: facts.context
      ? `From any machine whose kubeconfig has the context ${"`"}${facts.context}${"`"}; every command names it and the namespace ${"`"}${facts.namespace}${"`"}.`
      : `From any machine whose current kubeconfig context points at the cluster; every command names the namespace ${"`"}${facts.namespace}${"`"}.`,
    status: `${k} get pods`,
    logs: (w) => `${kw(w)} logs -l ${selector(w)} -f ${logFlags(w)}`,
    recentLogs: (w) => `${kw(w)} logs -l ${selector(w)} --tail 200 ${logFlags(w)}`,
    jobLogs: (job) => `${k} logs -l ${selector(job)} --tail 200 --prefix`,
    exec: (w, argv) => `${kw(w)} exec -it ${objectOf(w)} -- ${shellLine(argv)}`,
    execNoTty: (w, argv) => `${kw(w)} exec -i ${objectOf(w)} -- ${shellLine(argv)}`,
    runJob: (job, extraArgs = []) => {
      if (job.schedule === undefined) return [`${k} get ${objectOf(job)}`, `${k} logs ${objectOf(job)}`];
      const source = `cronjob/${job.name}`;
      const create =
        extraArgs.length === 0
          ? `${k} create job --from=${source} "$job"`
          : // `create job --from` copies the CronJob's template unchanged: add the arguments to a client-side copy, then create that.
            `${k} create job --from=${source} "$job" --dry-run=client -o json | jq ${shellWord(
              `.spec.template.spec.containers[0].args += ${JSON.stringify(extraArgs)}`,
            )} | ${k} create -f -`;
      return [
        `job="${manualJobBase(job.name)}-${timestampSuffix}"`,
        create,
        `${k} logs -f "job/$job" --pod-running-timeout=5m`,
        `${k} get "job/$job"`,
      ];
    },
    top: `${k} top pods`,
    storage: `${k} get pvc`,
    secretLocation: (secret) => `Secret ${"`"}${facts.secretName}${"`"}, key ${"`"}${secret}${"`"}`,
    kubectl: k,
    namespace: facts.namespace,
    objectOf,
    rolloutStatus: (w) => `${kw(w)} rollout status ${objectOf(w)} --timeout=${Math.max(300, w.stopGracePeriodSeconds * 2)}s`,
    scale: (w, replicas) => `${k} scale ${objectOf(w)} --replicas=${replicas}`,
    suspend: (job, suspended) => `${k} patch cronjob/${job.name} -p '{"spec":{"suspend":${suspended}}}'`,
  };
}

/** Job names are DNS labels of at most 63 characters; 15 go to the timestamp suffix. */
function manualJobBase(name: string): string {
  const base = `${name}-manual`;
  return base.length <= 48 ? base : name.slice(0, 48).replace(/-+$/, "");
}

/** `pulumi config set --path` for one setting of a workload, or undefined when config does not declare it. */
export function configSet(ctx: RunbookContext, workload: WorkloadSpec, setting: string, value: string | number): string | undefined {
  const path = configPath(ctx.model, workload);
  if (!path) return undefined;
  return `pulumi config set --stack ${shellWord(ctx.stack)} --path ${shellWord(`${path}.${setting}`)} ${shellWord(String(value))}`;
}
