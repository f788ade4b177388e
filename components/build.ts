/**
 * Images built from a Dockerfile (`build:` on the app, a worker, a cron job or a service).
 *
 * A VPS or a cluster cannot pull an image that exists only on the operator's machine, so a
 * built image is pushed to the stack's registry (`ballast:registry`) and deployed by digest
 * (`repository@sha256:…`): immutable, and a rollback redeploys exactly the old bytes. Only the
 * local dev stack skips the push (its engine is the one that built the image).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { ImageBuild, PlatformConfig } from "./config";
import type { WorkloadSpec } from "./spec";

/** Secret holding the registry password or token (ballast:secretValues.registry-password). */
export const REGISTRY_PASSWORD_SECRET = "registry-password";

/** How a built image leaves the operator's machine. */
export interface BuildPlan {
  /** Push and deploy by digest (every target but the local engine). */
  push: boolean;
  /** Registry login for push (and for the target's pulls); absent: the operator's own `docker login`. */
  registry?: { server: string; username?: string; password?: pulumi.Output<string> };
  /** The image tag: the stack name. */
  tag: string;
}

export function buildPlan(config: PlatformConfig, supplied: Record<string, pulumi.Output<string>>): BuildPlan {
  const local = config.target === "compose" && config.compose.mode === "local";
  const registry = config.registry
    ? { server: config.registry.server, username: config.registry.username, password: supplied[REGISTRY_PASSWORD_SECRET] }
    : undefined;
  return { push: !local, registry, tag: config.stack };
}

/** The reference a render shows for an image that `pulumi up` builds and pushes. */
export function builtImageMarker(build: ImageBuild): string {
  return `${build.repository}:built-at-deploy`;
}

/** What a spec records of the build its image comes from (renders show the repository); nothing for a pinned image. */
export function builtFrom(build: ImageBuild | undefined): Pick<WorkloadSpec, "builtFrom"> {
  return build ? { builtFrom: { repository: build.repository, context: build.context, dockerfile: build.dockerfile } } : {};
}

/**
 * Declares the build (and push) of one image, parented to `parent`; returns what the
 * workload deploys: the pushed digest, or the local image name on the dev engine.
 */
export function buildImage(name: string, build: ImageBuild, plan: BuildPlan, parent: pulumi.Resource): pulumi.Output<string> {
  const image = new docker.Image(
    name,
    {
      imageName: `${build.repository}:${plan.tag}`,
      build: {
        context: build.context,
        dockerfile: `${build.context}/${build.dockerfile}`,
        platform: "linux/amd64",
        ...(build.target ? { target: build.target } : {}),
        ...(Object.keys(build.args).length > 0 ? { args: build.args } : {}),
      },
      skipPush: !plan.push,
      ...(plan.registry
        ? { registry: { server: plan.registry.server, username: plan.registry.username, password: plan.registry.password } }
        : {}),
    },
    { parent },
  );
  return plan.push ? image.repoDigest : image.imageName;
}
