/**
 * `npm run import`'s core: a docker-compose file in, a Ballast stack file (`Pulumi.<stack>.yaml`)
 * and what the user must still do out. Pure except `validateImport`, which runs the same
 * config pipeline `pulumi up` does (parsePlatformConfig) on the result.
 */
import { basename } from "node:path";
import { Document, isMap, isScalar } from "yaml";
import { ConfigError, parsePlatformConfig } from "../../components/config";
import { withSecretPlaceholders } from "../lib/render-stack";
import { flattenStackConfig } from "../lib/stack-files";
import { readComposeText } from "./compose-file";
import { importCompose, type ComposeImport, type ImportOptions } from "./map";
import { imageRepository } from "./roles";

export { ImportError } from "./compose-file";
export type { ComposeImport, Finding, ImportOptions, Placeholder, SecretToSet } from "./map";

/** Reads compose text (`file` names it in messages) and maps it; throws ImportError for unreadable input. */
export function importComposeText(text: string, file: string, options: ImportOptions): ComposeImport {
  return importCompose(readComposeText(text, file), options);
}

/** The stack file's `config:` block: `ballast:<key>` -> value. */
export function stackConfig(result: ComposeImport): Record<string, unknown> {
  return Object.fromEntries(Object.entries(result.config).map(([key, value]) => [`ballast:${key}`, value]));
}

export interface Validation {
  /** What `pulumi up` would refuse, in its own words (key, value, what is allowed). */
  problems: string[];
  warnings: string[];
}

/** Runs the imported config through parsePlatformConfig, with the secrets to set filled as placeholders (as `npm run render` does). */
export function validateImport(result: ComposeImport): Validation {
  const { raw } = flattenStackConfig(stackConfig(result));
  try {
    const loaded = parsePlatformConfig(withSecretPlaceholders(raw).raw, result.stack, "ballast");
    return { problems: [], warnings: loaded.warnings };
  } catch (error) {
    if (error instanceof ConfigError) return { problems: error.problems, warnings: [] };
    throw error;
  }
}

/** `pulumi config set` for one secret, against the written stack file. */
export function setSecretCommand(stackFile: string, name: string, value: string): string {
  return `pulumi config set --config-file ${stackFile} --secret --path 'ballast:secretValues.${name}' ${value}`;
}

export function findingLine(finding: ComposeImport["findings"][number]): string {
  const verb = finding.kind === "not mapped" ? "not mapped because" : `${finding.kind}:`;
  return `line ${finding.line}: ${finding.what} — ${verb} ${finding.why}`;
}

/** Marks a key of the document with a comment line above it. */
function annotate(document: Document, path: readonly (string | number)[], text: string): void {
  const parent = document.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return;
  const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === path[path.length - 1]);
  if (pair && isScalar(pair.key)) pair.key.commentBefore = [pair.key.commentBefore, text].filter(Boolean).join("\n");
}

/**
 * The stack file: a header (source, how to render and deploy, the secrets to set), the
 * `config:` block in a stable key order with placeholders marked, and the findings at the end.
 */
export function stackFileText(result: ComposeImport, stackFile: string): string {
  const document = new Document({ config: stackConfig(result) });
  for (const placeholder of result.placeholders)
    annotate(document, ["config", `ballast:${placeholder.path[0]}`, ...placeholder.path.slice(1)], ` REPLACE: ${placeholder.why}.`);
  const required = result.secrets.filter((s) => s.required);
  document.commentBefore = [
    ` Imported by \`npm run import\` from ${result.source} (target ${result.target}, environment ${result.environment}).`,
    " Review it before the first deploy: values marked REPLACE are placeholders for what a compose file does not say,",
    " and the end of this file lists what was not mapped, with the compose line it came from.",
    ` Render: npm run render -- ${stackFile}${basename(stackFile) === `Pulumi.${result.stack}.yaml` ? "" : ` --stack ${result.stack}`}`,
    ...(required.length > 0
      ? [
          " Secret values never live here; set them encrypted:",
          ...required.map((s) => `   ${setSecretCommand(stackFile, s.name, `<${s.readBy[0].split(".").pop()}>`)}`),
        ]
      : []),
  ].join("\n");
  if (result.findings.length > 0) {
    document.comment = [
      ` Not mapped or changed by the import (lines of ${result.source}):`,
      ...result.findings.map((f) => `   ${findingLine(f)}`),
    ].join("\n");
  }
  return document.toString({ lineWidth: 0 });
}

/** What stdout says after an import: mapped services, secrets with their commands, placeholders, findings. */
export function summaryText(result: ComposeImport, stackFile: string, validation: Validation, written: boolean): string {
  const lines: string[] = [];
  lines.push(
    `${written ? "Wrote" : "Did not write"} ${stackFile} from ${result.source} (target ${result.target}, environment ${result.environment}).`,
  );
  lines.push("", "Mapped:");
  for (const m of result.mapped) lines.push(`  line ${m.line}: ${m.service} -> ${m.to}`);
  const required = result.secrets.filter((s) => s.required);
  const optional = result.secrets.filter((s) => !s.required);
  if (required.length > 0) {
    lines.push("", "Secrets to set before pulumi up (no value was copied into the stack file):");
    for (const s of required)
      lines.push(
        `  ${setSecretCommand(stackFile, s.name, `<${s.readBy[0].split(".").pop()}>`)}`,
        `      read by ${s.readBy.join(", ")} (line ${s.line}): ${s.note}`,
      );
  }
  if (optional.length > 0) {
    lines.push("", "Built-in secrets Ballast generates (set one only to keep today's value):");
    for (const s of optional) lines.push(`  ${s.name}: read by ${s.readBy.join(", ")} (line ${s.line}); ${s.note}`);
  }
  if (result.placeholders.length > 0) {
    lines.push("", "Placeholders to replace (marked REPLACE in the file):");
    for (const p of result.placeholders) lines.push(`  ballast:${p.path.join(".")}: ${p.why}`);
  }
  if (result.findings.length > 0) {
    lines.push("", "Not mapped or changed:");
    for (const f of result.findings) lines.push(`  ${findingLine(f)}`);
  }
  for (const warning of validation.warnings) lines.push(`warning: ${warning}`);
  if (validation.problems.length > 0) {
    lines.push(
      "",
      `pulumi up would refuse this stack file (${validation.problems.length} problem${validation.problems.length === 1 ? "" : "s"}):`,
    );
    for (const problem of validation.problems) lines.push(`  - ${problem}`);
    if (result.unpinned.length > 0) {
      lines.push(
        "",
        "Images with a moving tag (an exact version or digest is required outside dev): pin each with --image SERVICE=IMAGE, e.g.",
        `  npm run import -- ${result.source} ${result.unpinned.map((u) => `--image ${u.service}=${imageRepository(u.image)}:<version>`).join(" ")}`,
      );
    }
  }
  return lines.join("\n");
}
