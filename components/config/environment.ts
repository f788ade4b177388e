/** The environments and targets a stack can name; a leaf module every area may import. */
export const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
export type Environment = (typeof ENVIRONMENTS)[number];

export const TARGETS = ["compose", "kubernetes"] as const;
export type TargetKind = (typeof TARGETS)[number];
