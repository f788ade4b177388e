import { BaseSequencer, type TestSpecification } from "vitest/node";

/** Scenario files that need the Kubernetes test cluster (scripts/e2e/cluster.sh up). */
const clusterFiles = /\/test\/e2e\/(cluster|kubernetes-cluster)\.test\.ts$/;

/**
 * Runs the cluster scenarios last. `.ci/run` builds the cluster binaries in the background (a niced
 * `go build`, about 10 min cold) while the Compose scenarios, which mostly wait on health checks and
 * releases, run first; `cluster.sh up` then waits for that build instead of starting its own.
 */
export class ClusterLastSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const needsCluster = (file: TestSpecification) => clusterFiles.test(file.moduleId.replaceAll("\\", "/"));
    // The smoke test (cluster.test.ts) before the prod scenario, as when they ran alone.
    const cluster = sorted.filter(needsCluster).sort((a, b) => a.moduleId.localeCompare(b.moduleId));
    return [...sorted.filter((file) => !needsCluster(file)), ...cluster];
  }
}
