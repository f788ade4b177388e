/**
 * The Args of the components that own resources (Secrets, ImageBuilds), walked with the TypeScript
 * compiler as an editor sees them: every field carries a doc comment and an `@default` tag, nested
 * argument types too (the style of components/config/args).
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { exportedType, propertyDocs, typeChecker } from "./fixtures/type-docs";

const components = join(__dirname, "..", "components");
const argTypes: [string, string[]][] = [
  [join(components, "secrets.ts"), ["SecretsArgs", "EncryptionKeyRotationArgs"]],
  [join(components, "build.ts"), ["ImageBuildsArgs", "ImageBuildRequest", "RegistryLogin"]],
];

const { program, checker } = typeChecker(argTypes.map(([file]) => file));

/** `field: problem` for every property of the exported interface `name` of `file` without docs or `@default`. */
function undocumented(file: string, name: string): string[] {
  const properties = checker.getPropertiesOfType(exportedType(program, checker, file, name));
  expect(properties.length, name).toBeGreaterThan(0);
  return properties.flatMap((property) => {
    const { documented, defaultTag } = propertyDocs(checker, property);
    return [
      ...(documented ? [] : [`${name}.${property.name}: no doc comment`]),
      ...(defaultTag ? [] : [`${name}.${property.name}: no @default`]),
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
