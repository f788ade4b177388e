import { defineConfig } from "vitest/config";
import { ClusterLastSequencer } from "./test/e2e/support/sequencer";

// End-to-end suite (`npm run test:e2e`): the real Pulumi engine built by scripts/toolchain.sh, a local
// file backend and passphrase secrets in temp dirs; the compose scenarios also need the test host of
// scripts/e2e/host.sh (Docker engine, sshd on loopback, compose v2, local images). See docs/e2e.md.
// A missing toolchain or host is a failure, never a skip.
export default defineConfig({
  test: {
    include: ["test/e2e/**/*.test.ts"],
    // One scenario at a time: they share the Docker engine, the SSH host and two cores.
    fileParallelism: false,
    // Compose scenarios first, cluster scenarios last (see the sequencer for why).
    sequence: { concurrent: false, sequencer: ClusterLastSequencer },
    // Each step bounds its own waits (pulumi, ssh, health) with clearer messages than these backstops.
    // The compose scenario's set-up step (scripts/e2e/host.sh up) sets its own, longer bound: on a cold
    // machine it builds compose v2 from Go modules, debootstraps Debian and builds the images.
    testTimeout: 20 * 60_000,
    // afterAll takes the test host down (bounded at 5 min by the harness).
    hookTimeout: 10 * 60_000,
    reporters: ["default"],
  },
});
