// Ballast entry point: config in, Platform built, outputs exported. Nothing else lives here.
import { readPlatformConfig } from "./components/config";
import { Platform } from "./components/platform";

const { config, secrets } = readPlatformConfig();
const platform = new Platform("ballast", { config, secrets });

export const target = config.target;
export const appUrl = platform.appUrl;
export const location = platform.location;
export const grafanaUrl = platform.grafanaUrl ?? "monitoring disabled";
export const workloads = platform.model.workloads.map((w) => w.name);
