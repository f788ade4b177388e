/** docs/benchmarks.md has several writers: each replaces its own part and keeps the others (scripts/lib/benchmarks-doc.ts). */
import { describe, expect, it } from "vitest";
import { sectionsOf, withHead, withSection } from "../scripts/lib/benchmarks-doc";

describe("benchmarks page sections", () => {
  const page = "# Benchmarks\n\nhead v1\n";

  it("appends a section, then replaces it in place", () => {
    const once = withSection(page, "compose-release", "## Release\n\nrun 1");
    expect(once).toBe(
      "# Benchmarks\n\nhead v1\n\n<!-- section:compose-release -->\n## Release\n\nrun 1\n<!-- /section:compose-release -->\n",
    );
    const twice = withSection(once, "compose-release", "## Release\n\nrun 2");
    expect(twice).toContain("run 2");
    expect(twice).not.toContain("run 1");
    expect(sectionsOf(twice)).toHaveLength(1);
  });

  it("a new head keeps every section, in order", () => {
    const sections = withSection(withSection(page, "a", "A"), "b", "B");
    const rewritten = withHead(sections, "# Benchmarks\n\nhead v2");
    expect(rewritten).toContain("head v2");
    expect(rewritten).not.toContain("head v1");
    expect(sectionsOf(rewritten).map((s) => s.id)).toEqual(["a", "b"]);
  });
});
