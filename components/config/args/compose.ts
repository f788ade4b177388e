import type { UndocumentedArea } from "./placeholder";

export type ComposeArgs = UndocumentedArea<"compose">;
