// ESLint for Ballast's TypeScript (`npm run lint`): typescript-eslint's recommended rules, the
// project's own additions below. Formatting is Prettier's (.prettierrc.json), not ESLint's.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["node_modules/**", "out/**", "coverage/**", "dr-bundles/**", "policies/node_modules/**", "**/*.js", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      // Unused names are mistakes; a leading underscore marks a deliberately ignored one.
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
    },
  },
  {
    // Tests read whole documents of arbitrary shape (rendered manifests, state exports, engine JSON)
    // and assert on paths inside them: `any` there is the honest type. Product code may not use it.
    files: ["test/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
