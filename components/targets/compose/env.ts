/**
 * The release's `.env` (secret values, mode 0600 on the host) and `.env.example`
 * (names and descriptions only, safe to review).
 *
 * Values are written single-quoted: docker compose v2 reads them literally (no `$`
 * interpolation, no escapes) except `\'`, which stands for a quote. Two shapes have no
 * unambiguous single-quoted form in that grammar, a backslash right before a quote and
 * a trailing backslash, so such a value is refused (naming the secret, never the value).
 */
import * as pulumi from "@pulumi/pulumi";
import { restartingSecretFiles, secretEnvName, type SecretName, type StackModel, type WorkloadSpec } from "../../spec";
import type { SecretValues } from "../target";
import { secretFilesHashVariable, sha256Hex } from "./render";

/** Secrets read through `.env` (secret env vars), sorted by variable name. */
export function envSecrets(model: StackModel): SecretName[] {
  const names = new Set(model.workloads.flatMap((w) => Object.values(w.secretEnv)));
  return [...names].sort((a, b) => secretEnvName(a).localeCompare(secretEnvName(b)));
}

/** Secrets mounted as files (`./secrets/<name>`), sorted. */
export function fileSecrets(model: StackModel): SecretName[] {
  return [...new Set(model.workloads.flatMap((w) => w.secretFiles.map((f) => f.secret)))].sort();
}

/** One `NAME='value'` line in docker compose's `.env` grammar. */
export function dotenvLine(variable: string, value: string, secretName: string): string {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(variable)) throw new Error(`.env variable "${variable}" must be upper-case letters, digits and _`);
  if (/\\'|\\$/.test(value) || value.includes("\0")) {
    throw new Error(
      `secret ${secretName} cannot be written to .env: a backslash right before a quote or at the end ` +
        `(or a NUL byte) has no unambiguous form in docker compose's .env syntax; change the value`,
    );
  }
  return `${variable}='${value.replace(/'/g, "\\'")}'`;
}

function secretFilesHash(workload: WorkloadSpec, values: Record<SecretName, string>): string {
  const parts = [...restartingSecretFiles(workload)]
    .sort((a, b) => a.mountPath.localeCompare(b.mountPath))
    .map((file) => `${file.secret}\0${file.mountPath}\0${values[file.secret]}`);
  return sha256Hex(parts.join("\0\0"));
}

function requireValues(names: SecretName[], values: Record<SecretName, unknown>): void {
  const missing = names.filter((name) => values[name] === undefined);
  if (missing.length > 0) throw new Error(`compose target: no value for secret(s) ${missing.join(", ")}`);
}

/** The `.env` text from plain values; only ever called inside an Output of secrets. */
export function renderEnvText(model: StackModel, values: Record<SecretName, string>): string {
  const secrets = envSecrets(model);
  const withFiles = model.workloads.filter((w) => restartingSecretFiles(w).length > 0);
  requireValues([...secrets, ...fileSecrets(model)], values);
  const lines = ["# Written by Ballast at deploy time. Secret: mode 0600, never print or commit."];
  for (const secret of secrets) lines.push(dotenvLine(secretEnvName(secret), values[secret], secret));
  for (const workload of withFiles) {
    lines.push(dotenvLine(secretFilesHashVariable(workload), secretFilesHash(workload, values), `files of ${workload.name}`));
  }
  return `${lines.join("\n")}\n`;
}

/** The `.env` as a Pulumi secret Output. */
export function renderEnvFile(model: StackModel, secrets: SecretValues): pulumi.Output<string> {
  const names = [...new Set([...envSecrets(model), ...fileSecrets(model)])];
  requireValues(names, secrets);
  const values = pulumi.all(Object.fromEntries(names.map((name) => [name, secrets[name]])));
  return pulumi.secret(values.apply((plain) => renderEnvText(model, plain)));
}

function usersOf(model: StackModel, secret: SecretName): string {
  const users = model.workloads
    .filter((w) => Object.values(w.secretEnv).includes(secret) || w.secretFiles.some((f) => f.secret === secret))
    .map((w) => w.name);
  return users.join(", ");
}

/** `.env.example`: every name the real `.env` holds, with what it is for; no values. */
export function renderEnvExample(model: StackModel): string {
  const described = new Map(model.secrets.map((s) => [s.name, s] as const));
  const describe = (secret: SecretName): string[] => {
    const spec = described.get(secret);
    const lines = spec
      ? [`# ${secret}: ${spec.description} (rotation: ${spec.rotation}${spec.immutable ? "; never change once data exists" : ""})`]
      : [`# ${secret}: not declared in the stack's secret set`];
    lines.push(`# used by: ${usersOf(model, secret)}`);
    return lines;
  };
  const lines = [
    "# Names docker compose reads from this release's .env. The real .env is written by the deploy",
    "# (mode 0600, values from Pulumi secrets); this file only documents it.",
  ];
  for (const secret of envSecrets(model)) lines.push("", ...describe(secret), `${secretEnvName(secret)}=`);
  const files = fileSecrets(model);
  if (files.length > 0) {
    lines.push("", "# Secret files (./secrets/<name>, mounted read-only via compose secrets):");
    for (const secret of files) lines.push(...describe(secret).map((line) => line.replace(/^# /, "#   ")));
    for (const workload of model.workloads.filter((w) => restartingSecretFiles(w).length > 0)) {
      lines.push(
        `# sha256 of ${workload.name}'s secret files: a rotation recreates its containers`,
        `${secretFilesHashVariable(workload)}=`,
      );
    }
  }
  return `${lines.join("\n")}\n`;
}
