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

/**
 * Entrypoint wrapper: starts Postgres through the image's own entrypoint, then sets the
 * application role's password to the current secret. The data directory keeps the password
 * it was initialised with, so without this a rotated `postgres-password` would lock every
 * client out. The password is read with psql's \getenv (never on a command line) over the
 * container-private Unix socket (local connections are trusted; TCP requires scram-sha-256).
 */
export const postgresEntrypoint = `#!/bin/sh
# Rendered by Ballast: start Postgres, then apply the current password (secret rotation).
set -eu
docker-entrypoint.sh "$@" &
postgres_pid=$!
stopping=0
trap 'stopping=1; kill -TERM "$postgres_pid" 2>/dev/null || true' TERM INT
attempts=0
until pg_isready -q -h /var/run/postgresql -U "$POSTGRES_USER" -d "$POSTGRES_DB"; do
  attempts=$((attempts + 1))
  if [ "$attempts" -ge 600 ] || ! kill -0 "$postgres_pid" 2>/dev/null; then
    echo "ballast: postgres did not become ready; password not re-applied" >&2
    break
  fi
  sleep 1
done
# The image's first start runs init scripts on a temporary server: wait for the real one.
sleep 2
if pg_isready -q -h /var/run/postgresql -U "$POSTGRES_USER" -d "$POSTGRES_DB"; then
  psql -v ON_ERROR_STOP=1 -q -h /var/run/postgresql -U "$POSTGRES_USER" -d "$POSTGRES_DB" <<'SQL' && echo "ballast: application role password is current"
\\getenv app_user POSTGRES_USER
\\getenv app_password POSTGRES_PASSWORD
ALTER ROLE :"app_user" WITH PASSWORD :'app_password';
SQL
fi
status=0
wait "$postgres_pid" || status=$?
# A signal interrupts the first wait: wait again for Postgres's own exit status.
if [ "$stopping" = 1 ]; then
  status=0
  wait "$postgres_pid" || status=$?
fi
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
    ports: [{ name: "postgres", port: POSTGRES_PORT }],
    env: {
      POSTGRES_DB: pg.database,
      POSTGRES_USER: pg.user,
      // A sub-directory: a fresh volume's lost+found must not sit in the data directory.
      PGDATA: "/var/lib/postgresql/data/pgdata",
      // Local (Unix socket, private to the container) is trusted so the entrypoint can re-apply a rotated password.
      POSTGRES_INITDB_ARGS: "--auth-host=scram-sha-256 --auth-local=trust",
      POSTGRES_HOST_AUTH_METHOD: "scram-sha-256",
    },
    secretEnv: { POSTGRES_PASSWORD: "postgres-password" },
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

export class Postgres extends pulumi.ComponentResource {
  /** Absent with an external database (`ballast:postgres.external`). */
  readonly spec?: WorkloadSpec;
  /** Connection endpoint without credentials (those stay in the `database-url` secret). */
  readonly endpoint: string;

  constructor(name: string, args: { config: PlatformConfig }, opts?: pulumi.ComponentResourceOptions) {
    super("ballast:postgres:Postgres", name, {}, opts);
    const endpoint = stackEndpoints(args.config).postgres;
    this.spec = endpoint.kind === "in-stack" ? postgresSpec(args.config) : undefined;
    this.endpoint = endpoint.kind === "in-stack" ? `${endpoint.host}:${endpoint.port}/${endpoint.database}` : "external (ballast:secretValues.database-url)";
    this.registerOutputs({ endpoint: this.endpoint });
  }
}
