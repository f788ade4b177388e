import { describe, expect, it } from "vitest";
import { parseCliArgs } from "../scripts/lib/cli-args";

const USAGE = "usage: thing <stack> [--out DIR] [--force]";
const spec = { values: { "--out": "a directory" }, flags: ["--force"] };

describe("parseCliArgs (dr:export, dr:import, drift)", () => {
  it("collects positionals, option values and flags in any order", () => {
    const parsed = parseCliArgs(["--force", "prod", "--out", "/tmp/x", "extra"], spec, USAGE);
    expect(parsed).toEqual({ positional: ["prod", "extra"], values: { "--out": "/tmp/x" }, flags: new Set(["--force"]) });
  });

  it("says what an option without its value needs, and refuses unknown options", () => {
    expect(parseCliArgs(["prod", "--out"], spec, USAGE)).toBe(`--out needs a directory\n${USAGE}`);
    expect(parseCliArgs(["--bogus", "prod"], spec, USAGE)).toBe(`unknown option --bogus\n${USAGE}`);
  });

  it("answers -h and --help with the usage alone", () => {
    expect(parseCliArgs(["prod", "-h"], spec, USAGE)).toBe(USAGE);
    expect(parseCliArgs(["--help"], spec, USAGE)).toBe(USAGE);
  });
});
