import { defineConfig } from "vitest/config";

// Unit suite (`npm test`): mocks, pure renderers, npm-provided validators. No Debian tools, no network.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    exclude: ["test/tools/**", "test/e2e/**", "node_modules/**"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
