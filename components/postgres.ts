/**
 * Postgres with pgvector: extensions created at init (vector first, before any table
 * that uses it), the stack's init SQL (e.g. RLS policies), scram-sha-256 auth,
 * `pg_isready` health, and retained persistent storage.
 */
import type { PlatformConfig } from "./config";
import { POSTGRES_PORT, stackEndpoints } from "./names";
import { resourceSpec } from "./resources";
import { enabledParts } from "./observability/parts";
import { healthCheck, runAs, secretEnvName, workload, type SecretName, type WorkloadSpec } from "./spec";

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

/** Where Postgres reads its roles' passwords: live secret files, one per role (see `postgresSpec`). */
export const POSTGRES_PASSWORD_DIR = "/run/ballast/live";
export const POSTGRES_PASSWORD_FILE = `${POSTGRES_PASSWORD_DIR}/postgres-password`;
/** The script that sets a role's password to the one on stdin (on the image's PATH). */
export const POSTGRES_SET_PASSWORD = "/usr/local/bin/ballast-postgres-rotate";
/** The roles script: an init script (so `ballast:postgres.initSql` may name the roles) that the entrypoint runs again at every start. */
export const POSTGRES_ROLES_SQL = "/docker-entrypoint-initdb.d/05-ballast-roles.sql";
/** Written by the entrypoint once the roles and their passwords are current; the health check waits for it. */
export const POSTGRES_ROLES_MARKER = "/var/run/postgresql/ballast-roles-current";

/** The login roles of the in-stack database besides the superuser, by what they are for. */
export type PostgresRoleKind = "app" | "monitor" | "backup";
/** Each role's own generated password (a built-in secret that `ballast:rotation` rotates). */
export const POSTGRES_ROLE_SECRETS: Record<PostgresRoleKind, SecretName> = {
  app: "postgres-app-password",
  monitor: "postgres-monitor-password",
  backup: "postgres-backup-password",
};

export interface PostgresRole {
  kind: PostgresRoleKind;
  /** Role name (`ballast:postgres.roles.<kind>`). */
  name: string;
  secret: SecretName;
}

/**
 * Pure: the roles the stack's clients log in as. The app role always (DATABASE_URL); the
 * monitoring role when the postgres exporter runs; the backup role when backups are on.
 */
export function postgresRoles(config: PlatformConfig): PostgresRole[] {
  const kinds: PostgresRoleKind[] = [
    "app",
    ...(enabledParts(config.monitoring, config.target).postgresExporter ? (["monitor"] as const) : []),
    ...(config.backups.enabled ? (["backup"] as const) : []),
  ];
  return kinds.map((kind) => ({ kind, name: config.postgres.roles[kind], secret: POSTGRES_ROLE_SECRETS[kind] }));
}

/** What each role may do, besides LOGIN: never superuser, never creating databases or roles, never replication. */
const roleAttributes: Record<PostgresRoleKind, string> = {
  app: "NOBYPASSRLS",
  monitor: "NOBYPASSRLS",
  // pg_dump refuses to dump a table with row-level security policies unless it may bypass them.
  backup: "BYPASSRLS",
};
/** Built-in roles granted: pg_monitor reads every session's statistics; pg_read_all_data reads every table (PostgreSQL 14+). */
const roleGrants: Record<PostgresRoleKind, string[]> = { app: [], monitor: ["pg_monitor"], backup: ["pg_read_all_data"] };
/** Built-in roles that reach the server's files or programs: never held by a client role. */
const serverAccessRoles = ["pg_execute_server_program", "pg_read_server_files", "pg_write_server_files"];

const ident = (name: string) => `"${name}"`;
const literal = (text: string) => `'${text.replace(/'/g, "''")}'`;

/**
 * Pure: the SQL that makes the roles what they must be, run by the superuser at initialisation
 * (before `ballast:postgres.initSql`) and again at every start, so an existing data directory
 * is upgraded in place. Idempotent. It creates missing roles and resets their attributes; gives
 * the app role the database and every schema, table, view, sequence, routine and type the
 * superuser owns there (an existing stack's tables, what initSql created), never an extension's
 * objects, the system's, or Ballast's `ballast` schema (backup records, which the app must not
 * forge); lets the backup role write and the monitoring role read `ballast.backup_runs`.
 * Passwords are not here: the entrypoint sets them from their files (`ballast-postgres-rotate`).
 */
export function postgresRolesSql(database: string, roles: PostgresRole[]): string {
  const app = roles.find((role) => role.kind === "app");
  if (!app) throw new Error("the roles script needs the app role");
  const monitor = roles.find((role) => role.kind === "monitor");
  const backup = roles.find((role) => role.kind === "backup");
  const lines = [
    "-- Rendered by Ballast (components/postgres.ts): the stack's roles, run by the superuser at",
    "-- initialisation and at every start. Idempotent; passwords are set from their files afterwards.",
    "\\set ON_ERROR_STOP on",
    "SET client_min_messages = error;",
  ];
  for (const role of roles) {
    lines.push(
      "",
      `-- ${role.kind} role (${role.secret})`,
      `SELECT 'CREATE ROLE ${ident(role.name)}' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = ${literal(role.name)})\\gexec`,
      `ALTER ROLE ${ident(role.name)} WITH LOGIN INHERIT NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION ${roleAttributes[role.kind]};`,
      `REVOKE ${serverAccessRoles.join(", ")} FROM ${ident(role.name)};`,
      ...roleGrants[role.kind].map((granted) => `GRANT ${granted} TO ${ident(role.name)};`),
    );
  }
  lines.push(
    "",
    "-- The app role owns the database; Ballast's own schema stays the superuser's.",
    `ALTER DATABASE ${ident(database)} OWNER TO ${ident(app.name)};`,
    "CREATE SCHEMA IF NOT EXISTS ballast;",
    "REVOKE ALL ON SCHEMA ballast FROM PUBLIC;",
  );
  if (backup) {
    const b = ident(backup.name);
    lines.push(
      `GRANT USAGE, CREATE ON SCHEMA ballast TO ${b};`,
      `GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA ballast TO ${b};`,
      `GRANT USAGE ON ALL SEQUENCES IN SCHEMA ballast TO ${b};`,
      `ALTER DEFAULT PRIVILEGES IN SCHEMA ballast GRANT SELECT, INSERT ON TABLES TO ${b};`,
      `ALTER DEFAULT PRIVILEGES IN SCHEMA ballast GRANT USAGE ON SEQUENCES TO ${b};`,
    );
  }
  if (monitor) {
    const m = ident(monitor.name);
    lines.push(
      `GRANT USAGE ON SCHEMA ballast TO ${m};`,
      `GRANT SELECT ON ALL TABLES IN SCHEMA ballast TO ${m};`,
      `ALTER DEFAULT PRIVILEGES IN SCHEMA ballast GRANT SELECT ON TABLES TO ${m};`,
      ...(backup ? [`ALTER DEFAULT PRIVILEGES FOR ROLE ${ident(backup.name)} IN SCHEMA ballast GRANT SELECT ON TABLES TO ${m};`] : []),
    );
  }
  lines.push(
    "",
    "-- Hand the superuser's objects in this database to the app role: not an extension's, not the",
    "-- system's, not Ballast's schema. Indexes, TOAST tables and sequences owned by a column follow their table.",
    "DO $ballast$",
    "DECLARE",
    `  app constant name := ${literal(app.name)};`,
    "  me constant oid := (SELECT oid FROM pg_roles WHERE rolname = current_user);",
    "  item record;",
    "BEGIN",
    "  FOR item IN",
    "    SELECT n.nspname FROM pg_namespace n",
    "     WHERE n.nspowner = me AND n.nspname <> 'ballast' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'",
    "       AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_namespace'::regclass AND d.objid = n.oid AND d.deptype = 'e')",
    "  LOOP",
    "    EXECUTE format('ALTER SCHEMA %I OWNER TO %I', item.nspname, app);",
    "  END LOOP;",
    "  FOR item IN",
    "    SELECT c.oid::regclass AS relation,",
    "           CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind",
    "      FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace",
    "     WHERE c.relowner = me AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')",
    "       AND n.nspname <> 'ballast' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'",
    "       AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid",
    "                          AND (d.deptype = 'e' OR (c.relkind = 'S' AND d.deptype IN ('a', 'i'))))",
    "  LOOP",
    "    EXECUTE format('ALTER %s %s OWNER TO %I', item.kind, item.relation, app);",
    "  END LOOP;",
    "  FOR item IN",
    "    SELECT p.oid::regprocedure AS routine FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace",
    "     WHERE p.proowner = me AND p.prokind IN ('f', 'p')",
    "       AND n.nspname <> 'ballast' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'",
    "       AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_proc'::regclass AND d.objid = p.oid AND d.deptype = 'e')",
    "  LOOP",
    "    EXECUTE format('ALTER ROUTINE %s OWNER TO %I', item.routine, app);",
    "  END LOOP;",
    "  FOR item IN",
    "    SELECT t.oid::regtype AS type FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace",
    "     WHERE t.typowner = me",
    "       AND (t.typtype IN ('d', 'e', 'r') OR (t.typtype = 'c' AND EXISTS (SELECT FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind = 'c')))",
    "       AND n.nspname <> 'ballast' AND n.nspname <> 'information_schema' AND n.nspname NOT LIKE 'pg\\_%'",
    "       AND NOT EXISTS (SELECT FROM pg_depend d WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.deptype = 'e')",
    "  LOOP",
    "    EXECUTE format('ALTER TYPE %s OWNER TO %I', item.type, app);",
    "  END LOOP;",
    "END",
    "$ballast$;",
  );
  return `${lines.join("\n")}\n`;
}

/**
 * Sets a role's password (the first argument; the superuser when none) to the value on stdin,
 * over the container-private Unix socket (local connections are trusted; TCP requires
 * scram-sha-256). The password travels as an environment variable into psql's \getenv, never on
 * a command line, and is never printed. The one SQL statement a rotation runs:
 * `ALTER ROLE <role> WITH PASSWORD <new>`. Existing sessions keep working; new ones need the new password.
 */
export const postgresSetPassword = `#!/bin/sh
# Rendered by Ballast: set a role's password (default: the superuser's) to the one on stdin (secret rotation).
set -eu
BALLAST_ROLE=\${1:-$POSTGRES_USER}
BALLAST_NEW_PASSWORD=""
IFS= read -r BALLAST_NEW_PASSWORD || true
if [ -z "$BALLAST_NEW_PASSWORD" ]; then
  echo "ballast: no password on stdin; the password of role $BALLAST_ROLE is unchanged" >&2
  exit 2
fi
export BALLAST_ROLE BALLAST_NEW_PASSWORD
psql -X -v ON_ERROR_STOP=1 -q -h /var/run/postgresql -U "$POSTGRES_USER" -d "$POSTGRES_DB" <<'SQL'
\\getenv role BALLAST_ROLE
\\getenv role_password BALLAST_NEW_PASSWORD
ALTER ROLE :"role" WITH PASSWORD :'role_password';
SQL
echo "ballast: the password of role $BALLAST_ROLE is current"
`;

/**
 * Entrypoint wrapper: starts Postgres through the image's own entrypoint, then keeps the roles
 * and their passwords equal to what the stack declares. The data directory keeps what it was
 * initialised with, so without this a rotated password would lock every client out and an
 * existing stack would never get its roles. Applied once Postgres is up and again whenever a
 * password file or the roles script changes: the superuser's password (\`POSTGRES_PASSWORD_FILE\`),
 * the roles script (\`BALLAST_ROLES_SQL\`), then each role's password
 * (\`BALLAST_ROLE_PASSWORDS\`: \`role=file\` words). On Kubernetes the Secret is mounted as a
 * directory the kubelet updates in place, so a rotation reaches the running server without a
 * restart (a gate Job waits for it before the clients roll); on Compose the release applies it
 * with \`docker compose exec\` before the clients roll. Once all is applied it writes
 * \`POSTGRES_ROLES_MARKER\`, which the health check requires: no client starts before its role exists.
 */
export const postgresEntrypoint = `#!/bin/sh
# Rendered by Ballast: start Postgres, then keep its roles and their passwords current.
set -eu
password_file=\${POSTGRES_PASSWORD_FILE:?POSTGRES_PASSWORD_FILE is not set}
roles_sql=\${BALLAST_ROLES_SQL:-}
role_passwords=\${BALLAST_ROLE_PASSWORDS:-}
marker=${POSTGRES_ROLES_MARKER}
rm -f "$marker"
docker-entrypoint.sh "$@" &
postgres_pid=$!

# One checksum of every input (the values stay in the pipe); fails while a file is unreadable.
fingerprint() {
  set -- "$password_file" \${roles_sql:+"$roles_sql"}
  for pair in $role_passwords; do set -- "$@" "\${pair#*=}"; done
  for file in "$@"; do [ -r "$file" ] || return 1; done
  cat "$@" | cksum
}

# The superuser's password, the roles, then each role's password; stops at the first failure.
apply_roles() {
  ballast-postgres-rotate <"$password_file" || return 1
  if [ -n "$roles_sql" ]; then
    psql -X -q -h /var/run/postgresql -U "$POSTGRES_USER" -d "$POSTGRES_DB" -f "$roles_sql" || return 1
  fi
  for pair in $role_passwords; do
    ballast-postgres-rotate "\${pair%%=*}" <"\${pair#*=}" || return 1
  done
}

# Applies everything when an input differs from what was last applied; polls every 5 s.
keep_roles_current() {
  applied=""
  attempts=0
  until pg_isready -q -h /var/run/postgresql -U "$POSTGRES_USER" -d "$POSTGRES_DB"; do
    attempts=$((attempts + 1))
    if [ "$attempts" -ge 600 ]; then
      echo "ballast: postgres did not become ready; roles and passwords not applied" >&2
      return 0
    fi
    sleep 1
  done
  # The image's first start runs init scripts on a temporary server: give the real one time to come up.
  sleep 2
  while :; do
    current=$(fingerprint 2>/dev/null) || current=""
    if [ -n "$current" ] && [ "$current" != "$applied" ] && pg_isready -q -h /var/run/postgresql -U "$POSTGRES_USER" -d "$POSTGRES_DB"; then
      if apply_roles; then
        applied=$current
        : >"$marker"
        echo "ballast: roles and passwords are current"
      fi
    fi
    sleep 5
  done
}
keep_roles_current &
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

/** Where a role's password file is mounted: beside the superuser's, named after its secret (one live directory). */
function rolePasswordFile(role: PostgresRole): string {
  return `${POSTGRES_PASSWORD_DIR}/${role.secret}`;
}

/** Pure: the Postgres workload spec. */
export function postgresSpec(config: PlatformConfig): WorkloadSpec {
  const pg = config.postgres;
  const roles = postgresRoles(config);
  const secrets = [
    { secret: "postgres-password", file: POSTGRES_PASSWORD_FILE, role: undefined as string | undefined },
    ...roles.map((role) => ({ secret: role.secret, file: rolePasswordFile(role), role: role.name })),
  ];
  const ready = ["pg_isready", "-U", pg.user, "-d", pg.database, "-h", "127.0.0.1"];
  return workload({
    name: pg.name,
    component: "postgres",
    role: "stateful",
    description: `PostgreSQL (${pg.image}) with ${pg.extensions.join(", ") || "no extensions"}; roles ${roles.map((role) => `${role.name} (${role.kind})`).join(", ")}`,
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
      // Local (Unix socket, private to the container) is trusted so the entrypoint can re-apply roles and rotated passwords.
      POSTGRES_INITDB_ARGS: "--auth-host=scram-sha-256 --auth-local=trust",
      POSTGRES_HOST_AUTH_METHOD: "scram-sha-256",
      POSTGRES_PASSWORD_FILE: POSTGRES_PASSWORD_FILE,
      BALLAST_ROLES_SQL: POSTGRES_ROLES_SQL,
      BALLAST_ROLE_PASSWORDS: roles.map((role) => `${role.name}=${rolePasswordFile(role)}`).join(" "),
    },
    // Files, not variables: the running server takes a rotated password from them without a restart.
    secretFiles: secrets.map(({ secret, file }) => ({ secret, mountPath: file })),
    liveSecrets: secrets.map(({ secret, role }) => ({ secret, apply: role ? [POSTGRES_SET_PASSWORD, role] : [POSTGRES_SET_PASSWORD] })),
    // Ready once the roles are current, so no client starts before its role exists; liveness asks only whether the server answers.
    health: healthCheck({ exec: ["sh", "-c", `${ready.join(" ")} && test -e ${POSTGRES_ROLES_MARKER}`] }, { startPeriodSeconds: 60 }),
    liveness: { exec: ready },
    resources: resourceSpec(pg.resources),
    sizedBy: "ballast:postgres.resources",
    volumes: [
      { kind: "persistent", name: "postgres-data", mountPath: "/var/lib/postgresql/data", sizeGiB: pg.storageGiB },
      { kind: "scratch", name: "run", mountPath: "/var/run/postgresql", sizeMiB: 16 },
      { kind: "scratch", name: "tmp", mountPath: "/tmp", sizeMiB: 256 },
    ],
    configFiles: [
      {
        name: "ballast-postgres-entrypoint",
        mountPath: "/usr/local/bin/ballast-postgres-entrypoint",
        content: postgresEntrypoint,
        mode: 0o555,
      },
      { name: "ballast-postgres-rotate", mountPath: POSTGRES_SET_PASSWORD, content: postgresSetPassword, mode: 0o555 },
      ...postgresInitSql(pg.extensions, pg.initSql).map((file) => ({
        name: file.name,
        mountPath: `/docker-entrypoint-initdb.d/${file.name}`,
        content: file.content,
      })),
      { name: "05-ballast-roles.sql", mountPath: POSTGRES_ROLES_SQL, content: postgresRolesSql(pg.database, roles) },
    ],
    network: { fromProxy: false, allowFrom: [], egressInternet: false },
    stopGracePeriodSeconds: 120,
    security: runAs(999, 999, 999),
  });
}

/** Seconds the Kubernetes gate Job waits for Postgres to take a rotated password (kubelet sync plus the 5 s poll). */
export const PASSWORD_CHECK_TIMEOUT_SECONDS = 300;

/** A login the gate Job tries: the role, and the variable holding the password its clients have now. */
export interface PasswordCheckLogin {
  user: string;
  passwordEnv: string;
  /** The secret's name, for the messages. */
  secret: SecretName;
}

/**
 * Shell (host, port and database in libpq variables): for each login, retries a TCP login until
 * Postgres accepts its current password, or `timeoutSeconds` pass (in all).
 */
export function passwordCheckScript(timeoutSeconds: number, logins: PasswordCheckLogin[]): string {
  return [
    "set -u",
    `deadline=$(( $(date +%s) + ${timeoutSeconds} ))`,
    "check() {",
    '  until out=$(PGUSER="$1" PGPASSWORD="$2" psql -tAc \'select 1\' 2>&1); do',
    `    if [ "$(date +%s)" -ge "$deadline" ]; then echo "ballast: Postgres did not accept the current $3 within ${timeoutSeconds}s: $out" >&2; exit 1; fi`,
    "    sleep 3",
    "  done",
    "}",
    ...logins.map((login) => `check ${login.user} "$${login.passwordEnv}" ${login.secret}`),
    `echo "ballast: Postgres accepts the current ${logins.map((login) => login.secret).join(", ")}"`,
  ].join("\n");
}

/**
 * The gate between a rotated password and its clients: connects over TCP as the superuser and
 * each role with their current secrets until Postgres accepts them. On Kubernetes the running
 * server takes new passwords from its Secret volume asynchronously (the kubelet refreshes it
 * within about a minute); Deployments and CronJobs start only after the stack's Jobs, so none of
 * the clients switches before Postgres knows their new password. Its revision stamp
 * (`postgres-app-password=<n>`, ...) makes it a new Job on each rotation.
 */
export function postgresPasswordCheckSpec(config: PlatformConfig): WorkloadSpec {
  const pg = config.postgres;
  const endpoint = stackEndpoints(config).postgres;
  if (endpoint.kind !== "in-stack") throw new Error("the password check is for the stack's own Postgres");
  const timeout = PASSWORD_CHECK_TIMEOUT_SECONDS;
  const logins: PasswordCheckLogin[] = [
    { user: endpoint.user, passwordEnv: secretEnvName("postgres-password"), secret: "postgres-password" },
    ...postgresRoles(config).map((role) => ({ user: role.name, passwordEnv: secretEnvName(role.secret), secret: role.secret })),
  ];
  return workload({
    name: "postgres-password-check",
    component: "postgres",
    role: "job",
    description: "Gate: Postgres accepts the current passwords of its roles before their clients restart with them",
    image: pg.image,
    command: ["/bin/sh", "-c", passwordCheckScript(timeout, logins)],
    env: { PGHOST: endpoint.host, PGPORT: String(endpoint.port), PGDATABASE: endpoint.database, PGCONNECT_TIMEOUT: "5" },
    secretEnv: Object.fromEntries(logins.map((login) => [login.passwordEnv, login.secret])),
    resources: { requests: { cpu: 0.05, memoryMiB: 32 }, limits: { cpu: 0.2, memoryMiB: 64 } },
    dependsOn: [pg.name],
    jobTimeoutSeconds: timeout + 60,
    network: { fromProxy: false, allowFrom: [], egressInternet: false },
    security: runAs(999, 999),
  });
}

/**
 * Pure: the in-stack database's workloads: Postgres itself and, on Kubernetes, the gate Job between
 * a rotated password and its clients (Compose applies a rotated password synchronously before the
 * clients roll: deploy.sh). None with an external database (`ballast:postgres.external`).
 */
export function postgresWorkloads(config: PlatformConfig): WorkloadSpec[] {
  if (stackEndpoints(config).postgres.kind !== "in-stack") return [];
  return [postgresSpec(config), ...(config.target === "kubernetes" ? [postgresPasswordCheckSpec(config)] : [])];
}
