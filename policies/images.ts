/**
 * Images pinned: by an exact version tag (not `latest`, not a moving tag such as `pg16` or
 * `7-alpine`), or by digest. The nyxcore runbook deploys
 * `traefik:latest`, `ollama/ollama:latest` and `ghcr.io/simplyliz/ckb:latest`: whatever the
 * registry holds on the day of a restart is what runs, and a rollback cannot name the old one.
 */
import { unpinnedReason } from "./lib/image-ref";
import { containerTitle } from "./lib/kubernetes";
import { resourcePolicy } from "./lib/policy";
import { asObject, isUnknown } from "./lib/values";
import type { ResourceView } from "./lib/view";
import { workloadsOf } from "./lib/workloads";

export type ImagesConfig = Record<string, never>;

function problem(where: string, image: string, reason: string): string {
  return `${where}: image "${image}" is not pinned (${reason}); pin an exact version tag (e.g. "traefik:v3.7.13") or a digest ("name@sha256:...") so restarts and rollbacks run a known image`;
}

export function checkImages(resource: ResourceView): string[] {
  const found = workloadsOf(resource);
  if (!found) return [];
  const messages: string[] = [];
  if (found.target === "kubernetes") {
    for (const container of found.workload.containers) {
      const image = container.props.image;
      // An image built in the same update is unknown during preview; `pulumi up` checks it.
      if (isUnknown(image)) continue;
      const where = containerTitle(found.workload, container);
      if (typeof image !== "string") {
        messages.push(`${where}: has no image`);
        continue;
      }
      const reason = unpinnedReason(image);
      if (reason) messages.push(problem(where, image, reason));
    }
    return messages;
  }
  for (const service of found.services) {
    const image = service.props.image;
    // As on Kubernetes: the digest of an image this update builds is unknown until the push.
    if (isUnknown(image)) continue;
    if (typeof image === "string") {
      const reason = unpinnedReason(image);
      if (reason) messages.push(problem(service.title, image, reason));
    } else if (asObject(service.props.build) || typeof service.props.build === "string") {
      messages.push(
        `${service.title}: builds an image without an "image:" name and tag, so Compose tags it "latest"; build it with @pulumi/docker and reference the pinned tag or digest`,
      );
    } else {
      messages.push(`${service.title}: has no image`);
    }
  }
  return messages;
}

export const imagesPinned = resourcePolicy<ImagesConfig>({
  name: "images-pinned",
  description:
    "Every container image (Kubernetes containers and initContainers, Compose services) is pinned by an exact version tag (not latest, not a moving tag such as pg16 or 7-alpine) or by a digest.",
  enforcementLevel: "mandatory",
  defaults: {},
  remediationSteps: 'Set the image in the stack config to an exact version tag ("redis:7.4.2-alpine") or a digest.',
  check: (resource) => checkImages(resource),
});
