import type { UndocumentedArea } from "./placeholder";

export type PostgresArgs = UndocumentedArea<"postgres">;
export type RedisArgs = UndocumentedArea<"redis">;
