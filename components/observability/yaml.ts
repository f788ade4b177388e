import { stringify } from "yaml";

/**
 * One YAML style for every rendered monitoring file: no anchors (a reused object must not
 * turn into `&a1`/`*a1`, which reviewers cannot read) and no line folding of long strings
 * (PromQL and SQL stay on one line, as written).
 */
export function toYaml(value: unknown, header?: string): string {
  const body = stringify(value, { lineWidth: 0, aliasDuplicateObjects: false });
  return header ? `# ${header}\n${body}` : body;
}
