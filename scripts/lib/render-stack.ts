/**
 * Renders a stack exactly as `pulumi up` would declare it, under mocks: loads the stack
 * file, runs the program (config -> Platform -> target), and returns the target's files.
 */
import { performance } from "node:perf_hooks";
import {
  BACKUP_ENCRYPTION_IDENTITY_SECRET,
  BACKUP_S3_SECRETS,
  receiverNeedsSecret,
  receiverSecretName,
  type ReceiverConfig,
} from "../../components/config";
import type { RenderedFile } from "../../components/targets/target";
import { drainRegistrations, installMocks, type ResourceRecorder } from "./mock-program";
import { readStackFile, readStackFileAt, type StackFile } from "./stack-files";

export interface RenderedStack {
  stack: string;
  target: "compose" | "kubernetes";
  files: RenderedFile[];
  recorder: ResourceRecorder;
  /** Secrets without a value in the stack file, filled with placeholders for the render. */
  placeholderSecrets: string[];
  model: import("../../components/spec").StackModel;
  milliseconds: number;
}

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function jsonValue(raw: Record<string, string>, key: string): JsonObject {
  try {
    const value: unknown = raw[key] ? JSON.parse(raw[key]) : undefined;
    return isObject(value) ? value : {};
  } catch {
    return {};
  }
}

/**
 * Built-in secrets that are only ever supplied (never generated) and that the stack file asks
 * for by using the feature that reads them: an external database's URL, the registry token,
 * the offsite bucket's keys, the Alertmanager receiver's credential.
 */
function suppliedBuiltinsAskedFor(raw: Record<string, string>): string[] {
  const names: string[] = [];
  if (jsonValue(raw, "ballast:postgres").external === true) names.push("database-url");
  if (typeof jsonValue(raw, "ballast:registry").username === "string") names.push("registry-password");
  const backups = jsonValue(raw, "ballast:backups");
  if (isObject(backups.s3)) names.push(BACKUP_S3_SECRETS.accessKeyId, BACKUP_S3_SECRETS.secretAccessKey);
  if (isObject(backups.encryption) && !(isObject(backups.drill) && backups.drill.enabled === false))
    names.push(BACKUP_ENCRYPTION_IDENTITY_SECRET);
  const alertmanager = jsonValue(raw, "ballast:monitoring").alertmanager;
  const receiver = isObject(alertmanager) ? alertmanager.receiver : undefined;
  // The receiver's own defaults (webhook auth "bearer"), as the config pipeline merges them.
  if (isObject(receiver) && receiverNeedsSecret({ auth: "bearer", requireTls: true, ...receiver } as unknown as ReceiverConfig))
    names.push("alertmanager-receiver");
  const receivers = isObject(alertmanager) && isObject(alertmanager.receivers) ? alertmanager.receivers : {};
  for (const [name, named] of Object.entries(receivers)) {
    if (isObject(named) && receiverNeedsSecret({ auth: "bearer", requireTls: true, ...named } as unknown as ReceiverConfig))
      names.push(receiverSecretName(name));
  }
  return names;
}

/**
 * Secret values live only in an encrypted stack file or a CI secret; a render fills the
 * missing ones with a placeholder so the declaration can still be read: every secret declared
 * under ballast:secrets, and the supplied-only built-ins the file's features need.
 */
export function withSecretPlaceholders(raw: Record<string, string>): { raw: Record<string, string>; placeholders: string[] } {
  const declared = Object.keys(jsonValue(raw, "ballast:secrets"));
  const supplied = jsonValue(raw, "ballast:secretValues") as Record<string, string>;
  const placeholders = [...declared, ...suppliedBuiltinsAskedFor(raw)].filter((name) => !(name in supplied));
  if (placeholders.length === 0) return { raw, placeholders };
  const values = { ...supplied, ...Object.fromEntries(placeholders.map((name) => [name, `render-placeholder-${name}`])) };
  return { raw: { ...raw, "ballast:secretValues": JSON.stringify(values) }, placeholders };
}

/**
 * Pulumi's mocks and config are process-global: one program at a time. Renders started
 * together (Promise.all, concurrent tests) run one after the other.
 */
let renderQueue: Promise<unknown> = Promise.resolve();

function oneAtATime<T>(run: () => Promise<T>): Promise<T> {
  const result = renderQueue.then(run, run);
  renderQueue = result.catch(() => undefined);
  return result;
}

/** How the program is run, besides the stack file. */
export interface RenderOptions {
  /** The Platform's name (index.ts: "ballast"): every resource Ballast declares is named after it. */
  platformName?: string;
}

async function renderFile(file: StackFile, overrides: Record<string, string>, options: RenderOptions = {}): Promise<RenderedStack> {
  const started = performance.now();
  const { stack } = file;
  const { raw, placeholders } = withSecretPlaceholders({ ...file.raw, ...overrides });
  try {
    const recorder = await installMocks(stack, raw, [...file.secretKeys, "ballast:secretValues", "ballast:sshPrivateKey"]);
    const { platformArgsFromStackConfig } = await import("../../components/config");
    const { Platform } = await import("../../components/platform");
    const platform = new Platform(options.platformName ?? "ballast", platformArgsFromStackConfig());
    const { config } = platform;
    const files = platform.target.render(platform.model);
    await drainRegistrations();
    return {
      stack,
      target: config.target,
      files,
      recorder,
      placeholderSecrets: placeholders,
      model: platform.model,
      milliseconds: performance.now() - started,
    };
  } catch (error) {
    // The next program in this process must not receive this one's late RPCs.
    await drainRegistrations();
    throw error;
  }
}

/** Renders `Pulumi.<stack>.yaml` of the project. */
export function renderStack(stack: string, overrides: Record<string, string> = {}, options: RenderOptions = {}): Promise<RenderedStack> {
  return oneAtATime(() => renderFile(readStackFile(stack), overrides, options));
}

/**
 * Renders a stack file at any path (examples/<system>/Pulumi.compose.yaml) as the stack
 * `stack` (default: the `<stack>` of its `Pulumi.<stack>.yaml` name), as
 * `pulumi up --stack <stack> --config-file <path>` would.
 */
export function renderStackFile(
  path: string,
  stack?: string,
  overrides: Record<string, string> = {},
  options: RenderOptions = {},
): Promise<RenderedStack> {
  return oneAtATime(() => renderFile(readStackFileAt(path, stack), overrides, options));
}
