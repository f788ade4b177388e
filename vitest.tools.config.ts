import { defineConfig } from "vitest/config";

// Tool suite (`npm run test:tools`): validates rendered output with real Debian tools
// (promtool, amtool, shellcheck, PostgreSQL ...) that `.ci/run` installs. A missing tool is a failure.
export default defineConfig({
  test: {
    include: ["test/tools/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 180_000,
    fileParallelism: false,
  },
});
