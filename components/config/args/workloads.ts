import type { UndocumentedArea } from "./placeholder";

export type AppArgs = UndocumentedArea<"app">;
export type WorkerArgs = NonNullable<UndocumentedArea<"workers">>[number];
export type CronJobArgs = NonNullable<UndocumentedArea<"cronJobs">>[number];
export type ExtraServiceArgs = NonNullable<UndocumentedArea<"services">>[number];
