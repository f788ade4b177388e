/**
 * Fixtures for the DR bundle tests: a stack export shaped like `pulumi stack export`
 * writes it (checkpoint version 3, secrets as ciphertext), a stack config with an
 * encryption salt, and a fake `pulumi` executable for the flow tests. The fake records
 * its arguments and implements just `version`, `stack export --file`, `stack select`
 * and `stack import --file`; the real CLI is not installable in this workplace.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

const SIG = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270" };

export function stackExport(options: { plaintextSecret?: boolean; stack?: string } = {}): string {
  const stack = options.stack ?? "prod";
  const urn = (type: string, name: string) => `urn:pulumi:${stack}::ballast::${type}::${name}`;
  const secret = options.plaintextSecret
    ? { ...SIG, plaintext: '"hunter2"' }
    : { ...SIG, ciphertext: "v1:Zm9vYmFyYmF6:c2VjcmV0LWNpcGhlcnRleHQtb2YtdGhlLXBhc3N3b3Jk" };
  return `${JSON.stringify(
    {
      version: 3,
      deployment: {
        manifest: { time: "2026-11-20T10:00:00.000Z", magic: "0d1f5c7b0e4f", version: "v3.259.0" },
        secrets_providers: { type: "passphrase", state: { salt: "v1:c2FsdHNhbHQ=:v1:aGVsbG8=:d29ybGQ=" } },
        resources: [
          { urn: urn("pulumi:pulumi:Stack", `ballast-${stack}`), custom: false, type: "pulumi:pulumi:Stack" },
          {
            urn: urn("pulumi:providers:random", "default_4_16_7"),
            custom: true,
            id: "1b6f0f6a",
            type: "pulumi:providers:random",
          },
          {
            urn: urn("random:index/randomPassword:RandomPassword", "postgres-password"),
            custom: true,
            id: "none",
            type: "random:index/randomPassword:RandomPassword",
            outputs: { length: 32, result: secret },
          },
          {
            urn: urn("ballast:backups:Backups", "backups"),
            custom: false,
            type: "ballast:backups:Backups",
          },
        ],
      },
    },
    null,
    4,
  )}\n`;
}

export function stackConfig(salt = "v1:c2FsdHNhbHQ=:v1:aGVsbG8=:d29ybGQ="): string {
  return [`encryptionsalt: ${salt}`, "config:", "  ballast:environment: prod", "  ballast:backups:", "    rpoHours: 24", ""].join("\n");
}

/** A fake `pulumi` in a fresh bin directory; returns the directory and the log file. */
export function fakePulumi(exportText: string): { binDir: string; log: string; stateDir: string } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "ballast-fake-pulumi-"));
  const binDir = path.join(base, "bin");
  const stateDir = path.join(base, "state");
  fs.mkdirSync(binDir);
  fs.mkdirSync(stateDir);
  const exportFile = path.join(base, "export.json");
  fs.writeFileSync(exportFile, exportText);
  const log = path.join(base, "calls.log");
  fs.writeFileSync(log, "");
  fs.writeFileSync(
    path.join(binDir, "pulumi"),
    [
      "#!/usr/bin/env bash",
      "set -euo pipefail",
      `printf '%s\\n' "$*" >> ${JSON.stringify(log)}`,
      'file=""; stack=""',
      'args=("$@")',
      "for ((i = 0; i < ${#args[@]}; i++)); do",
      '  case "${args[i]}" in',
      '    --file) file="${args[i+1]}" ;;',
      '    --stack) stack="${args[i+1]}" ;;',
      "  esac",
      "done",
      'case "$1 ${2:-}" in',
      '  "version ") echo v3.259.0 ;;',
      `  "stack export") cp ${JSON.stringify(exportFile)} "$file" ;;`,
      '  "stack select") exit 0 ;;',
      `  "stack import") cp "$file" ${JSON.stringify(stateDir)}/"$stack".json ;;`,
      '  *) echo "fake pulumi: unsupported: $*" >&2; exit 64 ;;',
      "esac",
      "",
    ].join("\n"),
    { mode: 0o755 },
  );
  return { binDir, log, stateDir };
}
