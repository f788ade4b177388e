/**
 * The library's stack declaration (components/config/args) against the schema `pulumi up` parses
 * with: every key of the schema is a property of `StackArgs` and every property is a key (walked
 * with the TypeScript compiler, as an editor sees the types), every property carries a doc comment
 * and an `@default` tag, and every declaration the types allow is an input the schema takes.
 */
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import type { PlatformArgs, StackArgs } from "../components/config/args";
import { platformInputSchema } from "../components/config/schema";
import { keyPaths, type ZodNode } from "./fixtures/schema-walk";
import { exportedType, propertyDocs, typeChecker } from "./fixtures/type-docs";

const DEPTH = 8;
const argsFile = join(__dirname, "..", "components", "config", "args", "index.ts");

interface DeclaredKey {
  path: string;
  documented: boolean;
  defaultTag: string | undefined;
}

/** Every property path (down to `depth` segments) of the exported interface `name` (`app.health`, `workers[].name`, `secrets{}.rotation`), with its docs. */
function declaredKeys(name: string, depth: number): DeclaredKey[] {
  const { program, checker } = typeChecker([argsFile]);
  const declaredType = exportedType(program, checker, argsFile, name);
  const found = new Map<string, DeclaredKey>();
  const segments = (path: string) => path.replace(/\[\]|\{\}/g, "").split(".").length;

  const walkProperties = (type: ts.Type, path: string): void => {
    for (const property of checker.getPropertiesOfType(type)) {
      const propertyPath = path ? `${path}.${property.name}` : property.name;
      const { documented, defaultTag } = propertyDocs(checker, property);
      const seen = found.get(propertyPath);
      // A key declared by several union options (the receiver types) must be documented in each.
      found.set(propertyPath, {
        path: propertyPath,
        documented: documented && (seen?.documented ?? true),
        defaultTag: seen && !seen.defaultTag ? undefined : defaultTag,
      });
      if (segments(propertyPath) < depth) descend(checker.getNonNullableType(checker.getTypeOfSymbol(property)), propertyPath);
    }
  };
  const descend = (type: ts.Type, path: string): void => {
    for (const member of type.isUnion() ? type.types : [type]) {
      if (checker.isArrayType(member)) {
        descend(checker.getTypeArguments(member as ts.TypeReference)[0], `${path}[]`);
      } else if (member.flags & ts.TypeFlags.Object && member.getCallSignatures().length === 0) {
        const index = checker.getIndexInfoOfType(member, ts.IndexKind.String);
        if (index) descend(index.type, `${path}{}`);
        else walkProperties(member, path);
      }
    }
  };
  walkProperties(declaredType, "");
  return [...found.values()];
}

const stackKeys = declaredKeys("StackArgs", DEPTH);
const schemaKeys = keyPaths(platformInputSchema as unknown as ZodNode, DEPTH);
const areaOf = (path: string) => path.split(/[.[{]/)[0];
const areas = [...new Set(schemaKeys.map(areaOf))];

type DeepPartial<T> = T extends (infer U)[] ? DeepPartial<U>[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;
/** Compile-time: whatever the declaration's types allow, the schema's input type allows too. */
export const acceptedBySchema = (args: StackArgs): DeepPartial<z.input<typeof platformInputSchema>> => args;

describe("the library's stack declaration (StackArgs)", () => {
  it.each(areas)("declares exactly the schema's keys under %s", (area) => {
    const declared = stackKeys.map((k) => k.path).filter((path) => areaOf(path) === area);
    const expected = schemaKeys.filter((path) => areaOf(path) === area);
    expect({ missing: expected.filter((p) => !declared.includes(p)), unknown: declared.filter((p) => !expected.includes(p)) }).toEqual({
      missing: [],
      unknown: [],
    });
  });

  it.each(areas)("documents every key under %s with what it is and an @default", (area) => {
    const keys = stackKeys.filter((key) => areaOf(key.path) === area);
    expect(keys.filter((key) => !key.documented).map((key) => key.path)).toEqual([]);
    expect(keys.filter((key) => !key.defaultTag).map((key) => key.path)).toEqual([]);
  });

  it("documents the Platform's own inputs (secrets, project, stack, project root) the same way", () => {
    // Depth 1: the secrets are `pulumi.Input`s, whose members are not keys.
    const own = declaredKeys("PlatformArgs", 1).filter((key) => !stackKeys.some((s) => s.path === key.path));
    expect(own.map((key) => key.path).sort()).toEqual([
      "bootstrapSshPrivateKey",
      "project",
      "projectRoot",
      "secretValues",
      "sshPrivateKey",
      "stack",
    ]);
    expect(own.filter((key) => !key.documented || !key.defaultTag)).toEqual([]);
  });

  it("the walk itself sees a missing doc, a missing @default and a nested list key", () => {
    expect(stackKeys.find((key) => key.path === "environment")).toEqual({
      path: "environment",
      documented: true,
      defaultTag: "the stack name, when it is `dev`, `staging` or `prod` (required otherwise)",
    });
    const args: PlatformArgs = { environment: "dev", secretValues: { "openai-api-key": "x" } };
    expect(acceptedBySchema(args).environment).toBe("dev");
  });
});
