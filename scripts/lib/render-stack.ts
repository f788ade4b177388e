/**
 * Renders a stack exactly as `pulumi up` would declare it, under mocks: loads the stack
 * file, runs the program (config -> Platform -> target), and returns the target's files.
 */
import { performance } from "node:perf_hooks";
import type { RenderedFile } from "../../components/targets/target";
import { drainRegistrations, installMocks, type ResourceRecorder } from "./mock-program";
import { readStackFile } from "./stack-files";

export interface RenderedStack {
  stack: string;
  target: "compose" | "kubernetes";
  files: RenderedFile[];
  recorder: ResourceRecorder;
  /** Declared secrets without a value in the stack file, filled with placeholders for the render. */
  placeholderSecrets: string[];
  model: import("../../components/spec").StackModel;
  milliseconds: number;
}

/**
 * Declared user secrets have their values only in an encrypted stack file or a CI secret;
 * a render fills the missing ones with a placeholder so the declaration can still be read.
 */
export function withSecretPlaceholders(raw: Record<string, string>): { raw: Record<string, string>; placeholders: string[] } {
  const declared = raw["ballast:secrets"] ? Object.keys(JSON.parse(raw["ballast:secrets"]) as object) : [];
  const supplied = raw["ballast:secretValues"] ? (JSON.parse(raw["ballast:secretValues"]) as Record<string, string>) : {};
  const placeholders = declared.filter((name) => !(name in supplied));
  if (placeholders.length === 0) return { raw, placeholders };
  const values = { ...supplied, ...Object.fromEntries(placeholders.map((name) => [name, `render-placeholder-${name}`])) };
  return { raw: { ...raw, "ballast:secretValues": JSON.stringify(values) }, placeholders };
}

export async function renderStack(stack: string, overrides: Record<string, string> = {}): Promise<RenderedStack> {
  const started = performance.now();
  const file = readStackFile(stack);
  const { raw, placeholders } = withSecretPlaceholders({ ...file.raw, ...overrides });
  const recorder = await installMocks(stack, raw, [...file.secretKeys, "ballast:secretValues", "ballast:sshPrivateKey"]);
  const { readPlatformConfig } = await import("../../components/config");
  const { Platform } = await import("../../components/platform");
  const { config, secrets } = readPlatformConfig();
  const platform = new Platform("ballast", { config, secrets });
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
}
