/**
 * The release bundle: every file of one release, framed as text and sent to the
 * deploy script on stdin (a Pulumi secret: it carries `.env` and secret files).
 *
 *   ballast-bundle 1 <sha256 of the files>
 *   file <octal mode> <relative path>
 *   <base64 of the content, 76 characters a line>
 *   .
 *   ...
 *   end
 *
 * Plain data, no code: the deploy script parses it, checks every path, and refuses a
 * bundle without the `end` record (a truncated transfer). Base64 never contains `.`,
 * so a lone `.` line cannot occur inside a payload.
 */
import { createHash } from "node:crypto";

export interface BundleFile {
  /** Relative path inside the release (`config/app/app.yml`). */
  path: string;
  /** Octal mode on the host. */
  mode: number;
  content: string;
}

const SAFE_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

function checkFiles(files: BundleFile[]): void {
  const seen = new Set<string>();
  for (const file of files) {
    if (!SAFE_PATH.test(file.path) || file.path.split("/").some((part) => part === "." || part === "..")) {
      throw new Error(`release bundle: unsafe path "${file.path}"`);
    }
    if (!Number.isInteger(file.mode) || file.mode < 0 || file.mode > 0o777) {
      throw new Error(`release bundle: bad mode for ${file.path}`);
    }
    if (seen.has(file.path)) throw new Error(`release bundle: ${file.path} appears twice`);
    seen.add(file.path);
  }
}

function sortedFiles(files: BundleFile[]): BundleFile[] {
  return [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** sha256 over paths, modes and contents: identifies the release and ends up in the resource's triggers. */
export function bundleId(files: BundleFile[]): string {
  checkFiles(files);
  const hash = createHash("sha256");
  for (const file of sortedFiles(files)) {
    hash.update(`${file.path}\0${file.mode.toString(8)}\0${Buffer.byteLength(file.content, "utf8")}\0`);
    hash.update(file.content, "utf8");
  }
  return hash.digest("hex");
}

function octalMode(mode: number): string {
  return `0${mode.toString(8).padStart(3, "0")}`;
}

/** The stdin text for deploy.sh. */
export function encodeBundle(files: BundleFile[]): string {
  const id = bundleId(files);
  const lines = [`ballast-bundle 1 ${id}`];
  for (const file of sortedFiles(files)) {
    lines.push(`file ${octalMode(file.mode)} ${file.path}`);
    const encoded = Buffer.from(file.content, "utf8").toString("base64");
    for (let offset = 0; offset < encoded.length; offset += 76) lines.push(encoded.slice(offset, offset + 76));
    lines.push(".");
  }
  lines.push("end");
  return `${lines.join("\n")}\n`;
}

/** Reads an encoded bundle back (the inverse of `encodeBundle`), for tests and for inspecting a release. */
export function decodeBundle(text: string): { id: string; files: BundleFile[] } {
  const lines = text.split("\n");
  const header = /^ballast-bundle 1 ([0-9a-f]{64})$/.exec(lines[0] ?? "");
  if (!header) throw new Error("not a ballast release bundle (version 1)");
  const files: BundleFile[] = [];
  let index = 1;
  for (;;) {
    const record = lines[index++];
    if (record === "end") break;
    if (record === undefined || record === "") throw new Error("release bundle is truncated (no end record)");
    const match = /^file (0[0-7]{3}) (\S+)$/.exec(record ?? "");
    if (!match) throw new Error(`release bundle: expected a file or end record at line ${index}`);
    let encoded = "";
    for (let line = lines[index++]; line !== "."; line = lines[index++]) {
      if (line === undefined) throw new Error(`release bundle is truncated inside ${match[2]}`);
      encoded += line;
    }
    files.push({ path: match[2], mode: parseInt(match[1], 8), content: Buffer.from(encoded, "base64").toString("utf8") });
  }
  return { id: header[1], files };
}
