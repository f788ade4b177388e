/**
 * The rendered pgvector SQL on a real Postgres 16 + pgvector (PGlite, WASM): the
 * extension, the HNSW index applied twice (idempotent), and a cosine-distance query
 * that the planner answers from the HNSW index.
 */
import { PGlite, type Extension } from "@electric-sql/pglite";
import { createRequire } from "node:module";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { PgvectorIndexConfig } from "../../components/config";
import { configFor } from "../fixtures/config";

const parsePgvectorIndex = (hnswIndex: Record<string, unknown>): PgvectorIndexConfig =>
  configFor({ postgres: { hnswIndex } }).postgres.hnswIndex as PgvectorIndexConfig;
import { orderedExtensions, renderPgvectorSql } from "../../components/backups/pgvector";

// The repository's tsconfig (moduleResolution "node") cannot see package subpath exports,
// so the pgvector extension of PGlite is loaded through Node's own resolver.
const { vector } = createRequire(__filename)("@electric-sql/pglite/vector") as { vector: Extension };

describe("renderPgvectorSql (text)", () => {
  it("creates vector first, then the other extensions, once each", () => {
    const sql = renderPgvectorSql(["pg_trgm", "vector", "pgcrypto", "pg_trgm"]);
    const creates = sql.split("\n").filter((l) => l.startsWith("CREATE EXTENSION"));
    expect(creates).toEqual([
      'CREATE EXTENSION IF NOT EXISTS "vector";',
      'CREATE EXTENSION IF NOT EXISTS "pg_trgm";',
      'CREATE EXTENSION IF NOT EXISTS "pgcrypto";',
    ]);
    expect(sql).not.toContain("hnsw");
  });

  it("renders the HNSW index with the configured parameters", () => {
    const sql = renderPgvectorSql(
      [],
      parsePgvectorIndex({ table: "public.workflow_insights", column: "embedding", m: 24, efConstruction: 100, opclass: "vector_l2_ops" }),
    );
    expect(sql).toContain(
      'CREATE INDEX IF NOT EXISTS "workflow_insights_embedding_hnsw_idx" ON "public"."workflow_insights" USING hnsw ("embedding" vector_l2_ops) WITH (m = 24, ef_construction = 100)',
    );
  });

  it("refuses names it could not quote safely", () => {
    expect(() => orderedExtensions(["vector", 'x"; drop']).join()).toThrow(/not an extension name/);
    expect(() => renderPgvectorSql([], { table: "t;x", column: "c", m: 16, efConstruction: 64, opclass: "vector_cosine_ops" })).toThrow(
      /not a safe Postgres identifier/,
    );
  });
});

describe("renderPgvectorSql on PGlite (Postgres 16 + pgvector)", () => {
  let db: PGlite;
  const hnsw = parsePgvectorIndex({ table: "items", column: "embedding" });
  const sql = renderPgvectorSql([], hnsw);

  beforeAll(async () => {
    db = new PGlite({ extensions: { vector } });
    await db.waitReady;
  });
  afterAll(async () => {
    await db.close();
  });

  it("runs before the table exists (database init): extension created, index deferred with a notice", async () => {
    const notices: string[] = [];
    await db.exec(sql, { onNotice: (n) => notices.push(n.message ?? "") });
    const ext = await db.query<{ extname: string }>("SELECT extname FROM pg_extension WHERE extname = 'vector'");
    expect(ext.rows).toHaveLength(1);
    expect(notices.join("\n")).toContain("table items does not exist yet");
  });

  it("creates the HNSW index with m=16, ef_construction=64 and is idempotent", async () => {
    await db.exec("CREATE TABLE items (id bigserial PRIMARY KEY, label text, embedding vector(3))");
    await db.exec(
      "INSERT INTO items (label, embedding) SELECT 'item ' || g, ('[' || sin(g) || ',' || cos(g) || ',' || (g % 7) || ']')::vector FROM generate_series(1, 300) g",
    );
    const notices: string[] = [];
    await db.exec(sql, { onNotice: (n) => notices.push(`${n.severity}: ${n.message}`) });
    await db.exec(sql, { onNotice: (n) => notices.push(`${n.severity}: ${n.message}`) });
    expect(notices.filter((n) => n.startsWith("WARNING"))).toEqual([]);
    const indexes = await db.query<{ indexname: string; indexdef: string }>(
      "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'items' AND indexdef LIKE '%hnsw%'",
    );
    expect(indexes.rows).toHaveLength(1);
    expect(indexes.rows[0].indexname).toBe("items_embedding_hnsw_idx");
    expect(indexes.rows[0].indexdef).toContain("USING hnsw (embedding vector_cosine_ops) WITH (m='16', ef_construction='64')");
  });

  it("serves a cosine-distance ORDER BY ... LIMIT from the HNSW index", async () => {
    await db.exec("SET enable_seqscan = off");
    const plan = await db.query<{ "QUERY PLAN": string }>(
      "EXPLAIN SELECT id, label FROM items ORDER BY embedding <=> '[0.5, 0.5, 3]' LIMIT 5",
    );
    const text = plan.rows.map((r) => r["QUERY PLAN"]).join("\n");
    expect(text).toContain("Index Scan using items_embedding_hnsw_idx on items");
    expect(text).toContain("Order By: (embedding <=> '[0.5,0.5,3]'::vector)");
    const result = await db.query<{ id: number }>("SELECT id FROM items ORDER BY embedding <=> '[0.5, 0.5, 3]' LIMIT 5");
    expect(result.rows).toHaveLength(5);
    await db.exec("RESET enable_seqscan");
  });

  it("warns, without rebuilding, when the index exists with other parameters", async () => {
    await db.exec("DROP INDEX items_embedding_hnsw_idx");
    await db.exec(
      "CREATE INDEX items_embedding_hnsw_idx ON items USING hnsw (embedding vector_cosine_ops) WITH (m = 8, ef_construction = 32)",
    );
    const notices: string[] = [];
    await db.exec(sql, { onNotice: (n) => notices.push(`${n.severity}: ${n.message}`) });
    expect(notices.join("\n")).toMatch(
      /WARNING: ballast: index items_embedding_hnsw_idx exists as hnsw with options \{m=8,ef_construction=32\}/,
    );
    const options = await db.query<{ reloptions: string[] }>("SELECT reloptions FROM pg_class WHERE relname = 'items_embedding_hnsw_idx'");
    expect(options.rows[0].reloptions).toEqual(["m=8", "ef_construction=32"]);
  });
});
