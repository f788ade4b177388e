/**
 * The few Markdown building blocks the runbook uses, with the escaping GitHub-flavoured
 * Markdown needs (pipes in table cells, backticks inside code spans).
 */

/** Inline code; a text holding backticks gets a longer fence and padding, as CommonMark requires. */
export function code(text: string): string {
  const runs = text.match(/`+/g) ?? [];
  const fence = "`".repeat(runs.reduce((longest, run) => Math.max(longest, run.length), 0) + 1);
  const pad = text.startsWith("`") || text.endsWith("`") ? " " : "";
  return `${fence}${pad}${text}${pad}${fence}`;
}

/** A table cell: one line, pipes escaped (GFM splits cells on `|` even inside code spans). */
export function cell(text: string): string {
  return text.replace(/\r?\n/g, " ").replace(/\|/g, "\\|");
}

/** A GFM table. */
export function table(headers: string[], rows: string[][]): string {
  const line = (cells: string[]) => `| ${cells.map(cell).join(" | ")} |`;
  return [line(headers), `|${headers.map(() => "---").join("|")}|`, ...rows.map(line)].join("\n");
}

/** A fenced code block (`sh` by default); the fence outgrows any backtick run inside. */
export function codeBlock(lines: string[], language = "sh"): string {
  const body = lines.join("\n");
  const longest = (body.match(/`+/g) ?? []).reduce((max, run) => Math.max(max, run.length), 0);
  const fence = "`".repeat(Math.max(3, longest + 1));
  return `${fence}${language}\n${body}\n${fence}`;
}

/** A GitHub heading anchor for a heading text (lower case, punctuation dropped, spaces to dashes). */
export function anchor(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^a-z0-9 _-]/g, "")
    .replace(/ /g, "-");
}

/** Quotes a word for a POSIX shell when it needs it; a `<placeholder>` stays as is, for the reader to replace. */
export function shellWord(text: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(text) || /^<[^<>\s'"]+>$/.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** A command line from argv, quoted for a POSIX shell. */
export function shellLine(argv: string[]): string {
  return argv.map(shellWord).join(" ");
}
