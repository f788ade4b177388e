/**
 * SSH host keys are pinned for staging and prod.
 *
 * `@pulumi/command` accepts ANY host key when `connection.hostKey` is missing, so the
 * first deploy to a re-imaged, DNS-hijacked or man-in-the-middled address hands the
 * release bundle (with its .env of secrets) to whoever answers. Every `command:remote:*`
 * resource (Command, CopyFile, CopyToRemote) must carry a non-empty `connection.hostKey`,
 * and its dial attempts must be bounded (`dialErrorLimit` -1 retries forever).
 */
import { resourcePolicy, stackPolicy } from "./lib/policy";
import { asObject, asString, isUnknown } from "./lib/values";
import { environmentConfigSchema, environmentOf, type ResourceView, type StackFinding } from "./lib/view";

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
  description:
    "Remote commands (command:remote:*) pin the SSH host key (connection.hostKey) in staging and prod, and bound their dial attempts.",
  enforcementLevel: "mandatory",
  defaults: sshDefaults,
  configSchema: {
    properties: {
      environment: environmentConfigSchema,
      environments: {
        type: "array",
        items: { type: "string", enum: ["dev", "staging", "prod"] },
        description: "Environments that must pin the host key.",
      },
    },
  },
  check: checkSsh,
});

/**
 * `ssh-bootstrap-key-separate`: the host bootstrap (`<platform>-host-bootstrap`, root once, and
 * `<platform>-host-converge`, the admin user with sudo) never logs in with the release's key or
 * as its user. One key for both would let whoever holds the deploy key (CI) change the host as
 * root, and would need root logins left on (docs/security.md, finding 8). Keys are compared when
 * both are known; the message never shows one.
 */
const bootstrapNames = /-host-(bootstrap|converge)$/;
const releaseNames = /-release$/;

interface RemoteLogin {
  resource: ResourceView;
  user?: string;
  host?: string;
  privateKey?: string;
}

function remoteLogins(resources: ResourceView[], names: RegExp): RemoteLogin[] {
  return resources
    .filter((r) => r.type === "command:remote:Command" && names.test(r.name))
    .map((resource) => {
      const connection = asObject(resource.props.connection) ?? {};
      const key = connection.privateKey;
      return {
        resource,
        user: asString(connection.user),
        host: asString(connection.host),
        privateKey: typeof key === "string" && !isUnknown(key) && key.trim() !== "" ? key.trim() : undefined,
      };
    });
}

export function checkBootstrapKey(resources: ResourceView[], config: SshConfig): StackFinding[] {
  const environment = environmentOf(resources[0]?.urn, config.environment);
  if (!config.environments.includes(environment)) return [];
  const releases = remoteLogins(resources, releaseNames);
  const findings: StackFinding[] = [];
  for (const bootstrap of remoteLogins(resources, bootstrapNames)) {
    const where = `Command "${bootstrap.resource.name}" (${bootstrap.user ?? "?"}@${bootstrap.host ?? "?"})`;
    for (const release of releases.filter((r) => r.host === bootstrap.host)) {
      const other = `Command "${release.resource.name}" (${release.user ?? "?"}@${release.host ?? "?"})`;
      if (bootstrap.user !== undefined && bootstrap.user === release.user) {
        findings.push({
          urn: bootstrap.resource.urn,
          message: `${where}: logs in as ${bootstrap.user}, the user of ${other}; the bootstrap has a user of its own (ballast:compose.bootstrap.adminUser) (${environment})`,
        });
      }
      if (bootstrap.privateKey !== undefined && bootstrap.privateKey === release.privateKey) {
        findings.push({
          urn: bootstrap.resource.urn,
          message: `${where}: logs in with the same private key as ${other}, so the deploy key is root on the host (${environment}); give the bootstrap its own key: ballast:bootstrapSshPrivateKey, its .pub in ballast:compose.bootstrap.adminKeys`,
        });
      }
    }
  }
  return findings;
}

export const sshBootstrapKeySeparate = stackPolicy<SshConfig>({
  name: "ssh-bootstrap-key-separate",
  description:
    "The Compose host bootstrap (root once, then its admin user) logs in with a key and user of its own, never the release's, in staging and prod.",
  enforcementLevel: "mandatory",
  defaults: sshDefaults,
  configSchema: {
    properties: {
      environment: environmentConfigSchema,
      environments: {
        type: "array",
        items: { type: "string", enum: ["dev", "staging", "prod"] },
        description: "Environments in which the bootstrap needs its own key.",
      },
    },
  },
  check: checkBootstrapKey,
});
