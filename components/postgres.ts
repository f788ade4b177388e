/**
 * Postgres with pgvector: extensions created at init (vector first, before any table
 * that uses it), the stack's init SQL (e.g. RLS policies), scram-sha-256 auth,
 * `pg_isready` health, and retained persistent storage.
 */
import * as pulumi from "@pulumi/pulumi";
import type { PlatformConfig } from "./config";
import { POSTGRES_PORT, stackEndpoints } from "./names";
import { resourceSpec } from "./resources";
import { healthCheck, runAs, workload, type WorkloadSpec } from "./spec";

/** Pure: SQL run once at initialisation: extensions first, then the stack's own SQL. */
export function postgresInitSql(extensions: string[], initSql: string): { name: string; content: string }[] {
  const ordered = ["vector", ...extensions.filter((e) => e !== "vector")].filter((e) => extensions.includes(e));
  const files = [
    {
      name: "00-extensions.sql",
      content: `-- Rendered by Ballast: extensions exist before any table that uses them.\n${ordered
        .map((e) => `CREATE EXTENSION IF NOT EXISTS ${e};`)
        .join("\n")}\n`,
    },
  ];
  if (initSql.trim()) files.push({ name: "10-init.sql", content: initSql.endsWith("\n") ? initSql : `${initSql}\n` });
  return files;
}

/** Where Postgres reads its role password: a live secret file (see `postgresSpec`). */
export const POSTGRES_PASSWORD_DIR = "/run/ballast/live";
export const POSTGRES_PASSWORD_FILE = `${POSTGRES_PASSWORD_DIR}/postgres-password`;
/** The script that sets the application role's password to the one on stdin (on the image's PATH). */
export const POSTGRES_SET_PASSWORD = "/usr/local/bin/ballast-postgres-rotate";

/**
 * Sets the application role's password to the value on stdin, over the container-private Unix
 * socket (local connections are trusted; TCP requires scram-sha-256). The password travels as
 * an environment variable into psql's \getenv, never on a command line, and is never printed.
 * The one SQL statement a rotation runs: `ALTER ROLE <user> WITH PASSWORD <new>`. Existing
 * sessions keep working; new ones need the new password.
 */
export const postgresSetPassword = `#!/bin/sh
# Rendered by Ballast: set the application role's password to the one on stdin (secret rotation).
set -eu
BALLAST_NEW_PASSWORD=""
IFS= read -r BALLAST_NEW_PASSWORD || true
if [ -z "$BALLAST_NEW_PASSWORD" ]; then
  echo "ballast: no password on stdin; the role's password is unchanged" >&2
  exit 2
fi
export BALLAST_NEW_PASSWORD
psql -v ON_ERROR_STOP=1 -q -h /var/run/postgresql -U "$POSTGRES_USER" -d "$POSTGRES_DB" <<'SQL'
\\getenv app_user POSTGRES_USER
\\getenv app_password BALLAST_NEW_PASSWORD
ALTER ROLE :"app_user" WITH PASSWORD :'app_password';
SQL
echo "ballast: application role password is current"
`;

/**
 * Entrypoint wrapper: starts Postgres through the image's own entrypoint, then keeps the
 * application role's password equal to the password file. The data directory keeps the password
 * it was initialised with, so without this a rotated \`postgres-password\` would lock every
 * client out. The file is applied once Postgres is up and again whenever it changes: on
 * Kubernetes the Secret is mounted as a directory the kubelet updates in place, so a rotation
 * reaches the running server without a restart (a gate Job waits for it before the clients
 * roll); on Compose the release applies it with \`docker compose exec\` before the clients roll.
 */
export const postgresEntrypoint = `#!/bin/sh
# Rendered by Ballast: start Postgres, then keep the application role's password current.
set -eu
password_file=\${POSTGRES_PASSWORD_FILE:?POSTGRES_PASSWORD_FILE is not set}
docker-entrypoint.sh "$@" &
postgres_pid=$!

# Applies the password file when it differs from the one last applied; polls every 5 s.
keep_password_current() {
  applied=""
  attempts=0
  until pg_isready -q -h /var/run/postgresql -U "$POSTGRES_USER" -d "$POSTGRES_DB"; do
    attempts=$((attempts + 1))
    if [ "$attempts" -ge 600 ]; then
      echo "ballast: postgres did not become ready; password not re-applied" >&2
      return 0
    fi
    sleep 1
  done
  # The image's first start runs init scripts on a temporary server: give the real one time to come up.
  sleep 2
  while :; do
    current=$(cksum <"$password_file" 2>/dev/null) || current=""
    if [ -n "$current" ] && [ "$current" != "$applied" ] && pg_isready -q -h /var/run/postgresql -U "$POSTGRES_USER" -d "$POSTGRES_DB"; then
      if ballast-postgres-rotate <"$password_file"; then applied=$current; fi
    fi
    sleep 5
  done
}
keep_password_current &
watcher_pid=$!
trap 'kill -TERM "$postgres_pid" 2>/dev/null || true' TERM INT

# A signal interrupts wait: wait again until Postgres itself has exited, and keep its status.
while :; do
  status=0
  wait "$postgres_pid" || status=$?
  kill -0 "$postgres_pid" 2>/dev/null || break
done
kill "$watcher_pid" 2>/dev/null || true
exit "$status"
`;

/** Pure: the Postgres workload spec. */
export function postgresSpec(config: PlatformConfig): WorkloadSpec {
  const pg = config.postgres;
  return workload({
    name: pg.name,
    component: "postgres",
    role: "stateful",
    description: `PostgreSQL (${pg.image}) with ${pg.extensions.join(", ") || "no extensions"}`,
    image: pg.image,
    command: ["/usr/local/bin/ballast-postgres-entrypoint"],
    args: ["postgres", "-c", `max_connections=${pg.maxConnections}`, "-c", "password_encryption=scram-sha-256"],
    // One process per connection, plus the background workers.
    pidsLimit: Math.max(1024, pg.maxConnections + 256),
    ports: [{ name: "postgres", port: POSTGRES_PORT }],
    env: {
      POSTGRES_DB: pg.database,
      POSTGRES_USER: pg.user,
      // A sub-directory: a fresh volume's lost+found must not sit in the data directory.
      PGDATA: "/var/lib/postgresql/data/pgdata",
      // Local (Unix socket, private to the container) is trusted so the entrypoint can re-apply a rotated password.
      POSTGRES_INITDB_ARGS: "--auth-host=scram-sha-256 --auth-local=trust",
      POSTGRES_HOST_AUTH_METHOD: "scram-sha-256",
      POSTGRES_PASSWORD_FILE: POSTGRES_PASSWORD_FILE,
    },
    // A file, not a variable: the running server takes a rotated password from it without a restart.
    secretFiles: [{ secret: "postgres-password", mountPath: POSTGRES_PASSWORD_FILE }],
    liveSecrets: [{ secret: "postgres-password", apply: [POSTGRES_SET_PASSWORD] }],
    health: healthCheck({ exec: ["pg_isready", "-U", pg.user, "-d", pg.database, "-h", "127.0.0.1"] }, { startPeriodSeconds: 60 }),
    resources: resourceSpec(pg.resources),
    sizedBy: "ballast:postgres.resources",
    volumes: [
      { kind: "persistent", name: "postgres-data", mountPath: "/var/lib/postgresql/data", sizeGiB: pg.storageGiB },
      { kind: "scratch", name: "run", mountPath: "/var/run/postgresql", sizeMiB: 16 },
      { kind: "scratch", name: "tmp", mountPath: "/tmp", sizeMiB: 256 },
    ],
    configFiles: [
      { name: "ballast-postgres-entrypoint", mountPath: "/usr/local/bin/ballast-postgres-entrypoint", content: postgresEntrypoint, mode: 0o555 },
      { name: "ballast-postgres-rotate", mountPath: POSTGRES_SET_PASSWORD, content: postgresSetPassword, mode: 0o555 },
      ...postgresInitSql(pg.extensions, pg.initSql).map((file) => ({
        name: file.name,
        mountPath: `/docker-entrypoint-initdb.d/${file.name}`,
        content: file.content,
      })),
    ],
    network: { fromProxy: false, allowFrom: [], egressInternet: false },
    stopGracePeriodSeconds: 120,
    security: runAs(999, 999, 999),
  });
}

/** Seconds the Kubernetes gate Job waits for Postgres to take a rotated password (kubelet sync plus the 5 s poll). */
export const PASSWORD_CHECK_TIMEOUT_SECONDS = 300;

/** Shell (libpq variables in the environment): retries a TCP login until Postgres accepts PGPASSWORD or `timeoutSeconds` pass. */
export function passwordCheckScript(timeoutSeconds: number): string {
  return [
    "set -u",
    `deadline=$(( $(date +%s) + ${timeoutSeconds} ))`,
    "until out=$(psql -tAc 'select 1' 2>&1); do",
    `  if [ "$(date +%s)" -ge "$deadline" ]; then echo "ballast: Postgres did not accept the current postgres-password within ${timeoutSeconds}s: $out" >&2; exit 1; fi`,
    "  sleep 3",
    "done",
    'echo "ballast: Postgres accepts the current postgres-password"',
  ].join("\n");
}

/**
 * The gate between a rotated password and its clients: connects over TCP with the current
 * secret until Postgres accepts it. On Kubernetes the running server takes the new password
 * from its Secret volume asynchronously (the kubelet refreshes it within about a minute);
 * Deployments and CronJobs start only after the stack's Jobs, so none of the clients switches
 * before Postgres knows their new password. Its revision stamp (`postgres-password=<n>`)
 * makes it a new Job on each rotation.
 */
export function postgresPasswordCheckSpec(config: PlatformConfig): WorkloadSpec {
  const pg = config.postgres;
  const endpoint = stackEndpoints(config).postgres;
  if (endpoint.kind !== "in-stack") throw new Error("the password check is for the stack's own Postgres");
  const timeout = PASSWORD_CHECK_TIMEOUT_SECONDS;
  return workload({
    name: "postgres-password-check",
    component: "postgres",
    role: "job",
    description: "Gate: Postgres accepts the current postgres-password before its clients restart with it",
    image: pg.image,
    command: ["/bin/sh", "-c", passwordCheckScript(timeout)],
    env: { PGHOST: endpoint.host, PGPORT: String(endpoint.port), PGUSER: endpoint.user, PGDATABASE: endpoint.database, PGCONNECT_TIMEOUT: "5" },
    secretEnv: { PGPASSWORD: "postgres-password" },
    resources: { requests: { cpu: 0.05, memoryMiB: 32 }, limits: { cpu: 0.2, memoryMiB: 64 } },
    dependsOn: [pg.name],
    jobTimeoutSeconds: timeout + 60,
    network: { fromProxy: false, allowFrom: [], egressInternet: false },
    security: runAs(999, 999),
  });
}

export class Postgres extends pulumi.ComponentResource {
  /** Absent with an external database (`ballast:postgres.external`). */
  readonly spec?: WorkloadSpec;
  /** Kubernetes only: the gate Job between a rotated password and its clients (`postgresPasswordCheckSpec`). */
  readonly passwordCheck?: WorkloadSpec;
  /** Connection endpoint without credentials (those stay in the `database-url` secret). */
  readonly endpoint: string;

  constructor(name: string, args: { config: PlatformConfig }, opts?: pulumi.ComponentResourceOptions) {
    super("ballast:postgres:Postgres", name, {}, opts);
    const endpoint = stackEndpoints(args.config).postgres;
    this.spec = endpoint.kind === "in-stack" ? postgresSpec(args.config) : undefined;
    // Compose applies a rotated password synchronously before the clients roll (deploy.sh); Kubernetes needs the gate.
    this.passwordCheck = endpoint.kind === "in-stack" && args.config.target === "kubernetes" ? postgresPasswordCheckSpec(args.config) : undefined;
    this.endpoint = endpoint.kind === "in-stack" ? `${endpoint.host}:${endpoint.port}/${endpoint.database}` : "external (ballast:secretValues.database-url)";
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
