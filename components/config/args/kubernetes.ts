import type { UndocumentedArea } from "./placeholder";

export type KubernetesArgs = UndocumentedArea<"kubernetes">;
