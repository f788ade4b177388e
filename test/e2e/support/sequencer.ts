import { BaseSequencer, type TestSpecification } from "vitest/node";

/**
 * Scenario files that need the Kubernetes test cluster (scripts/e2e/cluster.sh up) or the Kubernetes
 * provider plugin (`cluster.test.ts`, `kubernetes-*.test.ts`).
 */
const clusterFiles = /\/test\/e2e\/(cluster|kubernetes-[a-z-]+)\.test\.ts$/;

/**
 * Runs the Kubernetes scenarios last. `.ci/run` builds the Kubernetes provider and the cluster
 * binaries in the background (niced `go build`s, about 20 min cold together) while the Compose
 * scenarios, which mostly wait on health checks, releases, cron minutes and alert windows, run
 * first; `toolchain.sh` and `cluster.sh up` then wait for those builds instead of starting their own.
 */
export class ClusterLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const needsCluster = (file: TestSpecification) => clusterFiles.test(file.moduleId.replaceAll("\\", "/"));
    // The smoke test (cluster.test.ts) before the prod scenario, as when they ran alone; render mode after both.
    const cluster = sorted.filter(needsCluster).sort((a, b) => a.moduleId.localeCompare(b.moduleId));
    return [...sorted.filter((file) => !needsCluster(file)), ...cluster];
  }
}
