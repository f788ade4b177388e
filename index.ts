// Ballast entry point: the stack config as Platform args, the Platform built, outputs exported. Nothing else lives here.
import { platformArgsFromStackConfig } from "./components/config";
import { Platform } from "./components/platform";

const platform = new Platform("ballast", platformArgsFromStackConfig());

export const target = platform.config.target;
export const appUrl = platform.appUrl;
export const location = platform.location;
export const grafanaUrl = platform.grafanaUrl ?? "monitoring disabled";
export const workloads = platform.model.workloads.map((w) => w.name);
