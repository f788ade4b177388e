/**
 * Container image references: `[registry[:port]/]path/name[:tag][@sha256:digest]`.
 * Whether one is pinned is the config's own rule (components/config/image-pin.ts), shared.
 */
import { classifyImage } from "../../components/config/image-pin";

export interface ImageRef {
  /** Everything before the tag/digest (`ghcr.io/acme/app`). */
  repository: string;
  /** Last path segment of the repository (`app`, `cadvisor`, `node-exporter`). */
  basename: string;
  tag?: string;
  digest?: string;
}

export function parseImageRef(image: string): ImageRef {
  const at = image.indexOf("@");
  const withoutDigest = at === -1 ? image : image.slice(0, at);
  const digest = at === -1 ? undefined : image.slice(at + 1);
  const slash = withoutDigest.lastIndexOf("/");
  const colon = withoutDigest.lastIndexOf(":");
  // A colon before the last slash belongs to a registry port (`localhost:5000/app`).
  const hasTag = colon > slash;
  const repository = hasTag ? withoutDigest.slice(0, colon) : withoutDigest;
  const tag = hasTag ? withoutDigest.slice(colon + 1) : undefined;
  return { repository, basename: repository.slice(repository.lastIndexOf("/") + 1), tag, digest };
}

/** Why an image reference is not pinned, or undefined when it is (an exact version tag or a sha256 digest). */
export function unpinnedReason(image: string): string | undefined {
  if (image.trim() === "") return "is empty";
  if (/\s/.test(image)) return "contains whitespace";
  const ref = parseImageRef(image);
  if (ref.digest !== undefined) {
    return /^sha256:[a-f0-9]{64}$/.test(ref.digest)
      ? undefined
      : `has a malformed digest "${ref.digest}" (expected sha256:<64 hex digits>)`;
  }
  if (ref.tag === undefined || ref.tag === "") return 'has no tag, which means "latest"';
  if (ref.tag.toLowerCase() === "latest") return 'uses the "latest" tag';
  if (classifyImage(image) === "moving") return `uses the moving tag "${ref.tag}", which the registry re-points to new builds`;
  return undefined;
}
