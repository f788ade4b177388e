/** Ballast's Postgres and Redis from the compose file's datastore services. */
import { classifyImage } from "../../components/config";
import type { ComposeService } from "./compose-file";
import type { Importer } from "./importer";
import type { Json } from "./types";
import { commandOf, environmentOf, mentionsInterpolation } from "./values";
import { ownName } from "./workloads";

/** The pgvector release of Ballast's default Postgres image (components/config defaults), one PostgreSQL major per tag. */
const pgvectorRelease = "0.8.0";

/** Postgres major version of an image tag (`pg16`, `16-alpine`, `0.8.0-pg15`, `16.4`). */
export function postgresMajor(image: string): number | undefined {
  const tag = image.split("@")[0].split("/").pop()?.split(":")[1] ?? "";
  const pg = /pg(\d{2})/.exec(tag);
  if (pg) return Number(pg[1]);
  const plain = /^(\d{2})(\.|-|$)/.exec(tag);
  return plain ? Number(plain[1]) : undefined;
}

/** Reads the redis-server flags of a compose command into Ballast's redis keys. */
function redisFlags(importer: Importer, service: ComposeService, redis: Json): void {
  const argv = commandOf(service.spec.command);
  if (!argv) return;
  const line = argv.join(" ");
  const flag = (name: string) => new RegExp(`--${name}\\s+("[^"]*"|'[^']*'|\\S+)`).exec(line)?.[1]?.replace(/^["']|["']$/g, "");
  const maxmemory = flag("maxmemory");
  if (maxmemory && /^\d+(kb|mb|gb)$/i.test(maxmemory)) redis.maxmemory = maxmemory.toLowerCase();
  const policy = flag("maxmemory-policy");
  if (policy) redis.evictionPolicy = policy;
  const appendonly = flag("appendonly");
  if (appendonly) redis.appendonly = appendonly === "yes";
  const save = flag("save");
  if (save !== undefined) redis.save = save;
  const known = /^(redis-server|--maxmemory|--maxmemory-policy|--appendonly|--save|--requirepass)$/;
  const unknown = argv.filter((word, index) => word.startsWith("--") && !known.test(word) && index >= 0);
  if (/--requirepass/.test(line))
    importer.find(
      service,
      ["command"],
      `${service.name}: --requirepass`,
      "Ballast generates the Redis password (secret redis-password) and gives clients REDIS_URL",
    );
  if (unknown.length > 0)
    importer.find(
      service,
      ["command"],
      `${service.name}: ${unknown.join(", ")}`,
      "Redis settings other than maxmemory, maxmemory-policy, appendonly and save are not declarable",
    );
}

export function mapPostgres(importer: Importer, service: ComposeService | undefined): Json {
  if (!service) {
    const external: Json = { external: true };
    return external;
  }
  const postgres: Json = { ...ownName(service, importer, "postgres") };
  const image = String(service.spec.image ?? "");
  const major = postgresMajor(image);
  const pinnedPgvector = /(^|\/)pgvector\/pgvector:/.test(image) && classifyImage(image) === "exact";
  if (pinnedPgvector) postgres.image = image;
  else if (major) {
    postgres.image = `pgvector/pgvector:${pgvectorRelease}-pg${major}`;
    importer.find(
      service,
      ["image"],
      `${service.name}: image ${image}`,
      `${postgres.image} instead: the same PostgreSQL ${major}, pinned, with pgvector (Ballast's restore drill creates the vector extension)`,
      "changed",
    );
  } else {
    importer.find(
      service,
      ["image"],
      `${service.name}: image ${image}`,
      "no PostgreSQL major version in the tag: Ballast's default image is used",
    );
  }
  const env = Object.fromEntries(environmentOf(service.spec.environment).map((e) => [e.name, e]));
  const plain = (name: string) => (env[name]?.value && !mentionsInterpolation(env[name].value!) ? env[name].value : undefined);
  const database = plain("POSTGRES_DB");
  const user = plain("POSTGRES_USER");
  if (database) postgres.database = database;
  if (user) postgres.user = user;
  if (/pgvector/.test(image) || postgres.image) postgres.extensions = ["vector"];
  for (const entry of Object.values(env)) {
    if (entry.name === "POSTGRES_DB" || entry.name === "POSTGRES_USER") continue;
    importer.find(
      service,
      entry.path,
      `${service.name}: ${entry.name}`,
      entry.name === "POSTGRES_PASSWORD"
        ? "Ballast generates the password (secret postgres-password) and gives clients DATABASE_URL"
        : "Postgres server environment is not declarable",
    );
  }
  const argv = commandOf(service.spec.command) ?? [];
  const settings = argv.flatMap((word, i) =>
    word === "-c" && argv[i + 1] ? [argv[i + 1]] : word.startsWith("-c") && word.length > 2 ? [word.slice(2)] : [],
  );
  for (const setting of settings) {
    const [key, value] = setting.split("=");
    if (key === "max_connections" && Number(value) >= 10) postgres.maxConnections = Number(value);
    else
      importer.find(
        service,
        ["command"],
        `${service.name}: -c ${setting}`,
        "Postgres server settings other than max_connections are not declarable",
      );
  }
  const resources = importer.resources(service);
  if (resources) postgres.resources = resources;
  importer.datastoreVolumes(service, /^\/var\/lib\/postgresql(\/data)?\/?$/, "Postgres data");
  importer.publishedPorts(service, "Ballast's Postgres is private to the stack (a NetworkPolicy on Kubernetes)");
  importer.leftover(service, ["healthcheck"]);
  importer.map(
    service,
    "postgres",
    `postgres${postgres.database ? ` (database ${String(postgres.database)})` : ""}${postgres.image ? `, ${String(postgres.image)}` : ""}`,
  );
  return postgres;
}

export function mapRedis(importer: Importer, service: ComposeService | undefined): Json {
  if (!service) return { enabled: false };
  const redis: Json = { ...ownName(service, importer, "redis") };
  const image = String(service.spec.image ?? "");
  if (/(^|\/)redis:/.test(image) && classifyImage(image) === "exact") redis.image = image;
  else
    importer.find(
      service,
      ["image"],
      `${service.name}: image ${image}`,
      "Ballast's pinned redis:7.4.2-alpine instead (a moving or non-Redis tag)",
      "changed",
    );
  redisFlags(importer, service, redis);
  const resources = importer.resources(service);
  if (resources) redis.resources = resources;
  importer.datastoreVolumes(service, /^\/data\/?$/, "Redis data");
  importer.publishedPorts(service, "Ballast's Redis is private to the stack");
  for (const entry of environmentOf(service.spec.environment))
    importer.find(
      service,
      entry.path,
      `${service.name}: ${entry.name}`,
      "Redis server environment is not declarable (the password is generated: redis-password)",
    );
  importer.leftover(service, ["healthcheck"]);
  importer.map(service, "redis", "redis");
  return redis;
}
