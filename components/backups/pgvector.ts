/**
 * The pgvector SQL Ballast applies to the application database: the extensions
 * (`vector` always first) and, when configured, the HNSW index of the nyxcore runbook
 * (`m = 16, ef_construction = 64, vector_cosine_ops`).
 *
 * Everything is idempotent, so the same file serves as the Postgres init script
 * (first start: the table usually does not exist yet, the index step only notes it)
 * and as the "ensure" step run after every migration (`pgvectorEnsureWorkload`).
 * A pure renderer: config in, SQL text out.
 */
import { defaultIndexName, type PgvectorIndexConfig } from "../config";

const EXTENSION = /^[a-z_][a-z0-9_]*$/;
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** `"name"` (only for names already validated against IDENTIFIER). */
function quoteIdent(name: string): string {
  if (!IDENTIFIER.test(name)) throw new Error(`not a safe Postgres identifier: ${JSON.stringify(name)}`);
  return `"${name}"`;
}

/** `public.leads` -> `"public"."leads"`; `leads` -> `"public"."leads"`. */
function qualifiedTable(table: string): { schema: string; table: string; sql: string } {
  const [schema, name] = table.includes(".") ? table.split(".", 2) : ["public", table];
  return { schema, table: name, sql: `${quoteIdent(schema)}.${quoteIdent(name)}` };
}

function literal(text: string): string {
  return `'${text.replace(/'/g, "''")}'`;
}

/** `vector` first, then the others in order, without duplicates. */
export function orderedExtensions(extensions: readonly string[]): string[] {
  const ordered = ["vector", ...extensions.filter((e) => e !== "vector")];
  for (const extension of ordered) {
    if (!EXTENSION.test(extension)) throw new Error(`not an extension name: ${JSON.stringify(extension)}`);
  }
  return [...new Set(ordered)];
}

/**
 * The extensions the database is declared with (`ballast:postgres.extensions`), `vector` first when
 * it is one of them: what the Postgres init creates, so what a restore creates before pg_restore.
 * A database declared without `vector` (a server without pgvector) must not need it to be restored.
 */
export function declaredExtensions(extensions: readonly string[]): string[] {
  return orderedExtensions(extensions).filter((extension) => extensions.includes(extension));
}

export function renderPgvectorSql(extensions: readonly string[], hnsw?: PgvectorIndexConfig): string {
  const lines = [
    "-- Rendered by Ballast (components/backups/pgvector.ts). Idempotent: runs at database init",
    "-- and again after every migration; extensions come first so restores and migrations find them.",
    ...orderedExtensions(extensions).map((e) => `CREATE EXTENSION IF NOT EXISTS ${quoteIdent(e)};`),
  ];
  if (hnsw) lines.push("", ...renderHnswIndex(hnsw));
  return `${lines.join("\n")}\n`;
}

/**
 * The HNSW index, created only when its table exists (migrations create tables after
 * the init script ran). An existing index with other parameters is reported, not
 * rebuilt: rebuilding a large HNSW index locks writes, so it is an operator's decision.
 */
function renderHnswIndex(hnsw: PgvectorIndexConfig): string[] {
  const table = qualifiedTable(hnsw.table);
  const index = hnsw.name ?? defaultIndexName(hnsw.table, hnsw.column);
  const qualifiedIndex = `${quoteIdent(table.schema)}.${quoteIdent(index)}`;
  const create =
    `CREATE INDEX IF NOT EXISTS ${quoteIdent(index)} ON ${table.sql} ` +
    `USING hnsw (${quoteIdent(hnsw.column)} ${hnsw.opclass}) WITH (m = ${hnsw.m}, ef_construction = ${hnsw.efConstruction})`;
  const expectedOptions = `ARRAY['m=${hnsw.m}', 'ef_construction=${hnsw.efConstruction}']`;
  return [
    `-- HNSW index ${index} on ${hnsw.table}(${hnsw.column}) ${hnsw.opclass}, m = ${hnsw.m}, ef_construction = ${hnsw.efConstruction}.`,
    "-- On a large existing table, build it first by hand WITH CONCURRENTLY (same name); this step then keeps it.",
    "DO $ballast$",
    "DECLARE",
    "  existing record;",
    "BEGIN",
    `  IF to_regclass(${literal(table.sql)}) IS NULL THEN`,
    `    RAISE NOTICE 'ballast: table % does not exist yet; index % will be created by the next ensure run', ${literal(hnsw.table)}, ${literal(index)};`,
    "    RETURN;",
    "  END IF;",
    `  ${create};`,
    "  SELECT c.reloptions, i.indisvalid, am.amname INTO existing",
    "    FROM pg_class c JOIN pg_index i ON i.indexrelid = c.oid JOIN pg_am am ON am.oid = c.relam",
    `   WHERE c.oid = to_regclass(${literal(qualifiedIndex)});`,
    "  IF NOT existing.indisvalid THEN",
    `    RAISE WARNING 'ballast: index % is INVALID (an interrupted CREATE INDEX CONCURRENTLY?): drop it and run this step again', ${literal(index)};`,
    `  ELSIF existing.amname <> 'hnsw' OR NOT coalesce(existing.reloptions, ARRAY[]::text[]) @> ${expectedOptions} THEN`,
    `    RAISE WARNING 'ballast: index % exists as % with options %, not hnsw with %: drop it to rebuild with the configured parameters', ${literal(index)}, existing.amname, existing.reloptions, ${expectedOptions};`,
    "  END IF;",
    "END",
    "$ballast$;",
  ];
}
