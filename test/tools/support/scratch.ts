/**
 * A scratch directory for one test file: made before its tests, removed after them.
 * `write(name, content)` puts a file there and returns its path (rules, configs, test cases
 * the real tools read).
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";

export function scratchFiles(prefix: string): { write: (name: string, content: string) => string; dir: () => string } {
  let dir = "";
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    write: (name, content) => {
      const path = join(dir, name);
      writeFileSync(path, content);
      return path;
    },
    dir: () => dir,
  };
}
