/**
 * "When a deploy was interrupted": what an interrupted release leaves and what to do, as the
 * fault tests (test/e2e/faults.test.ts) prove it on a real host. Each Compose row names the test
 * step that proves it (`provenBy`, checked against the test file by test/runbook-interrupted.test.ts),
 * so the runbook cannot claim a recovery no test runs. The Pulumi steps after a killed `pulumi up`
 * are the engine's, the same for both targets.
 */
import type { WorkloadSpec } from "../spec";
import { code, codeBlock, shellWord, table } from "./markdown";

export interface InterruptionFact {
  /** What happened, as an operator would say it. */
  fault: string;
  /** The title of the test/e2e/faults.test.ts step that injects it, from its start. */
  provenBy: string;
  /** What the fault leaves on the host and in the state ({base} is the release directory). */
  left: string;
  /** What the next `pulumi up` does, and anything to do first. */
  next: string;
}

/** Compose: one row per fault of test/e2e/faults.test.ts. */
export const composeInterruptions: readonly InterruptionFact[] = [
  {
    fault: "The SSH connection dropped during `pulumi up`",
    provenBy: "SSH connection dropped while the new containers start",
    left: "`pulumi up` fails at once. `deploy.sh` has no terminal, so nothing signals it: it keeps running on the host and finishes (or rolls back) the release by itself, holding `{base}/.deploy.lock`. The old containers stay in rotation until its switch: no request fails.",
    next: "Run `pulumi up` again: it waits for the lock, runs the same release, finds the services already at it (or drains every older container) and converges.",
  },
  {
    fault: "`pulumi up` was interrupted (Ctrl-C, then killed: a closed laptop, a cancelled CI job)",
    provenBy: "pulumi up interrupted (SIGINT, then SIGKILL)",
    left: "The state keeps a pending create of the release (the CLI released its lock on SIGINT, also on a file backend); `deploy.sh` on the host goes on as after a dropped connection.",
    next: "The steps below: `pulumi up` converges but leaves the pending create, which `pulumi refresh --clear-pending-creates` drops.",
  },
  {
    fault: "The disk was full",
    provenBy: "the release disk full",
    left: "`pulumi up` fails before anything is written, naming the disk: `ballast: the disk holding {base} is full: <device> on <mount> has <n> KiB free …` (also for Docker's data root). The previous release keeps serving.",
    next: "Free space on that disk (old logs, `docker system prune`), then `pulumi up`.",
  },
  {
    fault: "The Docker engine restarted during a release",
    provenBy: "the Docker engine restarted while the new containers start",
    left: "The release fails (`FAILED at rolling`) and rolls back; the engine brings the containers back by their restart policy (`unless-stopped`). Without `live-restore` every container stopped with the engine: requests fail until they are back.",
    next: "`pulumi up`: the release runs again and converges. Had the release been cut off instead (the host went down with it), the next one marks it `<id>.failed` and drains whatever it had started.",
  },
  {
    fault: "The host rebooted",
    provenBy: "host reboot simulated",
    left: "Every container comes back by its restart policy when the engine starts. The engine does not follow `depends_on` (it started Redis and Postgres first, the app last, in the test): the app's own restarts cover a database that is not ready yet.",
    next: "Nothing; the next `pulumi up` runs normally and its health gate passes.",
  },
];

function pendingSteps(stack: string): string[] {
  return [
    `pulumi cancel --yes --stack ${stack}        # only if pulumi up says the stack is locked (a kill without Ctrl-C first)`,
    `pulumi up --stack ${stack}                   # warns about the pending create, runs the release again`,
    `pulumi refresh --clear-pending-creates --yes --stack ${stack}`,
    `pulumi preview --expect-no-changes --stack ${stack}`,
  ];
}

const pendingIntro =
  "After `pulumi up` was killed (a second Ctrl-C, a closed laptop, a cancelled CI job) the state keeps the operations it had started (`pending_operations`), and, when the CLI got no Ctrl-C before the kill, the update's lock. Pulumi cannot know whether they finished, so:";

/** The Compose section: the faults table, the Pulumi steps, and how to compare the host with the state. */
export function composeInterruptedSection(title: string, stack: string, base: string, shell: string[]): string {
  const rows = composeInterruptions.map((f) => [f.fault, f.left.replace(/\{base\}/g, base), f.next.replace(/\{base\}/g, base)]);
  return [
    `## ${title}`,
    "",
    `What each fault leaves and what brings the stack back, as ${code("test/e2e/faults.test.ts")} proves it on a real host: after each, the next ${code("pulumi up")} converged, the app served through the proxy, no database row was lost, no container or release directory was left over, and ${code("pulumi refresh")} and ${code("pulumi preview")} were clean. The release that went live last is recorded on the host in ${code(`${base}/.ballast/live`)} (its id and bundle hash); a release that neither went live nor failed is marked ${code("<id>.failed")} by the next one, which rolls back, if it must, to the live release.`,
    "",
    table(["what happened", "what is left", "what to do"], rows),
    "",
    `### After ${code("pulumi up")} was killed`,
    "",
    pendingIntro,
    "",
    codeBlock(pendingSteps(stack)),
    "",
    `### Does the host run what Pulumi recorded?`,
    "",
    codeBlock([
      ...shell.filter((line) => !line.startsWith("cd ")),
      `cat ${shellWord(`${base}/.ballast/live`)}      # <release id> <bundle sha256> of the live release`,
      `readlink ${shellWord(`${base}/current`)}`,
    ]),
    "",
    `and, where you run Pulumi, the bundle hash of the release resource: ${code(`pulumi stack export --stack ${stack} | grep -A1 '"triggers"'`)}. ${code("pulumi refresh")} cannot compare them (a release is a command, not an object it can read back). When they differ and the declaration changed since, ${code(`pulumi up --stack ${stack}`)} deploys it; when it did not, run the release again: ${code(`pulumi up --stack ${stack} --replace <urn>`)}, with the URN ${code(`pulumi stack --stack ${stack} --show-urns`)} lists for the resource ending in ${code("-release")}.`,
  ].join("\n");
}

/** The Kubernetes section: only the Pulumi steps (the provider's objects converge on the next `up`). */
export function kubernetesInterruptedSection(title: string, stack: string, namespace: string, deployments: WorkloadSpec[]): string {
  return [
    `## ${title}`,
    "",
    `${pendingIntro}`,
    "",
    codeBlock(pendingSteps(stack)),
    "",
    `The next ${code("pulumi up")} adopts the objects the killed one had created (the provider applies them server-side) and creates the rest. A dropped connection to the API server or a restarted node needs nothing more: Kubernetes keeps rolling ${deployments.map((w) => code(w.name)).join(", ") || "the Deployments"} in namespace ${code(namespace)} towards the last applied spec, and ${code("pulumi up")} waits for it again.`,
  ].join("\n");
}
