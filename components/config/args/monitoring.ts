import type { UndocumentedArea } from "./placeholder";

export type MonitoringArgs = UndocumentedArea<"monitoring">;
