import type { UndocumentedArea } from "./placeholder";

export type ProxyArgs = UndocumentedArea<"proxy">;
