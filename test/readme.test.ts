/**
 * The README's config reference against the schema `pulumi up` parses with: every key (down to
 * two levels: `app.health`, `workers[].build`, `proxy.acmeDirectory`) is documented, and every key
 * a row names exists. A key added to the schema without a README row, or a row left behind by a
 * removed key, fails here.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { platformInputSchema, secretConfigKeys } from "../components/config/schema";
import { keyPaths, type ZodNode } from "./fixtures/schema-walk";

const readme = readFileSync(join(__dirname, "..", "README.md"), "utf8");
const reference = readme.slice(readme.indexOf("## Config reference"));
const schema = platformInputSchema as unknown as ZodNode;

/** Rows of the reference tables: [first cell, whole row]. */
const rows = reference
  .split("\n")
  .filter((line) => line.startsWith("| `"))
  .map((line) => [line.split(" | ")[0], line] as const);

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Whether the reference names `path`: in a row's key cell (`app.health`, `compose.ssh.host` for `compose.ssh`, `.user` beside `postgres.database`), or as a field in its parent's row. */
function documented(path: string): boolean {
  const plain = path.replace(/\[\]|\{\}/g, "");
  if (rows.some(([cell]) => namedKeys(cell).some((key) => key === plain || key.startsWith(`${plain}.`)))) return true;
  const segments = path.split(".");
  if (segments.length < 2) return false;
  const parent = segments
    .slice(0, -1)
    .join(".")
    .replace(/\[\]|\{\}/g, "");
  const field = segments[segments.length - 1];
  const fieldPattern = new RegExp("[`{ ,]" + escape(field) + "[`}, ]");
  return rows.some(([cell, row]) => new RegExp("`" + escape(parent) + "(\\[\\]|\\.|`)").test(cell) && fieldPattern.test(row));
}

/** The key paths a row's first cell names: `a.b` / `.c` (a sibling of the previous), `a[]`; placeholders (`<part>`, `*`) cut the path there. */
function namedKeys(cell: string): string[] {
  const names: string[] = [];
  let previous = "";
  for (const [, token] of cell.matchAll(/`([^`]+)`/g)) {
    const full = token.startsWith(".") ? previous.replace(/\.[^.]+$/, "") + token : token;
    previous = full;
    names.push(full.replace(/\[\]/g, "").split(/\.(<|\*)/)[0]);
  }
  return names;
}

describe("README config reference", () => {
  it("documents every key of the schema down to two levels", () => {
    const missing = keyPaths(schema, 2).filter((path) => !documented(path));
    expect(missing).toEqual([]);
  });

  it("names only keys the schema has (no row left behind by a renamed or removed key)", () => {
    const known = new Set([...keyPaths(schema, 8).map((path) => path.replace(/\[\]|\{\}/g, "")), ...secretConfigKeys]);
    const unknown = rows.flatMap(([cell]) => namedKeys(cell)).filter((key) => !known.has(key));
    expect(unknown).toEqual([]);
  });

  it("the check itself sees a missing key and a stale row", () => {
    expect(documented("app.health")).toBe(true);
    expect(documented("workers[].stopGracePeriodSeconds")).toBe(true);
    expect(documented("app.noSuchKey")).toBe(false);
    expect(namedKeys("| `compose.ssh.host` / `.port`")).toEqual(["compose.ssh.host", "compose.ssh.port"]);
  });
});
