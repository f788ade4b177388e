/**
 * A Docker Compose file read with its line numbers: every value the importer maps or leaves
 * out can be traced back to the line it came from. Pure: text in, a `ComposeFile` out, or an
 * `ImportError` naming the file, the line and what is wrong.
 */
import { isMap, isNode, LineCounter, parseDocument, type Document } from "yaml";

/** A compose file the importer cannot read (bad YAML, no services): file, line, what is wrong. */
export class ImportError extends Error {
  constructor(
    readonly file: string,
    readonly line: number,
    readonly problem: string,
  ) {
    super(`${file}: line ${line}: ${problem}`);
    this.name = "ImportError";
  }
}

export type YamlPath = readonly (string | number)[];

/** One compose service as plain data, with a way to find the line of any of its keys. */
export interface ComposeService {
  name: string;
  /** The service's mapping as compose reads it (anchors and `<<` merges resolved). */
  spec: Record<string, unknown>;
  /** Line of `services.<name>.<path...>`, or of the nearest enclosing key that has one. */
  line(...path: YamlPath): number;
}

export interface ComposeFile {
  /** The path as the user gave it (for messages and the stack file's header). */
  file: string;
  /** The top-level `name:` (the compose project), when set. */
  projectName?: string;
  services: ComposeService[];
  /** Top-level named volumes (`volumes:`), by name. */
  namedVolumes: Set<string>;
  /** Line of a top-level path, or of the nearest enclosing key that has one. */
  line(...path: YamlPath): number;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Reads a compose file's text; throws ImportError for YAML errors and for a file without services. */
export function readComposeText(text: string, file: string): ComposeFile {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, merge: true, prettyErrors: true, uniqueKeys: true });
  const [first] = document.errors;
  if (first) {
    const line = first.linePos?.[0].line ?? 1;
    throw new ImportError(file, line, `not valid YAML: ${first.message.split("\n")[0].replace(/ at line \d+, column \d+:?$/, "")}`);
  }
  const lineOf = lineFinder(document, lineCounter);
  const root: unknown = document.toJS({ maxAliasCount: 1000 });
  if (!isRecord(root)) throw new ImportError(file, 1, "not a docker-compose file: the top level must be a mapping with a services: key");
  const services = root.services;
  if (services === undefined)
    throw new ImportError(file, 1, "no services: key: a docker-compose file declares its containers under services:");
  if (!isRecord(services) || Object.keys(services).length === 0) {
    throw new ImportError(file, lineOf(["services"]), "services: is empty or not a mapping: there is nothing to import");
  }
  const list: ComposeService[] = [];
  for (const [name, spec] of Object.entries(services)) {
    if (!isRecord(spec))
      throw new ImportError(
        file,
        lineOf(["services", name]),
        `service ${name} is not a mapping of compose keys (image, build, ports, ...)`,
      );
    list.push({ name, spec, line: (...path) => lineOf(["services", name, ...path]) });
  }
  const volumes = isRecord(root.volumes) ? Object.keys(root.volumes) : [];
  return {
    file,
    projectName: typeof root.name === "string" ? root.name : undefined,
    services: list,
    namedVolumes: new Set(volumes),
    line: (...path) => lineOf(path),
  };
}

/** The 1-based line of the node at `path`; walks up to the nearest ancestor with a position. */
function lineFinder(document: Document, lineCounter: LineCounter): (path: YamlPath) => number {
  return (path) => {
    for (let length = path.length; length > 0; length--) {
      const prefix = path.slice(0, length);
      const node = document.getIn(prefix, true);
      // A key's line reads better than its value's (a block value starts on the next line).
      const parent = length > 1 ? document.getIn(prefix.slice(0, -1), true) : document.contents;
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isNode(item.key) && (item.key as { value?: unknown }).value === prefix[prefix.length - 1]);
        if (pair && isNode(pair.key) && pair.key.range) return lineCounter.linePos(pair.key.range[0]).line;
      }
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return 1;
  };
}
