/** Shapes several areas share. A shared shape's defaults belong to the key that holds it, so its fields point there. */

/** CPU and memory limits of a container; requests are half of them. */
export interface ResourcesArgs {
  /**
   * CPU limit in cores: `2`, `0.5`, or Kubernetes millicores `"500m"`.
   * @default the size of the key holding this (see its `@default`)
   */
  cpu?: number | string;
  /**
   * Memory limit: `"512Mi"`, `"4Gi"`.
   * @default the size of the key holding this (see its `@default`)
   */
  memory?: string;
}
