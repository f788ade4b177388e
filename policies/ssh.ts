/**
 * SSH host keys are pinned for staging and prod.
 *
 * `@pulumi/command` accepts ANY host key when `connection.hostKey` is missing, so the
 * first deploy to a re-imaged, DNS-hijacked or man-in-the-middled address hands the
 * release bundle (with its .env of secrets) to whoever answers. Every `command:remote:*`
 * resource (Command, CopyFile, CopyToRemote) must carry a non-empty `connection.hostKey`,
 * and its dial attempts must be bounded (`dialErrorLimit` -1 retries forever).
 */
import { resourcePolicy } from "./lib/policy";
import { asObject, asString, isUnknown } from "./lib/values";
import { environmentConfigSchema, environmentOf, type ResourceView } from "./lib/view";

export interface SshConfig {
  /** Overrides the environment derived from the stack name. */
  environment?: string;
  /** Environments in which the host key must be pinned. */
  environments: string[];
}

export const sshDefaults: SshConfig = { environments: ["staging", "prod"] };

export function checkSsh(resource: ResourceView, config: SshConfig): string[] {
  if (!resource.type.startsWith("command:remote:")) return [];
  const connection = asObject(resource.props.connection);
  if (!connection) return [];
  const environment = environmentOf(resource.urn, config.environment);
  if (!config.environments.includes(environment)) return [];
  const where = `${resource.type.slice("command:remote:".length)} "${resource.name}" (${asString(connection.user) ?? "?"}@${asString(connection.host) ?? "?"})`;
  const messages: string[] = [];
  const hostKey = connection.hostKey;
  if (!isUnknown(hostKey) && (typeof hostKey !== "string" || hostKey.trim() === "")) {
    messages.push(
      `${where}: connection.hostKey is ${hostKey === undefined ? "missing" : "empty"}, so any host key is accepted (${environment}); pin it: ballast:compose.ssh.hostKey from "ssh-keyscan -t ed25519 <host>"`,
    );
  }
  if (connection.dialErrorLimit === -1) {
    messages.push(`${where}: connection.dialErrorLimit is -1 (retry forever); bound it so an unreachable host fails the update`);
  }
  return messages;
}

export const sshHostKeyPinned = resourcePolicy<SshConfig>({
  name: "ssh-host-key-pinned",
  description: "Remote commands (command:remote:*) pin the SSH host key (connection.hostKey) in staging and prod, and bound their dial attempts.",
  enforcementLevel: "mandatory",
  defaults: sshDefaults,
  configSchema: {
    properties: {
      environment: environmentConfigSchema,
      environments: { type: "array", items: { type: "string", enum: ["dev", "staging", "prod"] }, description: "Environments that must pin the host key." },
    },
  },
  check: checkSsh,
});
