/**
 * Whether an image reference is pinned: the rule the config (./images.ts) and the policy pack
 * (policies/lib/image-ref.ts) share. Dependency-free, so the policy pack can import it.
 *
 * A digest is pinned. A tag is an exact version when it carries a full `X.Y.Z` version
 * (`v3.7.13`, `0.8.0-pg16`, `7.4.2-alpine`), a commit (`sha-1a2b3c4`, 12+ hex digits) or a
 * date (`2026-02-24`, `20260224`); `latest` or no tag moves; anything else (`pg16`, `7-alpine`,
 * `16`, `stable`) is a moving tag the registry re-points to new builds.
 */

export type ImagePin = "digest" | "exact" | "moving" | "latest";

/** The tag of an image reference (after the last `/`), or undefined when it has none. */
export function imageTag(image: string): string | undefined {
  const withoutDigest = image.split("@")[0];
  const last = withoutDigest.split("/").pop() ?? "";
  return last.includes(":") ? last.slice(last.indexOf(":") + 1) : undefined;
}

export function classifyImage(image: string): ImagePin {
  if (/@sha256:[a-f0-9]{64}$/.test(image)) return "digest";
  const tag = imageTag(image);
  if (tag === undefined || tag === "" || tag === "latest") return "latest";
  const exactVersion = /(^|[^0-9.])v?\d+\.\d+\.\d+([^0-9.]|$)/.test(tag);
  const commit = /(^|[^0-9a-z])sha-[0-9a-f]{7,40}($|[^0-9a-f])/.test(tag) || /(^|[^0-9a-f])[0-9a-f]{12,64}($|[^0-9a-f])/.test(tag);
  const date = /(^|\D)(\d{4}-\d{2}-\d{2}|\d{8})(\D|$)/.test(tag);
  return exactVersion || commit || date ? "exact" : "moving";
}
