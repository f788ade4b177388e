/**
 * Disaster-recovery bundles of the Pulumi stack itself (not of the data: that is
 * components/backups). A bundle is a directory
 *
 *   dr-bundles/<stack>-<UTC timestamp>/
 *     stack-export.json   `pulumi stack export` (secrets stay encrypted: never --show-secrets)
 *     Pulumi.<stack>.yaml the stack config; holds the passphrase provider's encryption salt
 *     manifest.json       format, stack, checkpoint version, resource count, sizes, sha256
 *
 * This module is the shared logic of scripts/dr-export.ts and scripts/dr-import.ts:
 * building and verifying manifests and finding the CLI. It never runs the CLI, so tests
 * import it without Pulumi installed.
 */
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

export const BUNDLE_FORMAT = "ballast-dr-bundle/1";
export const MANIFEST_FILE = "manifest.json";
export const EXPORT_FILE = "stack-export.json";

/** The marker Pulumi puts on secret values in a checkpoint. */
const SECRET_SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG_VALUE = "1b47061264138c4ac30d75fd1eb44270";

export interface BundleFile {
  name: string;
  bytes: number;
  sha256: string;
}

export interface CheckpointInfo {
  /** The export's top-level `version` (the checkpoint format). */
  version: number;
  /** `deployment.manifest`: when and with which CLI version the state was last written. */
  manifest: { time?: string; magic?: string; version?: string };
  /** Number of entries in `deployment.resources` (stack, providers and resources). */
  resourceCount: number;
  /** `deployment.secrets_providers.type`: passphrase, service, cloud ... */
  secretsProvider?: string;
  /** For a cloud provider (awskms://, azurekeyvault://, gcpkms://, hashivault://). */
  secretsProviderUrl?: string;
}

export interface BundleManifest {
  format: typeof BUNDLE_FORMAT;
  stack: string;
  createdAt: string;
  /** `pulumi version` of the CLI that exported. */
  pulumiVersion?: string;
  checkpoint: CheckpointInfo;
  /** Convenience copy of `checkpoint.resourceCount`. */
  resourceCount: number;
  files: BundleFile[];
}

export class BundleError extends Error {
  constructor(
    readonly bundle: string,
    readonly problems: string[],
  ) {
    super(
      `DR bundle ${bundle} is not usable:\n  - ${problems.join("\n  - ")}\n` +
        "Refusing to use it. Take another bundle (or re-export from a healthy state).",
    );
    this.name = "BundleError";
  }
}

/** `org/project/prod` -> `prod`: the name in `Pulumi.<name>.yaml`. */
export function shortStackName(stack: string): string {
  return stack.split("/").pop() ?? stack;
}

export function validateStackName(stack: string | undefined): string | undefined {
  if (!stack) return "missing the stack name";
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9_.-]+){0,2}$/.test(stack)) {
    return `"${stack}" is not a stack name (letters, digits, '-', '_', '.', optionally org/project/stack)`;
  }
  return undefined;
}

export function stackConfigFileName(stack: string): string {
  return `Pulumi.${shortStackName(stack)}.yaml`;
}

/** `20250301T031500Z`, the same UTC stamp the database backups use. */
export function utcStamp(date: Date): string {
  return date
    .toISOString()
    .replace(/\.\d{3}Z$/, "Z")
    .replace(/[-:]/g, "");
}

export function bundleDirName(stack: string, date: Date): string {
  return `${stack.replace(/\//g, "_")}-${utcStamp(date)}`;
}

export function sha256File(file: string): string {
  return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

export function describeFile(dir: string, name: string): BundleFile {
  const file = path.join(dir, name);
  return { name, bytes: fs.statSync(file).size, sha256: sha256File(file) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Paths (`deployment.resources[3].outputs.password`) of secrets stored in plaintext. */
export function plaintextSecretPaths(value: unknown, at = "$"): string[] {
  if (Array.isArray(value)) return value.flatMap((item, i) => plaintextSecretPaths(item, `${at}[${i}]`));
  if (!isObject(value)) return [];
  if (value[SECRET_SIG_KEY] === SECRET_SIG_VALUE && "plaintext" in value) return [at];
  return Object.entries(value).flatMap(([k, v]) => plaintextSecretPaths(v, `${at}.${k}`));
}

/**
 * Reads what the manifest records from a `pulumi stack export`; throws when the text
 * is not an export or holds decrypted secrets (an export made with --show-secrets).
 */
export function inspectExport(text: string): CheckpointInfo {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new Error(`not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!isObject(parsed) || typeof parsed.version !== "number" || !isObject(parsed.deployment)) {
    throw new Error("not a Pulumi stack export (expected { version, deployment })");
  }
  const deployment = parsed.deployment;
  const resources = deployment.resources ?? [];
  if (!Array.isArray(resources)) throw new Error("deployment.resources is not a list");
  const manifest = isObject(deployment.manifest) ? deployment.manifest : {};
  const plaintext = plaintextSecretPaths(parsed);
  if (plaintext.length > 0) {
    throw new Error(
      `holds ${plaintext.length} decrypted secret(s) (first at ${plaintext[0]}): it was exported with --show-secrets; ` +
        "export again without it",
    );
  }
  const providers = isObject(deployment.secrets_providers) ? deployment.secrets_providers : undefined;
  const providerState = providers && isObject(providers.state) ? providers.state : undefined;
  return {
    version: parsed.version,
    manifest: {
      ...(typeof manifest.time === "string" ? { time: manifest.time } : {}),
      ...(typeof manifest.magic === "string" ? { magic: manifest.magic } : {}),
      ...(typeof manifest.version === "string" ? { version: manifest.version } : {}),
    },
    resourceCount: resources.length,
    ...(providers && typeof providers.type === "string" ? { secretsProvider: providers.type } : {}),
    ...(providerState && typeof providerState.url === "string" ? { secretsProviderUrl: providerState.url } : {}),
  };
}

/** Builds the manifest of a bundle directory that already holds the export and the stack config. */
export function buildManifest(options: { dir: string; stack: string; createdAt: Date; pulumiVersion?: string }): BundleManifest {
  const configName = stackConfigFileName(options.stack);
  const checkpoint = inspectExport(fs.readFileSync(path.join(options.dir, EXPORT_FILE), "utf8"));
  return {
    format: BUNDLE_FORMAT,
    stack: options.stack,
    createdAt: options.createdAt.toISOString(),
    ...(options.pulumiVersion ? { pulumiVersion: options.pulumiVersion } : {}),
    checkpoint,
    resourceCount: checkpoint.resourceCount,
    files: [describeFile(options.dir, EXPORT_FILE), describeFile(options.dir, configName)],
  };
}

export function writeManifest(dir: string, manifest: BundleManifest): void {
  fs.writeFileSync(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`, { mode: 0o600 });
}

function isSafeName(name: unknown): name is string {
  return typeof name === "string" && /^[A-Za-z0-9_.-]+$/.test(name) && name !== "." && name !== "..";
}

/**
 * Checks a bundle: manifest present and well-formed, every listed file present with
 * the recorded size and sha256, no unlisted files, the export consistent with the
 * manifest and free of plaintext secrets. Returns the manifest or throws a
 * BundleError naming every problem (and the file it is in).
 */
export function verifyBundle(dir: string): BundleManifest {
  const problems: string[] = [];
  const fail = (): never => {
    throw new BundleError(dir, problems);
  };
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) {
    problems.push(`${dir} is not a directory`);
    fail();
  }
  const manifestPath = path.join(dir, MANIFEST_FILE);
  if (!fs.existsSync(manifestPath)) {
    problems.push(`${MANIFEST_FILE} is missing`);
    fail();
  }
  let manifest: unknown;
  try {
    manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8"));
  } catch (error) {
    problems.push(`${MANIFEST_FILE} is not valid JSON (${(error as Error).message})`);
    fail();
  }
  if (!isObject(manifest) || manifest.format !== BUNDLE_FORMAT) {
    problems.push(`${MANIFEST_FILE} is not a ${BUNDLE_FORMAT} manifest`);
    fail();
  }
  const m = manifest as unknown as BundleManifest;
  if (typeof m.stack !== "string" || validateStackName(m.stack)) problems.push(`${MANIFEST_FILE}: bad stack name`);
  if (!Array.isArray(m.files)) {
    problems.push(`${MANIFEST_FILE}: no file list`);
    fail();
  }
  if (!isObject(m.checkpoint)) problems.push(`${MANIFEST_FILE}: no checkpoint information`);

  const listed = new Set<string>();
  for (const entry of m.files) {
    if (!isObject(entry) || !isSafeName(entry.name)) {
      problems.push(`${MANIFEST_FILE}: file entry ${JSON.stringify(entry)} has no safe file name`);
      continue;
    }
    listed.add(entry.name);
    const file = path.join(dir, entry.name);
    if (!fs.existsSync(file)) {
      problems.push(`${entry.name} is missing`);
      continue;
    }
    const actual = describeFile(dir, entry.name);
    if (actual.bytes !== entry.bytes) {
      problems.push(`${entry.name} has ${actual.bytes} bytes, the manifest says ${String(entry.bytes)}: it was modified or truncated`);
    }
    if (actual.sha256 !== entry.sha256) {
      problems.push(
        `${entry.name} does not match its sha256 in the manifest (${actual.sha256} != ${String(entry.sha256)}): it was modified or damaged`,
      );
    }
  }
  if (!listed.has(EXPORT_FILE)) problems.push(`${MANIFEST_FILE} does not list ${EXPORT_FILE}`);
  if (typeof m.stack === "string" && !listed.has(stackConfigFileName(m.stack))) {
    problems.push(`${MANIFEST_FILE} does not list ${stackConfigFileName(m.stack)} (the stack config with the encryption salt)`);
  }
  for (const name of fs.readdirSync(dir)) {
    if (name !== MANIFEST_FILE && !listed.has(name))
      problems.push(`${name} is not listed in ${MANIFEST_FILE}: the bundle was tampered with`);
  }
  if (problems.length === 0) {
    try {
      const checkpoint = inspectExport(fs.readFileSync(path.join(dir, EXPORT_FILE), "utf8"));
      if (checkpoint.version !== m.checkpoint.version) {
        problems.push(`${EXPORT_FILE}: checkpoint version ${checkpoint.version} differs from the manifest's ${m.checkpoint.version}`);
      }
      if (checkpoint.resourceCount !== m.resourceCount) {
        problems.push(`${EXPORT_FILE}: ${checkpoint.resourceCount} resources, the manifest says ${m.resourceCount}`);
      }
    } catch (error) {
      problems.push(`${EXPORT_FILE}: ${(error as Error).message}`);
    }
  }
  if (problems.length > 0) fail();
  return m;
}

/** Where the CLI would be when PULUMI_HOME is honoured (default ~/.pulumi). */
export function pulumiHomeBin(env: NodeJS.ProcessEnv): string {
  const home = env.PULUMI_HOME || path.join(env.HOME || os.homedir(), ".pulumi");
  return path.join(home, "bin", "pulumi");
}

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** The Pulumi CLI on PATH, else at $PULUMI_HOME/bin/pulumi; undefined when absent. */
export function findPulumiCli(env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? "").split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, "pulumi"))) return path.join(dir, "pulumi");
  }
  const fallback = pulumiHomeBin(env);
  return isExecutable(fallback) ? fallback : undefined;
}

export function pulumiMissingMessage(env: NodeJS.ProcessEnv = process.env): string {
  return [
    "The Pulumi CLI was not found: it is not on PATH and not at " +
      `${pulumiHomeBin(env)} ($PULUMI_HOME/bin/pulumi${env.PULUMI_HOME ? "" : ", PULUMI_HOME unset so ~/.pulumi"}).`,
    "Install it (Pulumi's installation docs): e.g. `curl -fsSL https://get.pulumi.com | sh`, which installs into ~/.pulumi/bin,",
    'or `brew install pulumi/tap/pulumi`; then put it on PATH: `export PATH="$HOME/.pulumi/bin:$PATH"`',
    "(or set PULUMI_HOME to the directory that holds bin/pulumi) and run this command again.",
  ].join("\n");
}

/** `Pulumi.<stack>.yaml`'s `encryptionsalt:` value, if any. */
export function encryptionSalt(yamlText: string): string | undefined {
  const match = /^encryptionsalt:\s*(\S+)\s*$/m.exec(yamlText);
  return match ? match[1].replace(/^["']|["']$/g, "") : undefined;
}
