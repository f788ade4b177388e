import type { UndocumentedArea } from "./placeholder";

export type HostArgs = UndocumentedArea<"host">;
export type RegistryArgs = UndocumentedArea<"registry">;
