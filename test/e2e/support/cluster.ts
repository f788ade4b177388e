/**
 * The Kubernetes end-to-end cluster (scripts/e2e/cluster.sh): brought up before, taken down after,
 * plus bounded kubectl calls against it.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { repoRoot, run, runOk, type RunResult } from "./harness";
import { readHostEnv } from "./host";

export interface TestCluster {
  state: string;
  kubeconfig: string;
  kubectl: string;
  script: string;
  server: string;
  nodeName: string;
  nodeIp: string;
  dnsIp: string;
  domain: string;
  storageClass: string;
  /** The debootstrapped Debian image (bash, coreutils, perl-base), imported into the cluster's containerd. */
  baseImage: string;
  versions: Record<string, string>;
  /** True when this process brought the cluster up (and so takes it down). */
  ownedByUs: boolean;
}

const clusterScript = path.join(repoRoot, "scripts", "e2e", "cluster.sh");

function clusterFromEnv(values: Record<string, string>, ownedByUs: boolean): TestCluster {
  const need = (key: string): string => {
    const value = values[key];
    if (!value) throw new Error(`cluster.env lacks ${key}: run \`bash scripts/e2e/cluster.sh down && bash scripts/e2e/cluster.sh up\``);
    return value;
  };
  const versions: Record<string, string> = {};
  for (const [key, value] of Object.entries(values)) {
    const match = /^BALLAST_E2E_CLUSTER_(.+)_VERSION$/.exec(key);
    if (match) versions[match[1].toLowerCase().replace(/_/g, "-")] = value;
  }
  return {
    state: need("BALLAST_E2E_CLUSTER_STATE"),
    kubeconfig: need("KUBECONFIG"),
    kubectl: need("BALLAST_E2E_CLUSTER_KUBECTL"),
    script: values.BALLAST_E2E_CLUSTER_SCRIPT || clusterScript,
    server: need("BALLAST_E2E_CLUSTER_SERVER"),
    nodeName: need("BALLAST_E2E_CLUSTER_NODE_NAME"),
    nodeIp: need("BALLAST_E2E_CLUSTER_NODE_IP"),
    dnsIp: need("BALLAST_E2E_CLUSTER_DNS_IP"),
    domain: need("BALLAST_E2E_CLUSTER_DOMAIN"),
    storageClass: need("BALLAST_E2E_CLUSTER_STORAGE_CLASS"),
    baseImage: need("BALLAST_E2E_CLUSTER_BASE_IMAGE"),
    versions,
    ownedByUs,
  };
}

/**
 * `cluster.sh up` (first run: Debian packages, one go build of Kubernetes + CoreDNS and one of the
 * add-ons, the add-on images; later runs reuse the caches), or, with BALLAST_E2E_CLUSTER_ENV set, a
 * cluster someone else brought up.
 */
export async function bringUpCluster(): Promise<TestCluster> {
  const external = process.env.BALLAST_E2E_CLUSTER_ENV;
  if (external) {
    if (!fs.existsSync(external))
      throw new Error(`BALLAST_E2E_CLUSTER_ENV=${external} does not exist: run \`bash scripts/e2e/cluster.sh up\``);
    return clusterFromEnv(readHostEnv(external), false);
  }
  if (process.getuid?.() !== 0) {
    throw new Error("the cluster scenario runs as root: scripts/e2e/cluster.sh installs packages, creates a bridge and runs a kubelet");
  }
  await runOk("scripts/e2e/cluster.sh up", "bash", [clusterScript, "up"], {
    cwd: repoRoot,
    timeoutSeconds: 75 * 60,
    echo: "[cluster]",
  });
  const state = process.env.BALLAST_E2E_CLUSTER_STATE ?? "/run/ballast-e2e-cluster";
  return clusterFromEnv(readHostEnv(path.join(state, "cluster.env")), true);
}

export async function takeDownCluster(cluster: TestCluster | undefined): Promise<void> {
  // Also when `up` failed half way: down removes whatever exists.
  if (cluster && !cluster.ownedByUs) return;
  if (!cluster && process.env.BALLAST_E2E_CLUSTER_ENV) return;
  await runOk("scripts/e2e/cluster.sh down", "bash", [clusterScript, "down"], { cwd: repoRoot, timeoutSeconds: 300, echo: "[cluster]" });
}

export interface KubectlOptions {
  timeoutSeconds?: number;
  input?: string;
}

/** `kubectl <args>` against the cluster, bounded; resolves whatever the exit code. */
export function kubectlRun(cluster: TestCluster, args: string[], options: KubectlOptions = {}): Promise<RunResult> {
  return run(cluster.kubectl, ["--request-timeout=30s", ...args], {
    env: { ...process.env, KUBECONFIG: cluster.kubeconfig },
    timeoutSeconds: options.timeoutSeconds ?? 60,
    input: options.input,
  });
}

/** `kubectl <args>`; throws with its output unless it exits 0; resolves stdout. */
export async function kubectl(cluster: TestCluster, args: string[], options: KubectlOptions = {}): Promise<string> {
  const result = await runOk(`kubectl ${args.join(" ")}`, cluster.kubectl, ["--request-timeout=30s", ...args], {
    env: { ...process.env, KUBECONFIG: cluster.kubeconfig },
    timeoutSeconds: options.timeoutSeconds ?? 60,
    input: options.input,
  });
  return result.stdout;
}

/**
 * Runs `probe` every `intervalMs` until it resolves a value, at most `seconds`; throws naming `what`
 * and the last error.
 */
export async function waitUntil<T>(what: string, seconds: number, probe: () => Promise<T | undefined>, intervalMs = 2000): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  let last = "nothing yet";
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = (error as Error).message.split("\n").slice(0, 12).join("\n");
    }
    if (Date.now() >= deadline) throw new Error(`${what}: not within ${seconds}s; last: ${last}`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
