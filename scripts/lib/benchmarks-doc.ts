/**
 * docs/benchmarks.md has several writers: `npm run bench` owns the page's head (evaluation,
 * rendering, preview), other benchmarks own a section each (`npm run bench:release` the Compose
 * release under load). A section sits between `<!-- section:<id> -->` and `<!-- /section:<id> -->`
 * lines; each writer replaces its own and keeps the others.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";

const begin = (id: string) => `<!-- section:${id} -->`;
const end = (id: string) => `<!-- /section:${id} -->`;

/** Every section of `markdown`, in order, markers included. */
export function sectionsOf(markdown: string): { id: string; text: string }[] {
  const found: { id: string; text: string }[] = [];
  const pattern = /^<!-- section:([a-z0-9-]+) -->$/gm;
  for (const match of markdown.matchAll(pattern)) {
    const id = match[1];
    const close = markdown.indexOf(end(id), match.index);
    if (close === -1) continue;
    found.push({ id, text: markdown.slice(match.index, close + end(id).length) });
  }
  return found;
}

/** `markdown` with section `id` replaced by `body` (appended when it is not there yet). */
export function withSection(markdown: string, id: string, body: string): string {
  const block = `${begin(id)}\n${body.trim()}\n${end(id)}`;
  const existing = sectionsOf(markdown).find((s) => s.id === id);
  if (existing) return markdown.replace(existing.text, block);
  return `${markdown.trimEnd()}\n\n${block}\n`;
}

/** The page's head written by `npm run bench`, followed by the sections other writers own. */
export function withHead(markdown: string, head: string): string {
  const sections = sectionsOf(markdown);
  return [head.trimEnd(), ...sections.map((s) => s.text)].join("\n\n") + "\n";
}

/** Writes section `id` of the file, keeping the rest. */
export function writeSection(path: string, id: string, body: string): void {
  const current = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n";
  writeFileSync(path, withSection(current, id, body));
}

/** Writes the head of the file, keeping every section. */
export function writeHead(path: string, head: string): void {
  const current = existsSync(path) ? readFileSync(path, "utf8") : "";
  writeFileSync(path, withHead(current, head));
}
