import type { UndocumentedArea } from "./placeholder";

export type BackupsArgs = UndocumentedArea<"backups">;
