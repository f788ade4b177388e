/**
 * The Args of the components that own resources (Secrets, ImageBuilds), walked with the TypeScript
 * compiler as an editor sees them: every field carries a doc comment and an `@default` tag, nested
 * argument types too (the style of components/config/args).
 */
import { join } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const components = join(__dirname, "..", "components");
const argTypes: [string, string[]][] = [
  [join(components, "secrets.ts"), ["SecretsArgs", "EncryptionKeyRotationArgs"]],
  [join(components, "build.ts"), ["ImageBuildsArgs", "ImageBuildRequest", "RegistryLogin"]],
];

const program = ts.createProgram(
  argTypes.map(([file]) => file),
  {
    strict: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    skipLibCheck: true,
    types: [],
  },
);
const checker = program.getTypeChecker();

/** `field: problem` for every property of the exported interface `name` of `file` without docs or `@default`. */
function undocumented(file: string, name: string): string[] {
  const source = program.getSourceFile(file);
  const moduleSymbol = source && checker.getSymbolAtLocation(source);
  const symbol = moduleSymbol && checker.getExportsOfModule(moduleSymbol).find((s) => s.name === name);
  if (!symbol) throw new Error(`${file} exports no ${name}`);
  const properties = checker.getPropertiesOfType(checker.getDeclaredTypeOfSymbol(symbol));
  expect(properties.length, name).toBeGreaterThan(0);
  return properties.flatMap((property) => {
    const docs = ts.displayPartsToString(property.getDocumentationComment(checker)).trim();
    const tag = property.getJsDocTags(checker).find((t) => t.name === "default");
    return [
      ...(docs ? [] : [`${name}.${property.name}: no doc comment`]),
      ...(tag && ts.displayPartsToString(tag.text).trim() ? [] : [`${name}.${property.name}: no @default`]),
    ];
  });
}

describe("Args of the components that own resources", () => {
  it.each(argTypes.flatMap(([file, names]) => names.map((name) => [name, file] as const)))(
    "%s: every field documented with its default",
    (name, file) => {
      expect(undocumented(file, name)).toEqual([]);
    },
  );
});
