/**
 * Temporary: the undocumented shape of an area, until its documented interface replaces it.
 * Deleted once every area file declares its own interfaces.
 */
import type { z } from "zod";
import type { platformInputSchema } from "../schema";

type DeepPartial<T> = T extends (infer U)[] ? DeepPartial<U>[] : T extends object ? { [K in keyof T]?: DeepPartial<T[K]> } : T;

export type UndocumentedArea<K extends keyof z.input<typeof platformInputSchema>> = DeepPartial<z.input<typeof platformInputSchema>[K]>;
